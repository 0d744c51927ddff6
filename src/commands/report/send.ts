import {Flags} from '@oclif/core'
import {listOf, mysqlFlags, resolveMysql, secretFromEnv, timezoneFlag} from '../../config.js'
import {MauCommand} from '../../command.js'
import {DEFAULT_RETRY, deliverAll, parseDestination, type DeliveryResult} from '../../deliver.js'
import {configError, ExitCode} from '../../errors.js'
import {addMonths, currentMonth, parseYearMonth} from '../../month.js'
import {table} from '../../render.js'
import {buildReport} from '../../report.js'
import {asServiceError, openPool, withNamedLock} from '../../store.js'

export default class ReportSend extends MauCommand<{month: string; deliveries: DeliveryResult[]}> {
  static override summary = 'Send the monthly MAU report, exactly once per month and destination (a monthly CronJob).'
  static override description = `Destinations: slack (the incoming-webhook URL from MAU_SLACK_WEBHOOK_URL[_FILE]), webhook:URL (the JSON
document with an Idempotency-Key header, signed with MAU_WEBHOOK_SECRET[_FILE] if set), file:PATH, stdout[:csv].
A destination already delivered for the month is skipped unless --force. Exit 1 if any destination failed.`
  static override examples = ['<%= config.bin %> report send --to slack', '<%= config.bin %> report send --month 202212 --to slack --to webhook:https://billing.example/mau']
  static override flags = {
    ...mysqlFlags,
    ...timezoneFlag,
    month: Flags.string({summary: 'YYYYMM or YYYY-MM (default: the previous month in --timezone).'}),
    namespace: Flags.string({multiple: true, summary: 'Only these environments.'}),
    to: Flags.string({multiple: true, env: 'MAU_REPORT_TO', required: true, summary: 'Destination (repeatable): slack, webhook:URL, file:PATH, stdout[:csv].'}),
    force: Flags.boolean({summary: 'Send again to destinations already delivered for the month.'}),
    'allow-partial': Flags.boolean({summary: 'Allow a month that is not over yet.'}),
    timeout: Flags.integer({default: 10, min: 1, summary: 'Seconds to wait for an HTTP destination before retrying.'}),
    'max-attempts': Flags.integer({default: 5, min: 1, max: 20, summary: 'Attempts per HTTP destination.'}),
  }

  async run(): Promise<{month: string; deliveries: DeliveryResult[]}> {
    const {flags} = await this.parse(ReportSend)
    const month = flags.month ? parseYearMonth(flags.month) : addMonths(currentMonth(flags.timezone), -1)
    if (month >= currentMonth(flags.timezone) && !flags['allow-partial']) {
      throw configError(`Month ${month} is not over yet in ${flags.timezone}: its report would be partial.`, ['Pass --allow-partial to send it anyway, or omit --month for the month just ended.'])
    }
    const slackUrl = secretFromEnv('MAU_SLACK_WEBHOOK_URL')
    const destinations = listOf(flags.to).map((spec) => parseDestination(spec, {slackUrl}))
    const settings = resolveMysql(flags['mysql-url'])
    const db = openPool(settings, {connectionLimit: 2})
    const conn = await db.getConnection().catch((error) => {
      throw asServiceError(error, settings)
    })
    try {
      // Two runs of the CronJob at once must not both send: one month, one sender at a time.
      const deliveries = await withNamedLock(conn, `mau.report.${settings.database}.${month}`, 60, async () => {
        const doc = await buildReport(db, month, listOf(flags.namespace))
        return deliverAll(db, doc, destinations, {
          force: flags.force,
          webhookSecret: secretFromEnv('MAU_WEBHOOK_SECRET'),
          retry: {...DEFAULT_RETRY, timeoutMs: flags.timeout * 1000, maxAttempts: flags['max-attempts']},
          write: (text) => this.log(text.replace(/\n$/, '')),
        })
      })
      this.log(table(['destination', 'status', 'attempts', 'detail'], deliveries.map((d) => [d.destination, d.status, d.attempts, d.message])))
      if (deliveries.some((d) => d.status === 'failed')) process.exitCode = ExitCode.FAILED
      return {month, deliveries}
    } catch (error) {
      throw asServiceError(error, settings)
    } finally {
      conn.release()
      await db.end()
    }
  }
}
