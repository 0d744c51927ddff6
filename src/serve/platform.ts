/**
 * The platform's own read APIs, answered the same over gRPC (grpc.ts) and over HTTP as grpc-gateway serves
 * them (gateway.ts): EventCounterService/GetMAUCount of both request generations, and
 * InsightsService/GetInsightsMonthlySummary. Requests come in as the generated messages' fields.
 */
import {sourceName} from '../core/platform.js'
import {sourceNames} from '../core/platform.js'
import {selectSeries} from '../mau/series.js'
import type {Api} from './api.js'
import {environmentOf} from './counts.js'
import {Refusal, requireMonth} from './guard.js'

export interface MauCountRequest {
  environment_namespace?: string
  environment_id?: string
  year_month?: string
}

/** Pure: the environment a GetMAUCount names, by namespace (until November 2024) or id (since), or a refusal. */
export function requestedEnvironment(req: MauCountRequest): string {
  const ns = req.environment_namespace ?? ''
  const id = req.environment_id ?? ''
  if (ns !== '' && id !== '' && ns !== id) {
    throw new Refusal(
      'INVALID_ARGUMENT',
      'CONFLICTING_FIELDS',
      `environment_id ${JSON.stringify(id)} and environment_namespace ${JSON.stringify(ns)} differ: expected one of them, or both the same.`,
    )
  }
  const env = id || ns
  if (env === '')
    throw new Refusal(
      'INVALID_ARGUMENT',
      'MISSING_FIELD',
      "environment_id (or environment_namespace) is required: expected the environment's id.",
    )
  return env
}

export async function getMauCount(
  api: Api,
  via: 'grpc' | 'http',
  req: MauCountRequest,
): Promise<{event_count: number; user_count: number; ageSeconds: number}> {
  const env = requestedEnvironment(req)
  const month = requireMonth('year_month', req.year_month)
  const counted = await api.answer(via, 'GetMAUCount', () => api.counts.month(month))
  const e = environmentOf(counted.value, env)
  return {event_count: e.events, user_count: e.users, ageSeconds: counted.ageSeconds}
}

export interface MonthlySummaryRequest {
  environment_ids?: string[]
  /** SourceId numbers (gRPC), or names or numbers (HTTP query). */
  source_ids?: (number | string)[]
}

export interface MonthlySummarySeries {
  environment_id: string
  /** The SourceId number; 0 (UNKNOWN) for a source name newer than this build. */
  source_id: number
  environment_name: string
  project_name: string
  data: {yearmonth: string; mau: number; requests: number}[]
}

/** Pure: sources as the platform names them, from numbers or names; an unknown one is refused naming it. */
export function requestedSources(ids: readonly (number | string)[]): string[] {
  return ids.map((id) => {
    const parsed = sourceName(typeof id === 'string' && /^\d+$/.test(id) ? Number(id) : id)
    if (!parsed.ok) throw new Refusal('INVALID_ARGUMENT', 'BAD_SOURCE', `${parsed.message}.`)
    return parsed.value
  })
}

export async function monthlySummary(
  api: Api,
  via: 'grpc' | 'http',
  req: MonthlySummaryRequest,
): Promise<{series: MonthlySummarySeries[]; ageSeconds: number}> {
  const sources = requestedSources(req.source_ids ?? [])
  const environments = (req.environment_ids ?? []).filter((e) => e !== '')
  const read = await api.answer(via, 'GetInsightsMonthlySummary', () => api.counts.series())
  const numbers = new Map([...sourceNames()].map(([n, name]) => [name, n]))
  const series = selectSeries(read.value, environments, sources).map((s) => ({
    environment_id: s.environment_namespace,
    source_id: numbers.get(s.source_id) ?? 0,
    environment_name: '',
    project_name: '',
    data: s.points.map((p) => ({yearmonth: p.yearmonth, mau: p.users, requests: p.events})),
  }))
  return {series, ageSeconds: read.ageSeconds}
}
