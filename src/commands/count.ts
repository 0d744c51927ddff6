import {Flags} from '@oclif/core'
import {listOf, mysqlFlags, resolveMysql, timezoneFlag} from '../config.js'
import {MauCommand} from '../command.js'
import {count, toCsv, type MauCount} from '../count.js'
import {canonicalSource} from '../events.js'
import {currentMonth, parseYearMonth} from '../month.js'
import {table} from '../render.js'
import {asServiceError, openPool} from '../store.js'

export default class Count extends MauCommand<MauCount> {
  static override summary = 'Monthly active users and events, per environment and source.'
  static override description = `users counts distinct user ids across all sources (one person on iOS and Android is one user);
each source line counts users within that source. The total sums environments. Reads the summary counters the
consumer keeps (instant); --scan computes the same from the rows, as does a --source filter naming several sources.`
  static override examples = ['<%= config.bin %> count --month 202212', '<%= config.bin %> count --month 2022-12 --namespace prod --by source', '<%= config.bin %> count --csv']
  static override flags = {
    ...mysqlFlags,
    ...timezoneFlag,
    month: Flags.string({summary: 'YYYYMM or YYYY-MM (default: the current month in --timezone).'}),
    namespace: Flags.string({multiple: true, summary: 'Only these environments (repeatable).'}),
    source: Flags.string({multiple: true, summary: 'Only these sources, e.g. IOS (repeatable).'}),
    by: Flags.option({options: ['source'] as const, summary: 'Break each environment down by source.'})(),
    csv: Flags.boolean({summary: 'Print CSV instead of a table.', exclusive: ['json']}),
    scan: Flags.boolean({summary: 'Compute from the raw rows instead of the summary counters (slow on a large month; to cross-check).'}),
  }

  async run(): Promise<MauCount> {
    const {flags} = await this.parse(Count)
    const month = flags.month ? parseYearMonth(flags.month) : currentMonth(flags.timezone)
    const settings = resolveMysql(flags['mysql-url'])
    const db = openPool(settings, {connectionLimit: 2})
    let result: MauCount
    try {
      const filter = {month, namespaces: listOf(flags.namespace), sources: listOf(flags.source).map(canonicalSource)}
      result = await this.spin(`Counting ${month}`, () => count(db, filter, {scan: flags.scan}))
    } catch (error) {
      throw asServiceError(error, settings)
    } finally {
      await db.end()
    }
    const bySource = flags.by === 'source'
    if (flags.csv) {
      process.stdout.write(toCsv(result, bySource))
      return result
    }
    const rows: (string | number)[][] = []
    for (const e of result.environments) {
      rows.push([e.environment_namespace, bySource ? 'all' : '', e.users, e.events])
      if (bySource) for (const s of e.sources) rows.push(['', s.source_id, s.users, s.events])
    }
    rows.push(['total', '', result.total.users, result.total.events])
    this.log(`MAU for ${month}`)
    this.log(table(['environment', bySource ? 'source' : '', 'users', 'events'], rows))
    return result
  }
}
