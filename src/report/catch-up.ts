/**
 * Which months `report send` sends when no --month is given: for each destination, every month that has
 * ended in the recorded zone and that it has not received, oldest first, starting after the last month
 * delivered there (just the month before the current one where none was). A CronJob run daily thus sends
 * a month within a day of its end wherever the zone is, and a run missed is caught up by the next.
 */
import type {RowDataPacket} from 'mysql2/promise'
import {withNamedLock, type Db, type Queryable} from '../core/db.js'
import {addMonths, type YearMonth} from '../core/month.js'
import {buildReport} from './build.js'
import {deliverAll, type DeliverOptions, type Destination} from './deliver.js'
import type {DeliveryResult} from './format.js'

/** Pure: the months a destination is due, oldest first; the current month only when partial months are allowed. */
export function monthsDue(
  lastDelivered: YearMonth | undefined,
  current: YearMonth,
  allowPartial: boolean,
): YearMonth[] {
  const last = allowPartial ? current : addMonths(current, -1)
  const months: YearMonth[] = []
  for (
    let m = lastDelivered === undefined ? addMonths(current, -1) : addMonths(lastDelivered, 1);
    m <= last;
    m = addMonths(m, 1)
  )
    months.push(m)
  return months
}

export interface MonthPlan {
  month: YearMonth
  destinations: Destination[]
}

/** Pure: the months to send, oldest first, each with the destinations due it. stdout keeps no record, so it gets the previous month. */
export function planCatchUp(
  destinations: Destination[],
  lastDelivered: ReadonlyMap<string, YearMonth>,
  current: YearMonth,
  allowPartial: boolean,
): MonthPlan[] {
  const byMonth = new Map<YearMonth, Destination[]>()
  for (const d of destinations) {
    for (const m of monthsDue(d.kind === 'stdout' ? undefined : lastDelivered.get(d.key), current, allowPartial))
      byMonth.set(m, [...(byMonth.get(m) ?? []), d])
  }
  return [...byMonth.keys()].sort().map((month) => ({month, destinations: byMonth.get(month)!}))
}

/** The last month delivered to each destination. */
export async function lastDelivered(db: Queryable, keys: string[]): Promise<Map<string, YearMonth>> {
  if (keys.length === 0) return new Map()
  const [rows] = await db.query<RowDataPacket[]>(
    `SELECT destination, MAX(yearmonth) AS last FROM mau_report_delivery WHERE destination IN (${keys.map(() => '?').join(',')}) GROUP BY destination`,
    keys,
  )
  return new Map(rows.map((r) => [String(r.destination), String(r.last)]))
}

export interface MonthDeliveries {
  month: YearMonth
  deliveries: DeliveryResult[]
}

/**
 * Sends each planned month, oldest first, each under the month's lock (two runs of the CronJob never both
 * send). A destination that failed a month gets none of the later ones this run: its record must never pass
 * a month it did not receive, or the next run would not catch that month up.
 */
export async function sendMonths(
  db: Db,
  plans: MonthPlan[],
  o: DeliverOptions & {namespaces: string[]; lockWaitSeconds: number},
): Promise<MonthDeliveries[]> {
  const failed = new Map<string, YearMonth>()
  const out: MonthDeliveries[] = []
  for (const {month, destinations} of plans) {
    const held = destinations.filter((d) => failed.has(d.key))
    const go = destinations.filter((d) => !failed.has(d.key))
    const sent =
      go.length === 0
        ? []
        : await withNamedLock(db, {kind: 'report', scope: month}, o.lockWaitSeconds, async () =>
            deliverAll(db, await buildReport(db, month, o.namespaces), go, o),
          )
    for (const d of sent) if (d.status === 'failed') failed.set(d.destination, month)
    const waiting = held.map((d): DeliveryResult => ({
      destination: d.key,
      status: 'skipped',
      attempts: 0,
      message: `not sent: ${failed.get(d.key)} failed first (months go in order; the next run retries)`,
    }))
    out.push({month, deliveries: [...sent, ...waiting]})
  }
  return out
}
