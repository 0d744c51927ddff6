import {Flags} from '@oclif/core'
import {listOf, mysqlFlags, resolveMysql, timezoneFlag} from '../../config.js'
import {MauCommand} from '../../command.js'
import {addMonths, currentMonth, parseYearMonth} from '../../month.js'
import {buildReport, toReportCsv, toSlackText, type ReportDocument} from '../../report.js'
import {asServiceError, openPool} from '../../store.js'

export default class ReportShow extends MauCommand<ReportDocument> {
  static override summary = 'Render the monthly MAU report here (as Slack text, --csv or --json) without sending it.'
  static override flags = {
    ...mysqlFlags,
    ...timezoneFlag,
    month: Flags.string({summary: 'YYYYMM or YYYY-MM (default: the previous month in --timezone).'}),
    namespace: Flags.string({multiple: true, summary: 'Only these environments.'}),
    csv: Flags.boolean({summary: 'Print CSV.', exclusive: ['json']}),
  }

  async run(): Promise<ReportDocument> {
    const {flags} = await this.parse(ReportShow)
    const month = flags.month ? parseYearMonth(flags.month) : addMonths(currentMonth(flags.timezone), -1)
    const settings = resolveMysql(flags['mysql-url'])
    const db = openPool(settings, {connectionLimit: 1})
    try {
      const doc = await buildReport(db, month, listOf(flags.namespace))
      if (flags.csv) process.stdout.write(toReportCsv(doc))
      else this.log(toSlackText(doc))
      return doc
    } catch (error) {
      throw asServiceError(error, settings)
    } finally {
      await db.end()
    }
  }
}
