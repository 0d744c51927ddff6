/**
 * Double-write parity: a month's users and events per environment and source from Druid (the old path)
 * and from MySQL (the new one), side by side, each line with a verdict. Both sides cover the same
 * instants: the month's bounds in the configured time zone, as the consumer assigns yearmonth.
 */
import type {Db} from '../core/db.js'
import {configError, ExitCode, MauError} from '../core/errors.js'
import {monthBounds, type YearMonth} from '../core/month.js'
import {requireRows} from '../schema/retention.js'
import {count, straddling, userIds, type MauCount} from '../mau/count.js'
import {ALL_SOURCES} from '../mau/rows.js'
import {allUserIds, type DruidCount, type DruidUserEvents, type TimeWindow} from './events.js'
import {InFlight} from './in-flight.js'
import type {Positions, Reading} from './positions.js'

export interface VerifyOptions {
  month: YearMonth
  timezone: string
  namespaces?: string[]
  /** Unix seconds: the double write's start; events before it exist only in Druid. */
  since?: number
  /** Druid counted distinct users with sketches: users may differ by up to tolerancePercent. */
  approximate: boolean
  tolerancePercent: number
  /** List up to this many user ids found on one side only, for each line whose users differ. */
  users?: number
}

export interface Side {
  users: number
  events: number
}

export type Verdict = 'match' | 'within-tolerance' | 'in-flight' | 'mismatch' | 'only-in-druid' | 'only-in-mysql'

export interface VerifyRow {
  environment_namespace: string
  /** '' for the environment over all sources. */
  source_id: string
  druid: Side | null
  mysql: Side | null
  /** MySQL minus Druid. */
  difference: Side
  /** The difference in percent of Druid's value; null where Druid has none. */
  percent: {users: number | null; events: number | null}
  verdict: Verdict
  onlyInDruid?: string[]
  onlyInMysql?: string[]
  /** Of a line judged against the messages between the sides: its events among them, and its one-sided users they explain. */
  inFlight?: {events: number; users: number}
  /** Users on one side only whom no message between the sides explains. */
  notInFlight?: string[]
}

/** Where the sides stood, and what lay between them, when a difference was judged against the traffic. */
export interface InFlightReport {
  topic: string
  /** Messages read between the positions, and of them the events in the compared window. */
  messages: number
  events: number
  partitions: {partition: number; mysql: {before: number; after: number}; druid: {before: number; after: number}}[]
}

export interface VerifyResult {
  month: YearMonth
  timezone: string
  window: {from: string; to: string}
  approximate: boolean
  tolerancePercent: number
  ok: boolean
  /** mismatch if any line fails; in-flight if lines differ only by messages one side has not applied yet. */
  verdict: 'match' | 'in-flight' | 'mismatch'
  mismatches: number
  rows: VerifyRow[]
  inFlight?: InFlightReport
  /** What could make a line differ for a reason other than lost or doubled events. */
  caveats: string[]
}

/** The instants both sides count: the month in the time zone, from `since` if later. */
export function verifyWindow(month: YearMonth, timezone: string, since?: number): TimeWindow {
  const {start, end} = monthBounds(month, timezone)
  if (since !== undefined && since >= end) {
    throw configError(
      `--since ${new Date(since * 1000).toISOString()} is after month ${month} ends in ${timezone}: expected an instant within or before the month.`,
    )
  }
  return {from: Math.max(start, since ?? start) * 1000, to: end * 1000}
}

const percent = (diff: number, base: number | undefined): number | null =>
  base ? Math.round((diff / base) * 10_000) / 100 : null

/** Pure: the verdict of one line. Events are always exact (COUNT(*) is exact in Druid); only users may use the tolerance. */
export function judge(
  druid: Side | null,
  mysql: Side | null,
  o: {approximate: boolean; tolerancePercent: number},
): Verdict {
  if (!druid) return 'only-in-mysql'
  if (!mysql) return 'only-in-druid'
  if (druid.users === mysql.users && druid.events === mysql.events) return 'match'
  if (druid.events !== mysql.events || !o.approximate) return 'mismatch'
  const off = (Math.abs(mysql.users - druid.users) / Math.max(druid.users, 1)) * 100
  return off <= o.tolerancePercent ? 'within-tolerance' : 'mismatch'
}

