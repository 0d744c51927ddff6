/**
 * Fills `mau` with past months from Druid, so the switch need not wait a month of double writing.
 * Per environment, in one transaction: Druid's per-user aggregates (source, events, first and last time)
 * are read page by page and written like the consumer writes, summary counters included.
 *  - A month that is over is replaced: the environment's rows for the month are deleted first, so a
 *    second run rewrites the same rows.
 *  - A month cut over with --until (the instant the consumer took over) is merged: Druid's events before
 *    the cut are added to the consumer's. mau_backfill records it, and a second run is a no-op.
 */
import type {PoolConnection, RowDataPacket} from 'mysql2/promise'
import {type Db, inTransaction} from '../core/db.js'
import {configError} from '../core/errors.js'
import {currentMonth, monthBounds, type YearMonth} from '../core/month.js'
import {validate} from '../ingest/decode.js'
import {applyRows, type Row} from '../mau/rows.js'
import {oldestKept, requireRows, retainMonths} from '../schema/retention.js'
import {ensureMonthPartition} from '../schema/rotate.js'
import type {DruidUserEvents, TimeWindow, UserAggregate} from './events.js'

export interface BackfillOptions {
  month: YearMonth
  timezone: string
  namespaces?: string[]
  /** Unix seconds: the cut-over instant; only Druid's events before it are written, added to MySQL's. */
  until?: number
  pageSize?: number
  now?: Date
  /** After each page: Druid events read so far, of the month's total. */
  onProgress?: (done: number, total: number) => void
}

export interface BackfillEnvironment {
  environment_namespace: string
  outcome: 'replaced' | 'merged' | 'already-merged'
  rows: number
  events: number
  /** Events of Druid aggregates that fail the consumer's validation (an empty user id, say): not written, counted here. */
  rejected: number
  firstRejection?: string
}

export interface BackfillResult {
  month: YearMonth
  timezone: string
  mode: 'replace' | 'merge'
  window: {from: string; to: string}
  environments: BackfillEnvironment[]
  total: {rows: number; events: number; rejected: number}
}

/** Pure: which instants to copy, or why the month cannot be backfilled. */
export function backfillWindow(
  o: Pick<BackfillOptions, 'month' | 'timezone' | 'until' | 'now'>,
): TimeWindow & {mode: 'replace' | 'merge'} {
  const now = o.now ?? new Date()
  const current = currentMonth(o.timezone, now)
  const {start, end} = monthBounds(o.month, o.timezone)
  if (o.month > current)
    throw configError(`Month ${o.month} has not started in ${o.timezone}: expected a month up to ${current}.`)
  if (o.until === undefined) {
    if (o.month === current) {
      throw configError(
        `Month ${o.month} is not over in ${o.timezone}: replacing it would erase what the consumer is writing.`,
        [
          'Pass --until with the instant the consumer started writing this month (the cut-over), or wait for the month to end.',
        ],
      )
    }
    return {from: start * 1000, to: end * 1000, mode: 'replace'}
  }
  const iso = new Date(o.until * 1000).toISOString()
  if (o.until <= start || o.until > end)
    throw configError(`--until ${iso} is outside month ${o.month} in ${o.timezone}: expected an instant within it.`)
  if (o.until * 1000 > now.getTime())
    throw configError(`--until ${iso} is in the future: expected the instant the consumer took over.`)
  return {from: start * 1000, to: o.until * 1000, mode: 'merge'}
}

export async function backfill(db: Db, druid: DruidUserEvents, o: BackfillOptions): Promise<BackfillResult> {
  const window = backfillWindow(o)
  await requireRows(db, o.month, 'backfill')
  const keepFrom = await oldestKept(db, o.timezone)
  if (o.month < keepFrom) {
    throw configError(
      `${o.month} is past retention (${await retainMonths(db)} months: kept from ${keepFrom}): its rows would be dropped by the next rotate, so backfill writes none.`,
      ['Backfill a month from the oldest one kept on, or raise --retain-months of mau partitions rotate first.'],
    )
  }
  // Its own partition first: retention then drops this month alone, whatever else lands near it.
  await ensureMonthPartition(db, o.month, o.timezone)
  const events = new Map(
    (await druid.environments(window, o.namespaces)).map((e) => [e.environment_namespace, e.events]),
  )
  const found = [...events.keys()]
  const namespaces = o.namespaces?.length ? o.namespaces : found
  const missing = namespaces.filter((ns) => !found.includes(ns))
  if (missing.length > 0) {
    throw configError(
      `Druid has no events in ${o.month} for environment ${missing.map((m) => `"${m}"`).join(', ')}: nothing to backfill from.`,
      [`List Druid's environments for the month with \`mau verify-migration --month ${o.month}\`.`],
    )
  }
  const environments: BackfillEnvironment[] = []
  // Progress in Druid's events: known for the whole month up front, and read page by page (rejected ones too).
  const total = namespaces.reduce((a, ns) => a + (events.get(ns) ?? 0), 0)
  let before = 0
  for (const ns of namespaces) {
    const progress = (done: number) => o.onProgress?.(before + done, total)
    environments.push(
      await inTransaction(db, (conn) =>
        backfillEnvironment(conn, druid, {...o, window, namespace: ns, onEvents: progress}),
      ),
    )
    before += events.get(ns) ?? 0
    o.onProgress?.(before, total)
  }
  return {
    month: o.month,
    timezone: o.timezone,
    mode: window.mode,
    window: {from: new Date(window.from).toISOString(), to: new Date(window.to).toISOString()},
    environments,
    total: {
      rows: environments.reduce((a, e) => a + e.rows, 0),
      events: environments.reduce((a, e) => a + e.events, 0),
      rejected: environments.reduce((a, e) => a + e.rejected, 0),
    },
  }
}

