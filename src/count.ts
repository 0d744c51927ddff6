/**
 * The one place that knows how MAU is computed. Per environment: users = distinct user ids across all
 * sources (someone on iOS and Android is one user), events = sum of event_count; per source the same
 * within the source. The total sums environments: one id in two environments is two users.
 * `count` reads the summary counters the consumer keeps (a handful of rows, whatever the month's size);
 * `countByScan` computes the same from the raw rows, to check and to rebuild the summary.
 */
import type {RowDataPacket} from 'mysql2/promise'
import {configError} from './errors.js'
import type {YearMonth} from './month.js'
import {ALL_SOURCES} from './persist.js'
import {csvLine} from './render.js'
import {type Db, inTransaction} from './store.js'

type Queryable = Pick<Db, 'query'>

export interface SourceCount {
  source_id: string
  users: number
  events: number
}

export interface EnvironmentCount {
  environment_namespace: string
  users: number
  events: number
  sources: SourceCount[]
}

export interface MauCount {
  month: YearMonth
  environments: EnvironmentCount[]
  total: {users: number; events: number}
}

export interface CountFilter {
  month: YearMonth
  namespaces?: string[]
  sources?: string[]
  /**
   * Unix seconds: leave out rows whose events all came before it (updated_at is a row's last event).
   * Users are then exact; a row with events on both sides still counts all its events (see straddling).
   */
  since?: number
}

function where(f: CountFilter): {sql: string; values: unknown[]} {
  const parts = ['yearmonth = ?']
  const values: unknown[] = [f.month]
  if (f.namespaces?.length) {
    parts.push(`environment_namespace IN (${f.namespaces.map(() => '?').join(',')})`)
    values.push(...f.namespaces)
  }
  if (f.sources?.length) {
    parts.push(`source_id IN (${f.sources.map(() => '?').join(',')})`)
    values.push(...f.sources)
  }
  if (f.since !== undefined) {
    parts.push('updated_at >= ?')
    values.push(f.since)
  }
  return {sql: parts.join(' AND '), values}
}

export interface CountOptions {
  scan?: boolean
  /** Leave a named environment without events out of the result rather than fail. */
  allowMissing?: boolean
}

/**
 * The month's counts from mau_summary. Distinct users over a subset of several sources, and counts
 * since an instant, need the rows: those scan.
 */
export async function count(db: Db, f: CountFilter, opts: CountOptions = {}): Promise<MauCount> {
  if (opts.scan || (f.sources?.length ?? 0) > 1 || f.since !== undefined) return countByScan(db, f, opts)
  const w = where({...f, sources: undefined})
  const [rows] = await db.query<RowDataPacket[]>(
    `SELECT environment_namespace, source_id, users, events FROM mau_summary WHERE ${w.sql} ORDER BY environment_namespace, source_id`,
    w.values,
  )
  const only = f.sources?.[0]
  const all = rows.map((r) => ({environment_namespace: String(r.environment_namespace), source_id: String(r.source_id), users: Number(r.users), events: Number(r.events)}))
  const sources = all.filter((r) => r.source_id !== ALL_SOURCES && (only === undefined || r.source_id === only))
  // With one source selected, an environment's users are that source's users.
  const environments = only === undefined ? all.filter((r) => r.source_id === ALL_SOURCES) : sources
  return requireNamespaces(assemble(f.month, environments, sources), f, opts)
}

/** Computes the month's counts from the raw `mau` rows: exact, but reads every row of the month. */
export async function countByScan(db: Queryable, f: CountFilter, opts: CountOptions = {}): Promise<MauCount> {
  const w = where(f)
  const [perSource] = await db.query<RowDataPacket[]>(
    `SELECT environment_namespace, source_id, COUNT(*) AS users, CAST(SUM(event_count) AS SIGNED) AS events
       FROM mau WHERE ${w.sql} GROUP BY environment_namespace, source_id ORDER BY environment_namespace, source_id`,
    w.values,
  )
  const [perEnv] = await db.query<RowDataPacket[]>(
    `SELECT environment_namespace, COUNT(DISTINCT user_id) AS users, CAST(SUM(event_count) AS SIGNED) AS events
       FROM mau WHERE ${w.sql} GROUP BY environment_namespace ORDER BY environment_namespace`,
    w.values,
  )
  const result = assemble(
    f.month,
    perEnv.map((r) => ({environment_namespace: String(r.environment_namespace), users: Number(r.users), events: Number(r.events)})),
    perSource.map((r) => ({environment_namespace: String(r.environment_namespace), source_id: String(r.source_id), users: Number(r.users), events: Number(r.events)})),
  )
  return requireNamespaces(result, f, opts)
}

function requireNamespaces(result: MauCount, f: CountFilter, opts: CountOptions): MauCount {
  if (opts.allowMissing) return result
  const missing = (f.namespaces ?? []).filter((ns) => !result.environments.some((e) => e.environment_namespace === ns))
  if (missing.length > 0) {
    throw configError(`No events in ${f.month} for environment ${missing.map((m) => `"${m}"`).join(', ')}: expected one of the month's environments.`, [
      `List the month's environments with \`mau count --month ${f.month}\`.`,
    ])
  }
  return result
}

