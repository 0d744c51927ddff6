import {Flags} from '@oclif/core'
import {MauCommand} from '../../core/command.js'
import {configError, ExitCode} from '../../core/errors.js'
import * as flag from '../../core/flags.js'
import {currentMonth, monthIn} from '../../core/month.js'
import {secretFromEnv} from '../../core/secrets.js'
import {listOf} from '../../core/settings.js'
import {lastDelivered, type MonthDeliveries, type MonthPlan, planCatchUp, sendMonths} from '../../report/catch-up.js'
import {DEFAULT_RETRY, DEFAULT_REVISION_THRESHOLD, parseDestination} from '../../report/deliver.js'
import {deliveriesTable} from '../../report/format.js'

/** Which months went where, in the zone they were cut in. */
interface SendResult {
  timezone: string
  currentMonth: string
  months: MonthDeliveries[]
}

export default class ReportSend extends MauCommand<SendResult> {
  static override summary =
    'Send the monthly MAU report, exactly once per month and destination; without --month, every month ended and not yet sent (a daily CronJob).'
  static override description = `Destinations: slack (the incoming-webhook URL from MAU_SLACK_WEBHOOK_URL[_FILE]), webhook:URL (the JSON document with an Idempotency-Key header, signed with MAU_WEBHOOK_SECRET[_FILE] if set), file:PATH, stdout[:csv]. file:PATH may hold {month}, replaced by YYYYMM, so that each month has its own file. Without --month, each destination gets every month that has ended in the recorded time zone since the last one delivered there (just the previous month where none was), oldest first; a destination that fails a month gets no later one until a run delivers it. A destination already delivered for the month is skipped unless --force. Exit 1 if any destination failed. With --to stdout and --json, stdout carries the report and then the result, each a JSON document.`
  static override examples = [
    '<%= config.bin %> report send --to slack',
    "<%= config.bin %> report send --to webhook:https://billing.example/mau --to 'file:/reports/mau-{month}.json' --json",
    '<%= config.bin %> report send --month 202212 --to slack --to webhook:https://billing.example/mau',
  ]
  static override flags = {
    ...flag.database,
    timezone: flag.timezone,
    month: flag.month({
      summary:
        'Only this month: YYYYMM or YYYY-MM, or current or previous (in the recorded time zone); default: every month ended and not yet delivered.',
    }),
    namespace: flag.namespace,
    to: Flags.string({
      multiple: true,
      env: 'MAU_REPORT_TO',
      required: true,
      summary: 'Destination (repeatable): slack, webhook:URL, file:PATH, stdout[:csv].',
    }),
    force: Flags.boolean({
      dependsOn: ['month'],
      summary: 'Send --month again to destinations already delivered for it.',
    }),
    'allow-partial': Flags.boolean({
      summary: 'Allow a month that is not over yet (without --month: the current month too, after the ended ones).',
    }),
    timeout: Flags.integer({
      env: 'MAU_REPORT_TIMEOUT_SECONDS',
      default: 10,
      min: 1,
      summary: 'Seconds to wait for an HTTP destination before retrying.',
    }),
    'max-attempts': Flags.integer({
      env: 'MAU_REPORT_MAX_ATTEMPTS',
      default: 5,
      min: 1,
      max: 20,
      summary: 'Attempts per HTTP destination.',
    }),
    'revision-threshold': Flags.custom<number>({
      env: 'MAU_REPORT_REVISION_THRESHOLD',
      default: DEFAULT_REVISION_THRESHOLD,
      summary:
        'Percent: an earlier month sent to a destination whose users moved more than this since (late events) rides along as a revision.',
      async parse(input) {
        const n = Number(input)
        if (!Number.isFinite(n) || n < 0)
          throw configError(
            `--revision-threshold "${input}" is invalid: expected a percentage of 0 or more, such as 0.1.`,
          )
        return n
      },
    })(),
    'lock-wait': flag.lockWait(60),
  }

  async run(): Promise<SendResult> {
    const {flags} = await this.parse(ReportSend)
    const destinations = listOf(flags.to).map((spec) =>
      parseDestination(spec, {slackUrl: secretFromEnv('MAU_SLACK_WEBHOOK_URL')}),
    )
    const options = {
      force: flags.force,
      revisionThreshold: flags['revision-threshold'],
      webhookSecret: secretFromEnv('MAU_WEBHOOK_SECRET'),
      retry: {...DEFAULT_RETRY, timeoutMs: flags.timeout * 1000, maxAttempts: flags['max-attempts']},
      namespaces: flags.namespace ?? [],
      lockWaitSeconds: flags['lock-wait'],
    }
    const result = await this.withZone(flags, async (db, zone) => {
      const current = currentMonth(zone)
      let plans: MonthPlan[]
      if (flags.month === undefined)
        plans = planCatchUp(
          destinations,
          await lastDelivered(
            db,
            destinations.map((d) => d.key),
          ),
          current,
          flags['allow-partial'],
        )
      else {
        const month = monthIn(flags.month, zone)
        if (month >= current && !flags['allow-partial']) {
          throw configError(`Month ${month} is not over yet in ${zone}: its report would be partial.`, [
            'Pass --allow-partial to send it anyway, or omit --month to send every month that has ended.',
          ])
        }
        plans = [{month, destinations}]
      }
      return {timezone: zone, currentMonth: current, months: await sendMonths(db, plans, options)}
    })
    const deliveries = result.months.flatMap((m) => m.deliveries.map((d) => ({...d, month: m.month})))
    const text =
      result.months.length === 0
        ? `Nothing to send: every month ended in ${result.timezone} before ${result.currentMonth} was delivered to ${destinations.map((d) => d.key).join(', ')}.`
        : deliveriesTable(deliveries)
    // The report may be on stdout: the outcome then goes to stderr, so that a pipe receives the report alone.
    if (destinations.some((d) => d.kind === 'stdout')) this.logToStderr(text)
    else this.log(text)
    if (result.months.some((m) => m.deliveries.some((d) => d.status === 'failed'))) process.exitCode = ExitCode.FAILED
    return result
  }
}
