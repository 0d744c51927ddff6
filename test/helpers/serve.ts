/** Clients of both of `mau serve`'s APIs (test/fixtures/serve.ts starts it). */
import * as grpc from '@grpc/grpc-js'
import {loadProtos} from '../../src/serve/grpc.js'

type Unary = (
  request: object,
  metadata: grpc.Metadata,
  callback: (error: grpc.ServiceError | null, response: Record<string, unknown>) => void,
) => grpc.ClientUnaryCall

/** Stub clients of the platform's EventCounterService and InsightsService and of mau.v1.MAUService, built from the .proto files in proto/. */
export function grpcClients(port: number, credentials = grpc.credentials.createInsecure()) {
  const loaded = grpc.loadPackageDefinition(loadProtos()) as unknown as {
    bucketeer: {
      eventcounter: {EventCounterService: grpc.ServiceClientConstructor}
      insights: {InsightsService: grpc.ServiceClientConstructor}
    }
    mau: {v1: {MAUService: grpc.ServiceClientConstructor}}
  }
  const eventCounter = new loaded.bucketeer.eventcounter.EventCounterService(
    `127.0.0.1:${port}`,
    credentials,
  ) as unknown as grpc.Client & {GetMAUCount: Unary}
  const mau = new loaded.mau.v1.MAUService(`127.0.0.1:${port}`, credentials) as unknown as grpc.Client & {
    ListMAUCounts: Unary
  }
  const insights = new loaded.bucketeer.insights.InsightsService(
    `127.0.0.1:${port}`,
    credentials,
  ) as unknown as grpc.Client & {GetInsightsMonthlySummary: Unary}
  return {eventCounter, mau, insights}
}

/** One unary call, with its response, status and metadata. */
export function call(
  method: Unary,
  client: grpc.Client,
  request: object,
  token?: string,
): Promise<{response?: Record<string, unknown>; error?: grpc.ServiceError; metadata: grpc.Metadata}> {
  const md = new grpc.Metadata()
  if (token) md.set('authorization', `Bearer ${token}`)
  return new Promise((resolve) => {
    let metadata = new grpc.Metadata()
    const c = method.call(client, request, md, (error, response) =>
      resolve({response: error ? undefined : response, error: error ?? undefined, metadata}),
    )
    c.on('metadata', (m: grpc.Metadata) => (metadata = m))
  })
}