function assemble(
  month: YearMonth,
  environments: {environment_namespace: string; users: number; events: number}[],
  sources: (SourceCount & {environment_namespace: string})[],
): MauCount {
  const envs = environments.map((e) => ({
    environment_namespace: e.environment_namespace,
    users: e.users,
    events: e.events,
    sources: sources.filter((s) => s.environment_namespace === e.environment_namespace).map(({source_id, users, events}) => ({source_id, users, events})),
  }))
  return {
    month,
    environments: envs,
    total: {users: envs.reduce((a, e) => a + e.users, 0), events: envs.reduce((a, e) => a + e.events, 0)},
  }
}

/** CSV with one line per environment and, with bySource, one per environment and source. */
export function toCsv(c: MauCount, bySource: boolean): string {
  const lines = ['month,environment_namespace,source_id,users,events']
  for (const e of c.environments) {
    lines.push(csvLine([c.month, e.environment_namespace, '', e.users, e.events]))
    if (bySource) for (const s of e.sources) lines.push(csvLine([c.month, e.environment_namespace, s.source_id, s.users, s.events]))
  }
  lines.push(csvLine([c.month, '', '', c.total.users, c.total.events]))
  return `${lines.join('\n')}\n`
}

/** Rows with events both before and after `since`: their event_count cannot be split at it. */
export async function straddling(db: Queryable, f: CountFilter & {since: number}): Promise<{rows: number; events: number}> {
  const w = where({...f, since: undefined})
  const [rows] = await db.query<RowDataPacket[]>(
    `SELECT COUNT(*) AS n, CAST(COALESCE(SUM(event_count), 0) AS SIGNED) AS events FROM mau WHERE ${w.sql} AND created_at < ? AND updated_at >= ?`,
    [...w.values, f.since, f.since],
  )
  return {rows: Number(rows[0]!.n), events: Number(rows[0]!.events)}
}

/** The user ids counted for an environment (and source) in a month: what verify compares with Druid's. */
export async function userIds(db: Queryable, f: CountFilter & {namespaces: [string]}): Promise<string[]> {
  const w = where(f)
  const [rows] = await db.query<RowDataPacket[]>(`SELECT DISTINCT user_id FROM mau WHERE ${w.sql}`, w.values)
  return rows.map((r) => String(r.user_id))
}

export interface SummaryDifference {
  environment_namespace: string
  source_id: string
  summary: {users: number; events: number} | null
  scan: {users: number; events: number} | null
}

export interface CheckResult {
  month: YearMonth
  ok: boolean
  differences: SummaryDifference[]
}

function flatten(c: MauCount): Map<string, {environment_namespace: string; source_id: string; users: number; events: number}> {
  const out = new Map<string, {environment_namespace: string; source_id: string; users: number; events: number}>()
  for (const e of c.environments) {
    out.set(`${e.environment_namespace}\u0000`, {environment_namespace: e.environment_namespace, source_id: ALL_SOURCES, users: e.users, events: e.events})
    for (const s of e.sources) out.set(`${e.environment_namespace}\u0000${s.source_id}`, {environment_namespace: e.environment_namespace, ...s})
  }
  return out
}

/** Compares the summary with a scan of the rows; every line that differs is reported. */
export async function checkSummary(db: Db, month: YearMonth): Promise<CheckResult> {
  const [fromSummary, fromScan] = [flatten(await count(db, {month})), flatten(await countByScan(db, {month}))]
  const differences: SummaryDifference[] = []
  for (const k of new Set([...fromSummary.keys(), ...fromScan.keys()])) {
    const a = fromSummary.get(k)
    const b = fromScan.get(k)
    if (a?.users === b?.users && a?.events === b?.events) continue
    const base = (a ?? b)!
    differences.push({
      environment_namespace: base.environment_namespace,
      source_id: base.source_id,
      summary: a ? {users: a.users, events: a.events} : null,
      scan: b ? {users: b.users, events: b.events} : null,
    })
  }
  const order = (d: SummaryDifference) => `${d.environment_namespace}\u0000${d.source_id}`
  differences.sort((a, b) => (order(a) < order(b) ? -1 : 1))
  return {month, ok: differences.length === 0, differences}
}

/**
 * Recomputes a month's summary from the rows, safely while consumers run: the month's summary range is
 * locked first (next-key locks, so no consumer adds to it or inserts into it meanwhile), and only then
 * are the rows read, so the snapshot holds every batch committed before; batches still in flight wait
 * for the lock and add their part after the rebuild commits.
 */
export async function rebuildSummary(db: Db, month: YearMonth): Promise<{month: YearMonth; rows: number}> {
  return inTransaction(db, async (conn) => {
    await conn.query('SELECT yearmonth FROM mau_summary WHERE yearmonth = ? FOR UPDATE', [month])
    // A plain (consistent) read: INSERT ... SELECT would share-lock every row of the month and stall consumers.
    const lines = [...flatten(await countByScan(conn, {month})).values()]
    await conn.query('DELETE FROM mau_summary WHERE yearmonth = ?', [month])
    if (lines.length > 0) {
      await conn.query(
        `INSERT INTO mau_summary (yearmonth, environment_namespace, source_id, users, events) VALUES ${lines.map(() => '(?,?,?,?,?)').join(',')}`,
        lines.flatMap((l) => [month, l.environment_namespace, l.source_id, l.users, l.events]),
      )
    }
    return {month, rows: lines.length}
  })
}
