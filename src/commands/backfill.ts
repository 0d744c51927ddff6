import {Flags} from '@oclif/core'
import {MauCommand} from '../core/command.js'
import {withNamedLock} from '../core/db.js'
import * as flag from '../core/flags.js'
import {monthIn} from '../core/month.js'
import {backfill, type BackfillResult} from '../druid/backfill.js'
import {backfillReport} from '../druid/format.js'
import {druidReader} from '../druid/settings.js'
import {writerPool} from '../mau/rows.js'

export default class Backfill extends MauCommand<BackfillResult> {
  static override summary = 'Fill `mau` with a month from Druid, so the switch need not wait a month of double writing.'
  static override description = `Reads per-user aggregates (source, events, first and last time) of each environment from Druid, page by page, and writes them with the summary counters, one transaction per environment. A month that is over is replaced for each environment: running it twice gives the same rows. The current month is refused unless --until names the cut-over (when the consumer started writing it): Druid's events before it are then added to the consumer's, once (a second run with the same --until writes nothing). Exit 2 on bad input or a rejected query, 3 if another backfill of the month runs, 4 if Druid or MySQL cannot be reached.`
  static override examples = [
    '<%= config.bin %> backfill --from druid --month 202211',
    '<%= config.bin %> backfill --from druid --month 202212 --until 2022-12-14T09:30:00Z --namespace prod',
  ]
  static override flags = {
    ...flag.database,
    ...flag.druid,
    timezone: flag.timezone,
    'lock-wait': flag.lockWait(),
    from: Flags.option({
      options: ['druid'] as const,
      default: 'druid' as const,
      summary: 'Where the month is read from.',
    })(),
    month: flag.month({required: true}),
    namespace: flag.list(
      'Only these environments (repeatable, or comma-separated; default: every environment Druid has).',
    ),
    until: flag.instant({
      summary: 'Cut-over instant for a month not over yet: ISO 8601, or read in the recorded time zone.',
    }),
    'page-size': Flags.integer({
      default: 50_000,
      min: 1,
      max: 500_000,
      summary: 'Per-user aggregates per Druid query.',
    }),
  }

  async run(): Promise<BackfillResult> {
    const {flags} = await this.parse(Backfill)
    const result = await this.withZone(
      flags,
      (db, zone) => {
        const month = monthIn(flags.month, zone)
        const events = druidReader(flags, {useApproximateCountDistinct: false, sqlTimeZone: zone})
        const options = {
          month,
          timezone: zone,
          namespaces: flags.namespace,
          until: flags.until?.in(zone),
          pageSize: flags['page-size'],
        }
        // One backfill of a month at a time: two would delete and write the same environment's rows.
        return withNamedLock(db, {kind: 'backfill', scope: month}, flags['lock-wait'], () =>
          this.withProgress(`Backfilling ${month} from Druid`, 'events', (report) =>
            backfill(db, events, {...options, onProgress: report}),
          ),
        )
      },
      writerPool(2),
    )
    this.log(backfillReport(result))
    return result
  }
}
