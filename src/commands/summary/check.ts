import {Flags} from '@oclif/core'
import {mysqlFlags, resolveMysql, timezoneFlag} from '../../config.js'
import {MauCommand} from '../../command.js'
import {checkSummary, type CheckResult} from '../../count.js'
import {ExitCode} from '../../errors.js'
import {currentMonth, parseYearMonth} from '../../month.js'
import {table} from '../../render.js'
import {asServiceError, openPool} from '../../store.js'

export default class SummaryCheck extends MauCommand<CheckResult> {
  static override summary = 'Compare a month\'s summary counters with a scan of its rows; exit 1 on any difference.'
  static override flags = {...mysqlFlags, ...timezoneFlag, month: Flags.string({summary: 'YYYYMM or YYYY-MM (default: the current month).'})}

  async run(): Promise<CheckResult> {
    const {flags} = await this.parse(SummaryCheck)
    const month = flags.month ? parseYearMonth(flags.month) : currentMonth(flags.timezone)
    const settings = resolveMysql(flags['mysql-url'])
    const db = openPool(settings, {connectionLimit: 2})
    try {
      const result = await this.spin(`Checking ${month}`, () => checkSummary(db, month))
      const show = (v: {users: number; events: number} | null) => (v ? `${v.users} users / ${v.events} events` : 'missing')
      if (result.ok) this.log(`Summary of ${month} matches the rows.`)
      else this.log(table(['environment', 'source', 'summary', 'rows'], result.differences.map((d) => [d.environment_namespace, d.source_id || 'all', show(d.summary), show(d.scan)])))
      if (!result.ok) process.exitCode = ExitCode.FAILED
      return result
    } catch (error) {
      throw asServiceError(error, settings)
    } finally {
      await db.end()
    }
  }
}
