/**
 * The platform's HTTP paths as grpc-gateway serves them, so that its callers need no change: GET
 * /v1/mau_count and GET /v1/insights/monthly_summary. Query parameters by proto or JSON name (repeated
 * ones repeated), bodies in protobuf's JSON mapping (lowerCamelCase, int64 as strings, enums by name,
 * every field present), errors as google.rpc.Status {code, message, details}.
 */
import {status as grpcStatus} from '@grpc/grpc-js'
import type {IncomingMessage, ServerResponse} from 'node:http'
import {sourceNames} from '../core/platform.js'
import type {Api} from './api.js'
import {type Problem, Refusal, refusalHeaders, tokenMatches} from './guard.js'
import {getMauCount, monthlySummary} from './platform.js'

export const GATEWAY_PATHS = new Set(['/v1/mau_count', '/v1/insights/monthly_summary'])

/** grpc-gateway's mapping of a gRPC status to an HTTP one (runtime.HTTPStatusFromCode). */
const GATEWAY_STATUS: Record<Problem, number> = {
  INVALID_ARGUMENT: 400,
  FAILED_PRECONDITION: 400,
  UNAUTHENTICATED: 401,
  NOT_FOUND: 404,
  RESOURCE_EXHAUSTED: 429,
  INTERNAL: 500,
  UNAVAILABLE: 503,
  DEADLINE_EXCEEDED: 504,
}

/** A query parameter by its proto name or its JSON name: grpc-gateway takes either. */
const param = (url: URL, snake: string): string[] => {
  const camel = snake.replace(/_([a-z])/g, (_, c: string) => c.toUpperCase())
  return [...url.searchParams.getAll(snake), ...(camel === snake ? [] : url.searchParams.getAll(camel))]
}
const one = (url: URL, snake: string): string | undefined => param(url, snake).at(-1)

export async function gateway(api: Api, url: URL, req: IncomingMessage, res: ServerResponse): Promise<void> {
  try {
    if (!tokenMatches(api.options.token, req.headers.authorization))
      throw new Refusal(
        'UNAUTHENTICATED',
        'UNAUTHENTICATED',
        'a valid bearer token is required (Authorization: Bearer ...).',
      )
    if (url.pathname === '/v1/mau_count') {
      const r = await getMauCount(api, 'http', {
        environment_id: one(url, 'environment_id'),
        environment_namespace: one(url, 'environment_namespace'),
        year_month: one(url, 'year_month'),
      })
      return send(res, 200, {eventCount: String(r.event_count), userCount: String(r.user_count)}, api, r.ageSeconds)
    }
    const r = await monthlySummary(api, 'http', {
      environment_ids: param(url, 'environment_ids'),
      source_ids: param(url, 'source_ids'),
    })
    const names = sourceNames()
    const series = r.series.map((s) => ({
      environmentId: s.environment_id,
      sourceId: names.get(s.source_id) ?? 'UNKNOWN',
      environmentName: s.environment_name,
      projectName: s.project_name,
      data: s.data.map((d) => ({yearmonth: d.yearmonth, mau: String(d.mau), requests: String(d.requests)})),
    }))
    return send(res, 200, {series}, api, r.ageSeconds)
  } catch (error) {
    const refusal = api.refuse(error, {api: 'http', path: url.pathname})
    const status = GATEWAY_STATUS[refusal.problem]
    res
      .writeHead(status, {'Content-Type': 'application/json', ...refusalHeaders(status)})
      .end(`${JSON.stringify({code: grpcStatus[refusal.problem], message: refusal.message, details: []})}\n`)
  }
}

function send(res: ServerResponse, status: number, body: unknown, api: Api, ageSeconds: number): void {
  res
    .writeHead(status, {'Content-Type': 'application/json', ...api.freshness(ageSeconds)})
    .end(`${JSON.stringify(body)}\n`)
}
