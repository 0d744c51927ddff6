/**
 * The gRPC side of `mau serve`: the platform's bucketeer.eventcounter.EventCounterService/GetMAUCount,
 * mau.v1.MAUService/ListMAUCounts for every environment of a month, the standard health service and
 * server reflection. Every answer carries how old its count may be, in its response metadata.
 */
import * as grpc from '@grpc/grpc-js'
import * as protoLoader from '@grpc/proto-loader'
import {ReflectionService} from '@grpc/reflection'
import {HealthImplementation} from 'grpc-health-check'
import {fileURLToPath} from 'node:url'
import type {Api} from './api.js'
import {Refusal, requireMonth, tokenMatches} from './guard.js'
import {getMauCount, type MauCountRequest, monthlySummary, type MonthlySummaryRequest} from './platform.js'

export const PROTO_DIR = fileURLToPath(new URL('../../proto/', import.meta.url))
export const PROTO_FILES = ['bucketeer/eventcounter/mau.proto', 'bucketeer/insights/insights.proto', 'mau/v1/mau.proto']
const LOAD_OPTIONS = {keepCase: true, longs: String, defaults: true, includeDirs: [PROTO_DIR]}

export const EVENT_COUNTER = 'bucketeer.eventcounter.EventCounterService'
export const MAU_SERVICE = 'mau.v1.MAUService'
export const INSIGHTS = 'bucketeer.insights.InsightsService'
/** What the health service reports on, beside the server as a whole (''). */
export const SERVICES = [EVENT_COUNTER, INSIGHTS, MAU_SERVICE]

export function loadProtos(): protoLoader.PackageDefinition {
  return protoLoader.loadSync(PROTO_FILES, LOAD_OPTIONS)
}

type Handler<Req, Res> = (call: grpc.ServerUnaryCall<Req, Res>, callback: grpc.sendUnaryData<Res>) => void

export function grpcServer(api: Api): {server: grpc.Server; health: HealthImplementation} {
  const definition = loadProtos()
  const loaded = grpc.loadPackageDefinition(definition) as unknown as {
    bucketeer: {
      eventcounter: {EventCounterService: {service: grpc.ServiceDefinition}}
      insights: {InsightsService: {service: grpc.ServiceDefinition}}
    }
    mau: {v1: {MAUService: {service: grpc.ServiceDefinition}}}
  }
  const server = new grpc.Server({
    'grpc.max_receive_message_length': api.options.maxBodyBytes,
    // A connection that sent only the HTTP/2 preface, or nothing since its last call, is closed after this.
    'grpc.max_connection_idle_ms': api.options.idleSeconds * 1000,
  })
  server.addService(loaded.bucketeer.eventcounter.EventCounterService.service, {
    GetMAUCount: unary(api, 'GetMAUCount', async (req: MauCountRequest, meta) => {
      const {ageSeconds, ...counts} = await getMauCount(api, 'grpc', req)
      meta.set('x-mau-age-seconds', ageSeconds.toFixed(3))
      return counts
    }),
  })
  server.addService(loaded.bucketeer.insights.InsightsService.service, {
    GetInsightsMonthlySummary: unary(api, 'GetInsightsMonthlySummary', async (req: MonthlySummaryRequest, meta) => {
      const {ageSeconds, series} = await monthlySummary(api, 'grpc', req)
      meta.set('x-mau-age-seconds', ageSeconds.toFixed(3))
      return {series}
    }),
  })
  server.addService(loaded.mau.v1.MAUService.service, {
    ListMAUCounts: unary(api, 'ListMAUCounts', async (req: {year_month?: string}, meta) => {
      const month = requireMonth('year_month', req.year_month)
      const counted = await api.answer('grpc', 'ListMAUCounts', () => api.counts.month(month))
      meta.set('x-mau-age-seconds', counted.ageSeconds.toFixed(3))
      const c = counted.value
      return {
        year_month: month,
        environments: c.environments.map((e) => ({
          environment_namespace: e.environment_namespace,
          user_count: e.users,
          event_count: e.events,
          sources: e.sources.map((s) => ({source_id: s.source_id, user_count: s.users, event_count: s.events})),
        })),
        user_count: c.total.users,
        event_count: c.total.events,
      }
    }),
  })
  const health = new HealthImplementation(Object.fromEntries(['', ...SERVICES].map((name) => [name, 'NOT_SERVING'])))
  health.addToServer(server)
  new ReflectionService(definition).addToServer(server)
  return {server, health}
}

/** A unary method behind the token, answering a Refusal with its status and message, never a stack. */
function unary<Req, Res>(
  api: Api,
  method: string,
  fn: (req: Req, meta: grpc.Metadata) => Promise<Res>,
): Handler<Req, Res> {
  return (call, callback) => {
    const meta = new grpc.Metadata()
    meta.set('x-mau-max-staleness-seconds', String(api.counts.maxAgeSeconds))
    const authorization = call.metadata.get('authorization')[0]
    const run = async () => {
      if (!tokenMatches(api.options.token, typeof authorization === 'string' ? authorization : undefined)) {
        throw new Refusal(
          'UNAUTHENTICATED',
          'UNAUTHENTICATED',
          'a valid bearer token is required (metadata authorization: Bearer ...).',
        )
      }
      return fn(call.request, meta)
    }
    run().then(
      (response) => {
        call.sendMetadata(meta)
        callback(null, response)
      },
      (error: unknown) => {
        const refusal = api.refuse(error, {api: 'grpc', method})
        call.sendMetadata(meta)
        callback({code: grpc.status[refusal.problem], details: refusal.message, metadata: meta})
      },
    )
  }
}
