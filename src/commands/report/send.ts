import {Flags} from '@oclif/core'
import {MauCommand} from '../../core/command.js'
import {withNamedLock} from '../../core/db.js'
import {configError, ExitCode} from '../../core/errors.js'
import * as flag from '../../core/flags.js'
import {currentMonth} from '../../core/month.js'
import {secretFromEnv} from '../../core/secrets.js'
import {listOf} from '../../core/settings.js'
import {buildReport} from '../../report/build.js'
import {DEFAULT_RETRY, DEFAULT_REVISION_THRESHOLD, deliverAll, parseDestination} from '../../report/deliver.js'
import type {DeliveryResult} from '../../report/format.js'
import {deliveriesTable} from '../../report/format.js'

export default class ReportSend extends MauCommand<{month: string; deliveries: DeliveryResult[]}> {
  static override summary = 'Send the monthly MAU report, exactly once per month and destination (a monthly CronJob).'
  static override description = `Destinations: slack (the incoming-webhook URL from MAU_SLACK_WEBHOOK_URL[_FILE]), webhook:URL (the JSON document with an Idempotency-Key header, signed with MAU_WEBHOOK_SECRET[_FILE] if set), file:PATH, stdout[:csv]. A destination already delivered for the month is skipped unless --force. Exit 1 if any destination failed. With --to stdout and --json, stdout carries the report and then the result, each a JSON document.`
  static override examples = ['<%= config.bin %> report send --to slack', '<%= config.bin %> report send --month 202212 --to slack --to webhook:https://billing.example/mau']
  static override flags = {
    ...flag.database,
    timezone: flag.timezone,
    month: flag.month({relative: 'previous'}),
    namespace: flag.namespace,
    to: Flags.string({multiple: true, env: 'MAU_REPORT_TO', required: true, summary: 'Destination (repeatable): slack, webhook:URL, file:PATH, stdout[:csv].'}),
    force: Flags.boolean({summary: 'Send again to destinations already delivered for the month.'}),
    'allow-partial': Flags.boolean({summary: 'Allow a month that is not over yet.'}),
    timeout: Flags.integer({env: 'MAU_REPORT_TIMEOUT_SECONDS', default: 10, min: 1, summary: 'Seconds to wait for an HTTP destination before retrying.'}),
    'max-attempts': Flags.integer({env: 'MAU_REPORT_MAX_ATTEMPTS', default: 5, min: 1, max: 20, summary: 'Attempts per HTTP destination.'}),
    'revision-threshold': Flags.custom<number>({
      env: 'MAU_REPORT_REVISION_THRESHOLD',
      default: DEFAULT_REVISION_THRESHOLD,
      summary: 'Percent: an earlier month sent to a destination whose users moved more than this since (late events) rides along as a revision.',
      async parse(input) {
        const n = Number(input)
        if (!Number.isFinite(n) || n < 0) throw configError(`--revision-threshold "${input}" is invalid: expected a percentage of 0 or more, such as 0.1.`)
        return n
      },
    })(),
    'lock-wait': flag.lockWait(60),
  }

  async run(): Promise<{month: string; deliveries: DeliveryResult[]}> {
    const {flags} = await this.parse(ReportSend)
    const {month} = flags
    if (month >= currentMonth(flags.timezone) && !flags['allow-partial']) {
      throw configError(`Month ${month} is not over yet in ${flags.timezone}: its report would be partial.`, ['Pass --allow-partial to send it anyway, or omit --month for the month just ended.'])
    }
    const destinations = listOf(flags.to).map((spec) => parseDestination(spec, {slackUrl: secretFromEnv('MAU_SLACK_WEBHOOK_URL')}))
    const options = {
      force: flags.force,
      revisionThreshold: flags['revision-threshold'],
      webhookSecret: secretFromEnv('MAU_WEBHOOK_SECRET'),
      retry: {...DEFAULT_RETRY, timeoutMs: flags.timeout * 1000, maxAttempts: flags['max-attempts']},
    }
    // Two runs of the CronJob at once must not both send: one month, one sender at a time.
    const deliveries = await this.withDb(flags, (db) => withNamedLock(db, {kind: 'report', scope: month}, flags['lock-wait'], async () => deliverAll(db, await buildReport(db, month, flags.namespace ?? []), destinations, options)))
    // The report may be on stdout: the outcome then goes to stderr, so that a pipe receives the report alone.
    if (destinations.some((d) => d.kind === 'stdout')) this.logToStderr(deliveriesTable(deliveries))
    else this.log(deliveriesTable(deliveries))
    if (deliveries.some((d) => d.status === 'failed')) process.exitCode = ExitCode.FAILED
    return {month, deliveries}
  }
}
