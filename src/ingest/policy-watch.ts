/**
 * What the consumer reads of the database's policy, and refreshes every minute: the retention (the oldest
 * month still written, the one `partitions rotate` records) and the months already reported (late events
 * to those are counted). Until the first read succeeds, nothing is treated as expired.
 */
import type {RowDataPacket} from 'mysql2/promise'
import type {Db} from '../core/db.js'
import type {Logger} from '../core/log.js'
import type {YearMonth} from '../core/month.js'
import {oldestKept} from '../schema/retention.js'

export interface Policy {
  keepFrom: () => YearMonth | undefined
  reported: () => ReadonlySet<YearMonth>
  stop: () => void
}

export async function watchPolicy(db: Db, zone: string, log: Logger, everyMs = 60_000): Promise<Policy> {
  let keepFrom: YearMonth | undefined
  let reported: ReadonlySet<YearMonth> = new Set()
  const read = async () => {
    keepFrom = await oldestKept(db, zone)
    const [rows] = await db.query<RowDataPacket[]>('SELECT DISTINCT yearmonth FROM mau_report_delivery')
    reported = new Set(rows.map((r) => String(r.yearmonth)))
  }
  await read()
  const timer = setInterval(
    () =>
      void read().catch((error: Error) =>
        log.warn({err: error}, 'could not read the retention and the reported months; keeping the last ones read'),
      ),
    everyMs,
  )
  timer.unref()
  return {keepFrom: () => keepFrom, reported: () => reported, stop: () => clearInterval(timer)}
}
