import {Flags} from '@oclif/core'
import {MauCommand} from '../core/command.js'
import * as flag from '../core/flags.js'
import {canonicalSource} from '../ingest/decode.js'
import {count, type MauCount} from '../mau/count.js'
import {countTable, toCsv} from '../mau/format.js'

export default class Count extends MauCommand<MauCount> {
  static override summary = 'Monthly active users and events, per environment and source.'
  static override description = `users counts distinct user ids across all sources (one person on iOS and Android is one user);
each source line counts users within that source. The total sums environments. Reads the summary counters the
consumer keeps (instant); --scan computes the same from the rows, as does a --source filter naming several sources.`
  static override examples = ['<%= config.bin %> count --month 202212', '<%= config.bin %> count --month 2022-12 --namespace prod --by source', '<%= config.bin %> count --csv']
  static override flags = {
    ...flag.database,
    timezone: flag.timezone,
    month: flag.month({relative: 'current'}),
    namespace: flag.namespace,
    source: flag.list('Only these sources, e.g. IOS (repeatable, or comma-separated).'),
    by: Flags.option({options: ['source'] as const, summary: 'Break each environment down by source.'})(),
    csv: flag.csv,
    scan: Flags.boolean({summary: 'Compute from the raw rows instead of the summary counters (slow on a large month; to cross-check).'}),
  }

  async run(): Promise<MauCount> {
    const {flags} = await this.parse(Count)
    const filter = {month: flags.month, namespaces: flags.namespace, sources: flags.source?.map(canonicalSource)}
    const result = await this.spin(`Counting ${flags.month}`, () => this.withDb(flags, (db) => count(db, filter, {scan: flags.scan})))
    const bySource = flags.by === 'source'
    if (flags.csv) process.stdout.write(toCsv(result, bySource))
    else this.log(countTable(result, bySource))
    return result
  }
}