const lineKey = (ns: string, source: string) => `${ns}\u0000${source}`

/** Pure: pairs Druid's and MySQL's lines and judges each. */
export function compare(
  druid: DruidCount[],
  mysql: MauCount,
  o: {approximate: boolean; tolerancePercent: number},
): VerifyRow[] {
  const sides = new Map<string, {ns: string; source: string; druid: Side | null; mysql: Side | null}>()
  const at = (ns: string, source: string) => {
    const k = lineKey(ns, source)
    if (!sides.has(k)) sides.set(k, {ns, source, druid: null, mysql: null})
    return sides.get(k)!
  }
  for (const d of druid) at(d.environment_namespace, d.source_id).druid = {users: d.users, events: d.events}
  for (const e of mysql.environments) {
    at(e.environment_namespace, ALL_SOURCES).mysql = {users: e.users, events: e.events}
    for (const s of e.sources) at(e.environment_namespace, s.source_id).mysql = {users: s.users, events: s.events}
  }
  return [...sides.values()]
    .sort((a, b) => (lineKey(a.ns, a.source) < lineKey(b.ns, b.source) ? -1 : 1))
    .map(({ns, source, druid: d, mysql: m}) => {
      const difference = {users: (m?.users ?? 0) - (d?.users ?? 0), events: (m?.events ?? 0) - (d?.events ?? 0)}
      return {
        environment_namespace: ns,
        source_id: source,
        druid: d,
        mysql: m,
        difference,
        percent: {users: percent(difference.users, d?.users), events: percent(difference.events, d?.events)},
        verdict: judge(d, m, o),
      }
    })
}

const passes = (v: Verdict) => v === 'match' || v === 'within-tolerance' || v === 'in-flight'

/**
 * A reading of positions, or why it could not be read: that matters only if a line differs. A wrong setting
 * fails at once; a Druid without a supervisor (nothing in flight) only when a line differs.
 */
const tryRead = (positions: Positions, db: Db): Promise<Reading | Error> =>
  positions.read(db).catch((error: Error) => {
    if (error instanceof MauError && error.exitCode === ExitCode.CONFIG && error.code !== 'DRUID_NO_SUPERVISOR')
      throw error
    return error
  })

/**
 * positions: both sides ingest the topic now; a difference is judged against the messages between them.
 * Without it, the sides are taken to stand still and any difference fails.
 */
export async function verifyMigration(
  db: Db,
  druid: DruidUserEvents,
  o: VerifyOptions,
  positions?: Positions,
): Promise<VerifyResult> {
  await requireRows(db, o.month, 'verify-migration')
  const window = verifyWindow(o.month, o.timezone, o.since)
  const before = positions && (await tryRead(positions, db))
  // A --since before the month starts changes nothing, and MySQL's fast path (the summary) still applies.
  const since = o.since !== undefined && o.since > monthBounds(o.month, o.timezone).start ? o.since : undefined
  const fromDruid = await druid.counts(window, o.namespaces)
  const filter = {month: o.month, namespaces: o.namespaces, since}
  const fromMysql = await count(db, filter, {allowMissing: true})
  const rows = compare([...fromDruid.perEnvironment, ...fromDruid.perSource], fromMysql, o)
  const caveats: string[] = []
  if (since !== undefined) {
    const split = await straddling(db, {...filter, since})
    if (split.rows > 0) {
      caveats.push(
        `${split.rows} MySQL rows (${split.events} events) have events both before and after --since; their events all count, so MySQL's events may exceed Druid's there.`,
      )
    }
  }
  for (const ns of o.namespaces ?? []) {
    if (!rows.some((r) => r.environment_namespace === ns))
      caveats.push(`Environment "${ns}" has no events in ${o.month} on either side.`)
  }
  const differing = rows.filter((r) => !passes(r.verdict))
  let inFlight: InFlightReport | undefined
  if (positions && differing.length > 0) {
    // Every one-sided user is needed: the one left out could be the one no message explains.
    for (const row of differing) Object.assign(row, await oneSidedUsers(db, druid, window, filter, row, Infinity))
    inFlight = await judgeInFlight(db, positions, before!, differing, window, o)
  } else if (positions && before instanceof Error) {
    caveats.push(`The sides' positions were not read (${before.message}); every line matches, so they were not needed.`)
  }
  for (const row of rows) {
    if (row.onlyInDruid === undefined && o.users && row.verdict !== 'match' && row.difference.users !== 0) {
      Object.assign(row, await oneSidedUsers(db, druid, window, filter, row, o.users))
    }
    if (row.onlyInDruid !== undefined) cutUsers(row, o.users)
  }
  const mismatches = rows.filter((r) => !passes(r.verdict)).length
  return {
    month: o.month,
    timezone: o.timezone,
    window: {from: new Date(window.from).toISOString(), to: new Date(window.to).toISOString()},
    approximate: o.approximate,
    tolerancePercent: o.approximate ? o.tolerancePercent : 0,
    ok: mismatches === 0,
    verdict: mismatches > 0 ? 'mismatch' : rows.some((r) => r.verdict === 'in-flight') ? 'in-flight' : 'match',
    mismatches,
    rows,
    ...(inFlight ? {inFlight} : {}),
    caveats,
  }
}

