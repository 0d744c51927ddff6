import {Flags} from '@oclif/core'
import {druidFlags, listOf, lockWaitFlag, mysqlFlags, resolveDruid, resolveMysql, timezoneFlag} from '../config.js'
import {MauCommand} from '../command.js'
import {backfill, type BackfillResult} from '../backfill.js'
import {DruidClient} from '../druid.js'
import {DruidUserEvents} from '../druid-events.js'
import {parseInstant, parseYearMonth} from '../month.js'
import {openWriterPool} from '../persist.js'
import {table} from '../render.js'
import {asServiceError, withNamedLock} from '../store.js'

export default class Backfill extends MauCommand<BackfillResult> {
  static override summary = 'Fill `mau` with a month from Druid, so the switch need not wait a month of double writing.'
  static override description = `Reads per-user aggregates (source, events, first and last time) of each environment from Druid, page by page,
and writes them with the summary counters, one transaction per environment.
A month that is over is replaced for each environment: running it twice gives the same rows. The current month is
refused unless --until names the cut-over (when the consumer started writing it): Druid's events before it are
then added to the consumer's, once (a second run with the same --until writes nothing).
Exit 2 on bad input or a rejected query, 3 if another backfill of the
month runs, 4 if Druid or MySQL cannot be reached.`
  static override examples = [
    '<%= config.bin %> backfill --from druid --month 202211',
    '<%= config.bin %> backfill --from druid --month 202212 --until 2022-12-14T09:30:00Z --namespace prod',
  ]
  static override flags = {
    ...mysqlFlags,
    ...druidFlags,
    ...timezoneFlag,
    ...lockWaitFlag,
    from: Flags.option({options: ['druid'] as const, default: 'druid' as const, summary: 'Where the month is read from.'})(),
    month: Flags.string({required: true, summary: 'YYYYMM or YYYY-MM.'}),
    namespace: Flags.string({multiple: true, summary: 'Only these environments (repeatable; default: every environment Druid has).'}),
    until: Flags.string({summary: 'Cut-over instant for a month not over yet: ISO 8601, or read in --timezone.'}),
    'page-size': Flags.integer({default: 50_000, min: 1, max: 500_000, summary: 'Per-user aggregates per Druid query.'}),
  }

  async run(): Promise<BackfillResult> {
    const {flags} = await this.parse(Backfill)
    const month = parseYearMonth(flags.month)
    const until = flags.until === undefined ? undefined : parseInstant(flags.until, flags.timezone, '--until')
    const druid = resolveDruid(flags)
    const events = new DruidUserEvents(new DruidClient(druid.client), druid.schema, {useApproximateCountDistinct: false, sqlTimeZone: flags.timezone})
    const settings = resolveMysql(flags['mysql-url'])
    const db = openWriterPool(settings, 2)
    let result: BackfillResult
    try {
      const conn = await db.getConnection()
      try {
        // One backfill of a month at a time: two would delete and write the same environment's rows.
        result = await withNamedLock(conn, `mau.backfill.${settings.database}.${month}`, flags['lock-wait'], () =>
          this.spin(`Backfilling ${month} from Druid`, () => backfill(db, events, {month, timezone: flags.timezone, namespaces: listOf(flags.namespace), until, pageSize: flags['page-size']})),
        )
      } finally {
        conn.release()
      }
    } catch (error) {
      throw asServiceError(error, settings)
    } finally {
      await db.end()
    }
    this.log(`${month} (${result.mode}) from ${result.window.from} to ${result.window.to}`)
    this.log(
      table(
        ['environment', 'outcome', 'rows', 'events', 'rejected'],
        [...result.environments.map((e) => [e.environment_namespace, e.outcome, e.rows, e.events, e.rejected]), ['total', '', result.total.rows, result.total.events, result.total.rejected]],
      ),
    )
    for (const e of result.environments.filter((env) => env.firstRejection)) this.log(`rejected in ${e.environment_namespace}: ${e.firstRejection}`)
    return result
  }
}
