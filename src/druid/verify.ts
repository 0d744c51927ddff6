/**
 * Double-write parity: a month's users and events per environment and source from Druid (the old path)
 * and from MySQL (the new one), side by side, each line with a verdict. Both sides cover the same
 * instants: the month's bounds in the configured time zone, as the consumer assigns yearmonth.
 */
import type {Db} from '../core/db.js'
import {configError} from '../core/errors.js'
import {monthBounds, type YearMonth} from '../core/month.js'
import {requireRows} from '../schema/retention.js'
import {count, straddling, userIds, type MauCount} from '../mau/count.js'
import {ALL_SOURCES} from '../mau/rows.js'
import {allUserIds, type DruidCount, type DruidUserEvents, type TimeWindow} from './events.js'

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

export type Verdict = 'match' | 'within-tolerance' | 'mismatch' | 'only-in-druid' | 'only-in-mysql'

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
}

export interface VerifyResult {
  month: YearMonth
  timezone: string
  window: {from: string; to: string}
  approximate: boolean
  tolerancePercent: number
  ok: boolean
  mismatches: number
  rows: VerifyRow[]
  /** What could make a line differ for a reason other than lost or doubled events. */
  caveats: string[]
}

/** The instants both sides count: the month in the time zone, from `since` if later. */
export function verifyWindow(month: YearMonth, timezone: string, since?: number): TimeWindow {
  const {start, end} = monthBounds(month, timezone)
  if (since !== undefined && since >= end) {
    throw configError(`--since ${new Date(since * 1000).toISOString()} is after month ${month} ends in ${timezone}: expected an instant within or before the month.`)
  }
  return {from: Math.max(start, since ?? start) * 1000, to: end * 1000}
}

const percent = (diff: number, base: number | undefined): number | null => (base ? Math.round((diff / base) * 10_000) / 100 : null)

/** Pure: the verdict of one line. Events are always exact (COUNT(*) is exact in Druid); only users may use the tolerance. */
export function judge(druid: Side | null, mysql: Side | null, o: {approximate: boolean; tolerancePercent: number}): Verdict {
  if (!druid) return 'only-in-mysql'
  if (!mysql) return 'only-in-druid'
  if (druid.users === mysql.users && druid.events === mysql.events) return 'match'
  if (druid.events !== mysql.events || !o.approximate) return 'mismatch'
  const off = Math.abs(mysql.users - druid.users) / Math.max(druid.users, 1) * 100
  return off <= o.tolerancePercent ? 'within-tolerance' : 'mismatch'
}

const lineKey = (ns: string, source: string) => `${ns}\u0000${source}`

/** Pure: pairs Druid's and MySQL's lines and judges each. */
export function compare(druid: DruidCount[], mysql: MauCount, o: {approximate: boolean; tolerancePercent: number}): VerifyRow[] {
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

export async function verifyMigration(db: Db, druid: DruidUserEvents, o: VerifyOptions): Promise<VerifyResult> {
  await requireRows(db, o.month, 'verify-migration')
  const window = verifyWindow(o.month, o.timezone, o.since)
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
      caveats.push(`${split.rows} MySQL rows (${split.events} events) have events both before and after --since; their events all count, so MySQL's events may exceed Druid's there.`)
    }
  }
  for (const ns of o.namespaces ?? []) {
    if (!rows.some((r) => r.environment_namespace === ns)) caveats.push(`Environment "${ns}" has no events in ${o.month} on either side.`)
  }
  if (o.users) {
    for (const row of rows) {
      if (row.verdict === 'match' || row.difference.users === 0) continue
      Object.assign(row, await oneSidedUsers(db, druid, window, filter, row, o.users))
    }
  }
  const mismatches = rows.filter((r) => r.verdict !== 'match' && r.verdict !== 'within-tolerance').length
  return {
    month: o.month,
    timezone: o.timezone,
    window: {from: new Date(window.from).toISOString(), to: new Date(window.to).toISOString()},
    approximate: o.approximate,
    tolerancePercent: o.approximate ? o.tolerancePercent : 0,
    ok: mismatches === 0,
    mismatches,
    rows,
    caveats,
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
  for (const id of await userIds(db, {...filter, namespaces: [row.environment_namespace], sources: source === undefined ? undefined : [source]})) {
    if (!inDruid.delete(id) && onlyInMysql.length < limit) onlyInMysql.push(id)
  }
  return {onlyInDruid: [...inDruid].sort().slice(0, limit), onlyInMysql: onlyInMysql.sort()}
}
