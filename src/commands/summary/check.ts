import {MauCommand} from '../../core/command.js'
import {ExitCode} from '../../core/errors.js'
import * as flag from '../../core/flags.js'
import {monthIn} from '../../core/month.js'
import {checkReport} from '../../mau/format.js'
import {checkSummary, type CheckResult} from '../../mau/summary.js'

export default class SummaryCheck extends MauCommand<CheckResult> {
  static override summary = "Compare a month's summary counters with a scan of its rows; exit 1 on any difference."
  static override examples = [
    '<%= config.bin %> summary check',
    '<%= config.bin %> summary check --month 202212 --json',
  ]
  static override flags = {...flag.database, timezone: flag.timezone, month: flag.month({relative: 'current'})}

  async run(): Promise<CheckResult> {
    const {flags} = await this.parse(SummaryCheck)
    const result = await this.spin(`Checking ${flags.month}`, () =>
      this.withZone(flags, (db, zone) => checkSummary(db, monthIn(flags.month, zone))),
    )
    this.log(checkReport(result))
    if (!result.ok) process.exitCode = ExitCode.FAILED
    return result
  }
}
