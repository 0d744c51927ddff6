import {Flags} from '@oclif/core'
import {mysqlFlags, resolveMysql} from '../../config.js'
import {MauCommand} from '../../command.js'
import {rebuildSummary} from '../../count.js'
import {parseYearMonth} from '../../month.js'
import {asServiceError, openPool} from '../../store.js'

export default class SummaryRebuild extends MauCommand<{month: string; rows: number}> {
  static override summary = 'Recompute a month\'s summary counters from its rows; safe while consume runs.'
  static override flags = {...mysqlFlags, month: Flags.string({required: true, summary: 'YYYYMM or YYYY-MM.'})}

  async run(): Promise<{month: string; rows: number}> {
    const {flags} = await this.parse(SummaryRebuild)
    const month = parseYearMonth(flags.month)
    const settings = resolveMysql(flags['mysql-url'])
    const db = openPool(settings, {connectionLimit: 1})
    try {
      const result = await this.spin(`Rebuilding ${month}`, () => rebuildSummary(db, month))
      this.log(`Rebuilt ${result.rows} summary lines of ${month} from the rows.`)
      return result
    } catch (error) {
      throw asServiceError(error, settings)
    } finally {
      await db.end()
    }
  }
}
