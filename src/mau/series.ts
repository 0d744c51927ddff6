/**
 * Every month that still has data, per environment and source, from the counters (kept totals of dropped months included): what the
 * platform's console reads as its monthly summary (InsightsService/GetInsightsMonthlySummary). Exact
 * distinct users per source, where the platform's own answer is a HyperLogLog estimate (about 0.8 %).
 */
import type {RowDataPacket} from 'mysql2/promise'
import type {Queryable} from '../core/db.js'
import type {YearMonth} from '../core/month.js'
import {ALL_SOURCES} from './rows.js'
import {COUNTERS} from './counters.js'

export interface SeriesPoint {
  yearmonth: YearMonth
  /** Distinct users of the source in the month. */
  users: number
  /** Events counted (the platform calls them requests). */
  events: number
}

export interface Series {
  environment_namespace: string
  source_id: string
  /** Ascending by month. */
  points: SeriesPoint[]
}

/** One series per environment and source, in key order; months ascending. */
export async function monthlySeries(db: Queryable): Promise<Series[]> {
  const [rows] = await db.query<RowDataPacket[]>(
    `SELECT environment_namespace, source_id, yearmonth, users, events FROM ${COUNTERS} c WHERE source_id <> ? AND users > 0 ORDER BY environment_namespace, source_id, yearmonth`,
    [ALL_SOURCES],
  )
  return toSeries(
    rows.map((r) => ({
      environment_namespace: String(r.environment_namespace),
      source_id: String(r.source_id),
      yearmonth: String(r.yearmonth),
      users: Number(r.users),
      events: Number(r.events),
    })),
  )
}

/** Pure: rows sorted by environment, source and month, grouped into series. */
export function toSeries(
  rows: {environment_namespace: string; source_id: string; yearmonth: YearMonth; users: number; events: number}[],
): Series[] {
  const out: Series[] = []
  for (const r of rows) {
    const last = out.at(-1)
    const point = {yearmonth: r.yearmonth, users: r.users, events: r.events}
    if (last && last.environment_namespace === r.environment_namespace && last.source_id === r.source_id)
      last.points.push(point)
    else out.push({environment_namespace: r.environment_namespace, source_id: r.source_id, points: [point]})
  }
  return out
}

/** Pure: the series of some environments and sources; none named means all. */
export function selectSeries(all: Series[], environments: readonly string[], sources: readonly string[]): Series[] {
  return all.filter(
    (s) =>
      (environments.length === 0 || environments.includes(s.environment_namespace)) &&
      (sources.length === 0 || sources.includes(s.source_id)),
  )
}