/** Users listed in the result: up to --users of each side (none without it); those no message explains, up to 20 even so. */
function cutUsers(row: VerifyRow, limit: number | undefined): void {
  if (row.notInFlight) row.notInFlight = row.notInFlight.slice(0, limit ?? 20)
  if (!limit) {
    delete row.onlyInDruid
    delete row.onlyInMysql
  } else {
    if (row.onlyInDruid) row.onlyInDruid = row.onlyInDruid.slice(0, limit)
    if (row.onlyInMysql) row.onlyInMysql = row.onlyInMysql.slice(0, limit)
  }
}

/** Positions after the counts, the messages between the sides, and each differing line's verdict against them. */
async function judgeInFlight(
  db: Db,
  positions: Positions,
  before: Reading | Error,
  differing: VerifyRow[],
  window: TimeWindow,
  o: VerifyOptions,
): Promise<InFlightReport> {
  const after = await tryRead(positions, db)
  if (before instanceof Error) throw before
  if (after instanceof Error) throw after
  const bounds = positions.bounds(before, after)
  const tally = new InFlight(bounds, differing)
  const namespaces = o.namespaces?.length ? new Set(o.namespaces) : undefined
  await positions.messages(after, bounds, (partition, offset, decoded) => {
    const event = decoded?.ok ? decoded.event : undefined
    const inWindow =
      event &&
      event.lastSeen * 1000 >= window.from &&
      event.lastSeen * 1000 < window.to &&
      (!namespaces || namespaces.has(event.environmentNamespace))
    tally.add(partition, offset, inWindow ? event : undefined)
  })
  for (const row of differing) {
    const judged = tally.explain(row)
    row.inFlight = {events: judged.events, users: judged.users}
    if (judged.explained) row.verdict = 'in-flight'
    else {
      row.verdict = 'mismatch'
      row.notInFlight = judged.notInFlight
    }
  }
  return {
    topic: after.topic,
    messages: tally.messages,
    events: tally.events,
    partitions: [...bounds].sort(([a], [b]) => a - b).map(([partition, b]) => ({partition, ...b})),
  }
}

/** Druid's ids are held in a set (one environment's users) while MySQL's are checked against it. */
async function oneSidedUsers(
  db: Db,
  druid: DruidUserEvents,
  window: TimeWindow,
  filter: {month: YearMonth; since?: number},
  row: VerifyRow,
  limit: number,
): Promise<{onlyInDruid: string[]; onlyInMysql: string[]}> {
  const source = row.source_id === ALL_SOURCES ? undefined : row.source_id
  const inDruid = new Set<string>()
  for await (const id of allUserIds(druid, window, row.environment_namespace, source)) inDruid.add(id)
  const onlyInMysql: string[] = []
  for (const id of await userIds(db, {
    ...filter,
    namespaces: [row.environment_namespace],
    sources: source === undefined ? undefined : [source],
  })) {
    if (!inDruid.delete(id) && onlyInMysql.length < limit) onlyInMysql.push(id)
  }
  return {onlyInDruid: [...inDruid].sort().slice(0, limit), onlyInMysql: onlyInMysql.sort()}
}
