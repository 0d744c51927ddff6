/**
 * Months over time: users and events per environment for a range of months, each with its change from
 * the month before, read from the summary counters in one query whatever the range.
 */
import type {RowDataPacket} from 'mysql2/promise'
import type {Db} from '../core/db.js'
import {configError} from '../core/errors.js'
import {addMonths, monthsBetween, type YearMonth} from '../core/month.js'
import {ALL_SOURCES} from './rows.js'
import {COUNTERS, DROPPED} from './counters.js'

/** The most months one history reads: ten years. */
export const MAX_MONTHS = 120

export interface Change {
  users: number
  events: number
  /** Percent change from the month before; null when the month before had none (a new environment, the first month). */
  users_change_percent: number | null
  events_change_percent: number | null
}

export interface HistoryMonth {
  month: YearMonth
  environments: (Change & {environment_namespace: string})[]
  total: Change
  /** "dropped": the month's rows are gone, these are its kept totals. */
  rows?: typeof DROPPED
}

export interface MauHistory {
  from: YearMonth
  to: YearMonth
  months: HistoryMonth[]
}

export interface HistoryFilter {
  from: YearMonth
  to: YearMonth
  namespaces?: string[]
  /** One source: its users and events; otherwise all sources (users distinct across them). */
  source?: string
}

/** The months from..to, checked: in order and at most MAX_MONTHS. */
export function monthRange(from: YearMonth, to: YearMonth): YearMonth[] {
  const n = monthsBetween(from, to) + 1
  if (n < 1) throw configError(`--from ${from} is after --to ${to}: expected the earlier month first.`)
  if (n > MAX_MONTHS)
    throw configError(`${from} to ${to} is ${n} months: expected at most ${MAX_MONTHS}.`, [
      'Narrow the range with --from and --to, or use --last.',
    ])
  return Array.from({length: n}, (_, i) => addMonths(from, i))
}

/** Percent change to one decimal; null when there is nothing to compare with. */
export const percentChange = (now: number, before: number | undefined): number | null =>
  before === undefined || before === 0 ? null : Math.round(((now - before) / before) * 1000) / 10

/**
 * Pure: one line per month and environment (an environment missing in a month reads 0 there), and a total
 * per month. The month before `months[0]` may be given so that the first month has a change too.
 */
export function trend(
  months: YearMonth[],
  rows: {month: YearMonth; environment_namespace: string; users: number; events: number}[],
): HistoryMonth[] {
  const envs = [...new Set(rows.map((r) => r.environment_namespace))].sort()
  const at = new Map(rows.map((r) => [`${r.month}\u0000${r.environment_namespace}`, r]))
  const out: HistoryMonth[] = []
  let before: Map<string, {users: number; events: number}> | undefined
  const first = rows.some((r) => r.month < months[0]!) ? addMonths(months[0]!, -1) : undefined
  for (const month of first ? [first, ...months] : months) {
    const now = new Map(
      envs.map((e) => [
        e,
        {users: at.get(`${month}\u0000${e}`)?.users ?? 0, events: at.get(`${month}\u0000${e}`)?.events ?? 0},
      ]),
    )
    const sum = (m: Map<string, {users: number; events: number}>) =>
      [...m.values()].reduce((a, v) => ({users: a.users + v.users, events: a.events + v.events}), {users: 0, events: 0})
    const change = (v: {users: number; events: number}, b: {users: number; events: number} | undefined): Change => ({
      ...v,
      users_change_percent: percentChange(v.users, b?.users),
      events_change_percent: percentChange(v.events, b?.events),
    })
    if (month !== first) {
      out.push({
        month,
        environments: envs.map((e) => ({environment_namespace: e, ...change(now.get(e)!, before?.get(e))})),
        total: change(sum(now), before && sum(before)),
      })
    }
    before = now
  }
  return out
}

export async function history(db: Db, f: HistoryFilter): Promise<MauHistory> {
  const months = monthRange(f.from, f.to)
  const values: unknown[] = [addMonths(f.from, -1), f.to, f.source ?? ALL_SOURCES]
  let sql = `SELECT yearmonth, environment_namespace, users, events, kept FROM ${COUNTERS} c WHERE yearmonth BETWEEN ? AND ? AND source_id = ?`
  if (f.namespaces?.length) {
    sql += ` AND environment_namespace IN (${f.namespaces.map(() => '?').join(',')})`
    values.push(...f.namespaces)
  }
  const [rows] = await db.query<RowDataPacket[]>(sql, values)
  const lines = rows.map((r) => ({
    month: String(r.yearmonth),
    environment_namespace: String(r.environment_namespace),
    users: Number(r.users),
    events: Number(r.events),
  }))
  const kept = new Set(rows.filter((r) => Number(r.kept) === 1).map((r) => String(r.yearmonth)))
  return {
    from: f.from,
    to: f.to,
    months: trend(months, lines).map((m) => (kept.has(m.month) ? {...m, rows: DROPPED} : m)),
  }
}
