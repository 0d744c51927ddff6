/**
 * The consumer reports what `partitions rotate` keeps in order: how many coming months have their own
 * partition (mau_partitions_ahead_months), so that an alert fires before an event lands in pmax, and how
 * many dead letters are past the retention rotate deletes them at (mau_dead_letters_past_retention).
 * Rotate runs as a CronJob, which Prometheus cannot scrape; this long-running process can.
 */
import type {Gauge} from 'prom-client'
import type {Db, Queryable} from '../core/db.js'
import type {Logger} from '../core/log.js'
import {currentMonth} from '../core/month.js'
import {MANAGED_TABLES, monthsAhead, readPartitions} from '../schema/partitions.js'
import {deadLetterCutoff, deadLetterRetentionDays} from '../schema/retention.js'
import {countDeadLetters} from './deadletter.js'

/** Dead letters older than the retention the last rotate applied: what the next rotate deletes (0 after each). */
export async function deadLettersPastRetention(db: Queryable, now = new Date()): Promise<number> {
  return countDeadLetters(db, {before: deadLetterCutoff(await deadLetterRetentionDays(db), now)})
}

export interface RotateGauges {
  monthsAhead: Gauge<'table'>
  deadLettersPastRetention: Gauge
}

/** One reading of both gauges. */
export async function readRotateGauges(db: Queryable, gauges: RotateGauges, zone: string): Promise<void> {
  for (const table of MANAGED_TABLES)
    gauges.monthsAhead.set({table}, monthsAhead(await readPartitions(db, table), currentMonth(zone)))
  gauges.deadLettersPastRetention.set(await deadLettersPastRetention(db))
}

export function watchPartitions(
  db: Db,
  gauges: RotateGauges,
  zone: string,
  log: Logger,
  everyMs = 300_000,
): () => void {
  const run = () =>
    void readRotateGauges(db, gauges, zone).catch((error: Error) =>
      log.warn(
        {err: error},
        'could not read the partitions and dead letters for mau_partitions_ahead_months and mau_dead_letters_past_retention',
      ),
    )
  run()
  const timer = setInterval(run, everyMs)
  timer.unref()
  return () => clearInterval(timer)
}
