/**
 * The consumer reports how many coming months have their own partition (mau_partitions_ahead_months), so
 * that an alert fires before an event lands in pmax: `partitions rotate` runs as a CronJob, which
 * Prometheus cannot scrape, and this long-running process can.
 */
import type {Gauge} from 'prom-client'
import type {Db} from '../core/db.js'
import type {Logger} from '../core/log.js'
import {currentMonth} from '../core/month.js'
import {MANAGED_TABLES, monthsAhead, readPartitions} from '../schema/partitions.js'

export function watchPartitions(db: Db, gauge: Gauge<'table'>, zone: string, log: Logger, everyMs = 300_000): () => void {
  const check = async () => {
    for (const table of MANAGED_TABLES) gauge.set({table}, monthsAhead(await readPartitions(db, table), currentMonth(zone)))
  }
  const run = () => void check().catch((error: Error) => log.warn({err: error}, 'could not read the partitions for mau_partitions_ahead_months'))
  run()
  const timer = setInterval(run, everyMs)
  timer.unref()
  return () => clearInterval(timer)
}
