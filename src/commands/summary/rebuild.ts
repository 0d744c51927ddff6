import {MauCommand} from '../../core/command.js'
import * as flag from '../../core/flags.js'
import {monthIn} from '../../core/month.js'
import {rebuildSummary} from '../../mau/summary.js'

export default class SummaryRebuild extends MauCommand<{month: string; rows: number}> {
  static override summary = "Recompute a month's summary counters from its rows; safe while consume runs."
  static override examples = ['<%= config.bin %> summary rebuild --month 202212']
  static override flags = {...flag.database, month: flag.month({required: true})}

  async run(): Promise<{month: string; rows: number}> {
    const {flags} = await this.parse(SummaryRebuild)
    const result = await this.withProgress(`Rebuilding ${flags.month}`, 'rows read', (report) =>
      this.withZone(flags, (db, zone) => rebuildSummary(db, monthIn(flags.month, zone), report), {record: false}),
    )
    this.log(`Rebuilt ${result.rows} summary lines of ${result.month} from the rows.`)
    return result
  }
}
