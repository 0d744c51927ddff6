import {Flags} from '@oclif/core'
import {MauCommand} from '../core/command.js'
import {configError} from '../core/errors.js'
import * as flag from '../core/flags.js'
import {addMonths, monthIn} from '../core/month.js'
import {canAnimate} from '../core/progress.js'
import {terminalWidth} from '../core/render.js'
import {count, type MauCount} from '../mau/count.js'
import {countTable, historyCsv, historyTable, toCsv, usersChart} from '../mau/format.js'
import {history, type MauHistory} from '../mau/history.js'

const RANGE = ['from', 'to', 'last']

export default class Count extends MauCommand<MauCount | MauHistory> {
  static override summary = 'Monthly active users and events, per environment and source, for a month or over several.'
  static override description = `users counts distinct user ids across all sources (one person on iOS and Android is one user); each source line counts users within that source. The total sums environments. Reads the summary counters the consumer keeps (instant); --scan computes the same from the rows, as does a --source filter naming several sources.

With --from/--to or --last, one line per month and environment with the change from the month before, and a chart of users per month at a terminal.`
  static override examples = [
    '<%= config.bin %> count --month 202212',
    '<%= config.bin %> count --month 2022-12 --namespace prod --by source',
    '<%= config.bin %> count --csv',
    '<%= config.bin %> count --from 202501 --to 202511',
    '<%= config.bin %> count --last 6 --namespace prod --no-chart',
  ]
  static override flags = {
    ...flag.database,
    timezone: flag.timezone,
    month: flag.month({relative: 'current'}),
    from: flag.month({summary: 'First month of a range (YYYYMM or YYYY-MM).', exclusive: ['last', 'month']}),
    to: flag.month({
      summary: 'Last month of a range (YYYYMM or YYYY-MM); default: the current month.',
      exclusive: ['month'],
    }),
    last: Flags.integer({
      min: 1,
      max: 120,
      summary: 'The N months ending with --to (default: ending with the current month).',
      exclusive: ['from', 'month'],
    }),
    chart: Flags.boolean({allowNo: true, summary: 'Chart users per month under a range (default: at a terminal).'}),
    namespace: flag.namespace,
    source: flag.source,
    by: Flags.option({options: ['source'] as const, summary: 'Break each environment down by source.'})(),
    csv: flag.csv,
    scan: Flags.boolean({
      summary: 'Compute from the raw rows instead of the summary counters (slow on a large month; to cross-check).',
    }),
  }

  async run(): Promise<MauCount | MauHistory> {
    const {flags} = await this.parse(Count)
    const sources = flags.source
    if (RANGE.some((k) => flags[k as keyof typeof flags] !== undefined)) {
      if (flags.scan || flags.by || (sources?.length ?? 0) > 1)
        throw configError(
          '--scan, --by and several --source apply to one month: expected them without --from, --to or --last.',
        )
      const result = await this.spin('Counting months', () =>
        this.withZone(flags, (db, zone) => {
          const to = monthIn(flags.to ?? 'current', zone)
          const from = flags.from === undefined ? addMonths(to, -((flags.last ?? 6) - 1)) : monthIn(flags.from, zone)
          return history(db, {from, to, namespaces: flags.namespace, source: sources?.[0]})
        }),
      )
      if (flags.csv) process.stdout.write(historyCsv(result))
      else {
        this.log(historyTable(result))
        if (flags.chart ?? (canAnimate(process.stdout) && !this.jsonEnabled()))
          this.log(`\n${usersChart(result.months, {width: terminalWidth() ?? 80})}`)
      }
      return result
    }
    const result = await this.withProgress('Counting', 'rows read', (report) =>
      this.withZone(flags, (db, zone) =>
        count(
          db,
          {month: monthIn(flags.month, zone), namespaces: flags.namespace, sources},
          {scan: flags.scan, onRows: report},
        ),
      ),
    )
    const bySource = flags.by === 'source'
    if (flags.csv) process.stdout.write(toCsv(result, bySource))
    else this.log(countTable(result, bySource))
    return result
  }
}
