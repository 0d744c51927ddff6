/**
 * The one place that knows how MAU is computed. Per environment: users = distinct user ids across all
 * sources (someone on iOS and Android is one user), events = sum of event_count; per source the same
 * within the source. The total sums environments: one id in two environments is two users.
 */
import type {RowDataPacket} from 'mysql2/promise'
import {configError} from './errors.js'
import type {YearMonth} from './month.js'
import type {Db} from './store.js'

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
  return {sql: parts.join(' AND '), values}
}

/** Computes the month's counts from the raw `mau` rows: exact, but reads every row of the month. */
export async function countByScan(db: Db, f: CountFilter): Promise<MauCount> {
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
  const missing = (f.namespaces ?? []).filter((ns) => !result.environments.some((e) => e.environment_namespace === ns))
  if (missing.length > 0) {
    throw configError(`No events in ${f.month} for environment ${missing.map((m) => `"${m}"`).join(', ')}: expected one of the month's environments.`, [
      `List the month's environments with \`mau count --month ${f.month}\`.`,
    ])
  }
  return result
}

export function assemble(
  month: YearMonth,
  environments: {environment_namespace: string; users: number; events: number}[],
  sources: (SourceCount & {environment_namespace: string})[],
): MauCount {
  const envs = environments.map((e) => ({
    ...e,
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
  const quote = (v: string) => (/[",\n]/.test(v) ? `"${v.replace(/"/g, '""')}"` : v)
  const lines = ['month,environment_namespace,source_id,users,events']
  for (const e of c.environments) {
    lines.push([c.month, quote(e.environment_namespace), '', e.users, e.events].join(','))
    if (bySource) for (const s of e.sources) lines.push([c.month, quote(e.environment_namespace), quote(s.source_id), s.users, s.events].join(','))
  }
  lines.push([c.month, '', '', c.total.users, c.total.events].join(','))
  return `${lines.join('\n')}\n`
}