async function backfillEnvironment(
  conn: PoolConnection,
  druid: DruidUserEvents,
  o: BackfillOptions & {
    window: TimeWindow & {mode: 'replace' | 'merge'}
    namespace: string
    onEvents?: (done: number) => void
  },
): Promise<BackfillEnvironment> {
  const {month, namespace: ns, window} = o
  const [done] = await conn.query<RowDataPacket[]>(
    'SELECT mode, window_to_ms, rows_written, events, rejected FROM mau_backfill WHERE yearmonth = ? AND environment_namespace = ? FOR UPDATE',
    [month, ns],
  )
  const previous = done[0]
  if (window.mode === 'merge' && previous) {
    if (previous.mode === 'merge' && Number(previous.window_to_ms) === window.to) {
      return {
        environment_namespace: ns,
        outcome: 'already-merged',
        rows: Number(previous.rows_written),
        events: Number(previous.events),
        rejected: Number(previous.rejected),
      }
    }
    throw configError(
      `Environment "${ns}" of ${month} was already backfilled (${previous.mode}, up to ${new Date(Number(previous.window_to_ms)).toISOString()}): merging again up to ${new Date(window.to).toISOString()} would count events twice.`,
      ['Once the month is over, run backfill without --until: it replaces the month from Druid.'],
    )
  }
  if (window.mode === 'replace') {
    for (const table of ['mau', 'mau_user_month', 'mau_summary']) {
      await conn.query(`DELETE FROM ${table} WHERE yearmonth = ? AND environment_namespace = ?`, [month, ns])
    }
  }
  const out: BackfillEnvironment = {
    environment_namespace: ns,
    outcome: window.mode === 'replace' ? 'replaced' : 'merged',
    rows: 0,
    events: 0,
    rejected: 0,
  }
  const pageSize = o.pageSize ?? 50_000
  const now = Math.floor((o.now ?? new Date()).getTime() / 1000)
  const fetchPage = (after?: UserAggregate) => {
    const page = druid.userAggregates(window, ns, {after, limit: pageSize})
    page.catch(() => undefined) // awaited below; this only keeps a page abandoned by a failed write from being reported as unhandled
    return page
  }
  // Druid reads the next page while MySQL writes this one.
  for (let next: Promise<UserAggregate[]> | null = fetchPage(); next;) {
    const page: UserAggregate[] = await next
    next = page.length === pageSize ? fetchPage(page.at(-1)) : null
    const rows: Row[] = []
    for (const a of page) {
      const checked = validate(
        {namespace: ns, userId: a.user_id, sourceId: a.source_id, lastSeen: Math.floor(a.last_ms / 1000)},
        now,
      )
      if (!checked.ok) {
        out.rejected += a.events
        out.firstRejection ??= checked.rejection.message
        continue
      }
      const {environmentNamespace, userId, sourceId} = checked.event
      rows.push({
        environmentNamespace,
        yearmonth: month,
        sourceId,
        userId,
        count: a.events,
        firstSeen: Math.floor(a.first_ms / 1000),
        lastSeen: Math.floor(a.last_ms / 1000),
      })
      out.rows++
      out.events += a.events
    }
    if (rows.length > 0) await applyRows(conn, rows)
    o.onEvents?.(out.events + out.rejected)
  }
  await conn.query(
    `REPLACE INTO mau_backfill (yearmonth, environment_namespace, origin, mode, window_from_ms, window_to_ms, rows_written, events, rejected, created_at)
     VALUES (?, ?, 'druid', ?, ?, ?, ?, ?, ?, ?)`,
    [month, ns, window.mode, window.from, window.to, out.rows, out.events, out.rejected, now],
  )
  return out
}
