/**
 * The one place that knows how MAU is computed. Per environment: users = distinct user ids across all
 * sources (someone on iOS and Android is one user), events = sum of event_count; per source the same
 * within the source. The total sums environments: one id in two environments is two users.
 * `count` reads the summary counters the consumer keeps (a handful of rows, whatever the month's size);
 * `countByScan` computes the same from the raw rows, to check and to rebuild the summary.
 */
import type {RowDataPacket} from 'mysql2/promise'
import type {Db, Queryable} from '../core/db.js'
import {configError} from '../core/errors.js'
import type {YearMonth} from '../core/month.js'
import {ALL_SOURCES} from './rows.js'
import {COUNTERS, DROPPED} from './counters.js'
import {requireRows} from '../schema/retention.js'

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
  /** "dropped": retention dropped the month's rows, and these are the totals kept of it. */
  rows?: typeof DROPPED
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
  /** With a scan: told the rows read so far, after each environment. */
  onRows?: (rows: number) => void
}

/**
 * The month's counts from mau_summary. Distinct users over a subset of several sources, and counts
 * since an instant, need the rows: those scan.
 */
export async function count(db: Db, f: CountFilter, opts: CountOptions = {}): Promise<MauCount> {
  if (opts.scan || (f.sources?.length ?? 0) > 1 || f.since !== undefined) {
    await requireRows(
      db,
      f.month,
      opts.scan
        ? 'count --scan'
        : f.since !== undefined
          ? 'a count since an instant'
          : 'distinct users over several sources',
    )
    return countByScan(db, f, opts)
  }
  const w = where({...f, sources: undefined})
  const [rows] = await db.query<RowDataPacket[]>(
    `SELECT environment_namespace, source_id, users, events, kept FROM ${COUNTERS} c WHERE ${w.sql} ORDER BY environment_namespace, source_id`,
    w.values,
  )
  const kept = rows.some((r) => Number(r.kept) === 1)
  const only = f.sources?.[0]
  const all = rows.map((r) => ({
    environment_namespace: String(r.environment_namespace),
    source_id: String(r.source_id),
    users: Number(r.users),
    events: Number(r.events),
  }))
  const sources = all.filter((r) => r.source_id !== ALL_SOURCES && (only === undefined || r.source_id === only))
  // With one source selected, an environment's users are that source's users.
  const environments = only === undefined ? all.filter((r) => r.source_id === ALL_SOURCES) : sources
  return requireNamespaces({...assemble(f.month, environments, sources), ...(kept ? {rows: DROPPED} : {})}, f, opts)
}

/**
 * Computes the month's counts from the raw `mau` rows: exact, but reads every row of the month. One
 * environment at a time (an index range each), so that onRows can tell how many rows are done.
 */
export async function countByScan(db: Queryable, f: CountFilter, opts: CountOptions = {}): Promise<MauCount> {
  const perEnv: {environment_namespace: string; users: number; events: number}[] = []
  const perSource: (SourceCount & {environment_namespace: string})[] = []
  let rowsDone = 0
  // Named environments in the order the table's binary collation gives the others.
  const named = f.namespaces?.length
    ? [...f.namespaces].sort((a, b) => Buffer.compare(Buffer.from(a), Buffer.from(b)))
    : undefined
  for (const ns of named ?? (await environmentsOf(db, f))) {
    const w = where({...f, namespaces: [ns]})
    const [sources] = await db.query<RowDataPacket[]>(
      `SELECT source_id, COUNT(*) AS users, CAST(SUM(event_count) AS SIGNED) AS events FROM mau WHERE ${w.sql} GROUP BY source_id ORDER BY source_id`,
      w.values,
    )
    if (sources.length === 0) continue
    const [env] = await db.query<RowDataPacket[]>(
      `SELECT COUNT(DISTINCT user_id) AS users, CAST(SUM(event_count) AS SIGNED) AS events FROM mau WHERE ${w.sql}`,
      w.values,
    )
    perEnv.push({environment_namespace: ns, users: Number(env[0]!.users), events: Number(env[0]!.events)})
    for (const r of sources)
      perSource.push({
        environment_namespace: ns,
        source_id: String(r.source_id),
        users: Number(r.users),
        events: Number(r.events),
      })
    rowsDone += sources.reduce((a, r) => a + Number(r.users), 0)
    opts.onRows?.(rowsDone)
  }
  return requireNamespaces(assemble(f.month, perEnv, perSource), f, opts)
}

/** The month's environments, in order (a short walk of the primary key's first column within the month's partition). */
async function environmentsOf(db: Queryable, f: CountFilter): Promise<string[]> {
  const w = where(f)
  const [rows] = await db.query<RowDataPacket[]>(
    `SELECT DISTINCT environment_namespace FROM mau WHERE ${w.sql} ORDER BY environment_namespace`,
    w.values,
  )
  return rows.map((r) => String(r.environment_namespace))
}

/** Named environments and sources without events in the month are refused alike (exit 2), naming them. */
function requireNamespaces(result: MauCount, f: CountFilter, opts: CountOptions): MauCount {
  if (opts.allowMissing) return result
  const missing = (f.namespaces ?? []).filter((ns) => !result.environments.some((e) => e.environment_namespace === ns))
  if (missing.length > 0) {
    throw configError(
      `No events in ${f.month} for environment ${missing.map((m) => `"${m}"`).join(', ')}: expected one of the month's environments.`,
      [`List the month's environments with \`mau count --month ${f.month}\`.`],
    )
  }
  const noSource = (f.sources ?? []).filter(
    (s) => !result.environments.some((e) => e.sources.some((x) => x.source_id === s)),
  )
  if (noSource.length > 0) {
    throw configError(
      `No events in ${f.month} for source ${noSource.map((s) => `"${s}"`).join(', ')}${f.namespaces?.length ? ' in the environments named' : ''}: expected one of the month's sources.`,
      [`List the month's sources with \`mau count --month ${f.month} --by source\`.`],
    )
  }
  return result
}

function assemble(
  month: YearMonth,
  environments: {environment_namespace: string; users: number; events: number}[],
  sources: (SourceCount & {environment_namespace: string})[],
): MauCount {
  // Grouped once: a month of many environments is assembled in one pass, not one scan of the sources each.
  const byEnvironment = new Map<string, SourceCount[]>()
  for (const {environment_namespace, source_id, users, events} of sources) {
    const list = byEnvironment.get(environment_namespace)
    if (list) list.push({source_id, users, events})
    else byEnvironment.set(environment_namespace, [{source_id, users, events}])
  }
  const envs = environments.map((e) => ({
    environment_namespace: e.environment_namespace,
    users: e.users,
    events: e.events,
    sources: byEnvironment.get(e.environment_namespace) ?? [],
  }))
  return {
    month,
    environments: envs,
    total: {users: envs.reduce((a, e) => a + e.users, 0), events: envs.reduce((a, e) => a + e.events, 0)},
  }
}

/** Rows with events both before and after `since`: their event_count cannot be split at it. */
export async function straddling(
  db: Queryable,
  f: CountFilter & {since: number},
): Promise<{rows: number; events: number}> {
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
