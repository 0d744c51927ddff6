/**
 * `mau db timezone`: the recorded zone (core/zone.ts), and the one guarded way to change it. A month's rows
 * are cut in the zone that was recorded when they were counted, so changing it while months hold rows needs
 * the operator to say so (--force): those months keep what the old zone put in them.
 */
import type {RowDataPacket} from 'mysql2/promise'
import {withNamedLock, type Db, type Queryable} from '../core/db.js'
import {ExitCode, MauError, configError} from '../core/errors.js'
import {currentMonth, type YearMonth} from '../core/month.js'
import {isValidTimezone} from '../core/settings.js'
import {recordedZone, writeZone} from '../core/zone.js'

export interface ZoneStatus {
  /** The recorded zone; null until the first workload or `db migrate --timezone` records one. */
  zone: string | null
  /** The month in progress in that zone. */
  currentMonth: YearMonth | null
  /** Months with counts (rows, or the totals kept after rotate dropped them), oldest first. */
  monthsCounted: YearMonth[]
  /** Set when this run changed the record. */
  changedFrom?: string | null
}

/** Months holding counts: the summary covers every month with rows, the kept totals every month dropped. */
async function monthsCounted(db: Queryable): Promise<YearMonth[]> {
  const [rows] = await db.query<RowDataPacket[]>(
    'SELECT yearmonth FROM mau_summary UNION SELECT yearmonth FROM mau_month_total ORDER BY yearmonth',
  )
  return rows.map((r) => String(r.yearmonth))
}

export async function showZone(db: Queryable): Promise<ZoneStatus> {
  const [zone, months] = await Promise.all([recordedZone(db), monthsCounted(db)])
  return {zone: zone ?? null, currentMonth: zone ? currentMonth(zone) : null, monthsCounted: months}
}

/** Records `zone`: at once while no month has counts, else only with force. */
export async function setZone(db: Db, zone: string, o: {force: boolean; lockWaitSeconds: number}): Promise<ZoneStatus> {
  if (!isValidTimezone(zone))
    throw configError(`Unknown time zone "${zone}": expected an IANA name such as UTC or Asia/Tokyo.`)
  // Two changes at once would each check the other's old value: one change at a time.
  return withNamedLock(db, {kind: 'timezone'}, o.lockWaitSeconds, async (conn) => {
    const before = await showZone(conn)
    if (before.zone === zone) return before
    if (before.monthsCounted.length > 0 && !o.force) {
      const months = before.monthsCounted
      throw new MauError(
        `Months ${months[0]} to ${months.at(-1)} (${months.length}) hold counts cut in ${before.zone ?? 'the zone of the workloads that counted them'}; changing the zone to ${zone} would leave them cut in the old one.`,
        {
          exit: ExitCode.CONFIG,
          code: 'TIMEZONE_IN_USE',
          suggestions: [
            `mau db timezone --set ${zone} --force, after reading mau db timezone --help on what it means for months already counted.`,
          ],
        },
      )
    }
    await writeZone(conn, zone)
    return {...(await showZone(conn)), changedFrom: before.zone}
  })
}
