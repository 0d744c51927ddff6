/** `mau serve` as a child process, as the Deployment runs it, and clients of both of its APIs. */
import * as grpc from '@grpc/grpc-js'
import {spawn} from 'node:child_process'
import {loadProtos} from '../../src/serve/grpc.js'

export interface Running {
  grpcPort: number
  httpPort: number
  http: (path: string, init?: RequestInit) => Promise<Response>
  /** Sends the signal and waits for the exit code. */
  stop: (signal?: NodeJS.Signals) => Promise<number | null>
  stderr: () => string
}

/** Starts the built CLI on free ports (0) and waits for its "serving" log line, which names them. */
export function startServe(env: Record<string, string>, args: string[] = [], protocol = 'http'): Promise<Running> {
  const child = spawn('node', ['bin/run.js', 'serve', '--grpc-port', '0', '--http-port', '0', '--host', '127.0.0.1', ...args], {env: {...process.env, ...env}})
  let stderr = ''
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)))
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`mau serve did not start: ${stderr}`)), 20_000)
    child.stderr.on('data', (chunk) => {
      stderr += chunk
      const line = stderr.split('\n').find((l) => l.includes('"msg":"serving"'))
      if (!line) return
      clearTimeout(timer)
      const {grpcPort, httpPort} = JSON.parse(line) as {grpcPort: number; httpPort: number}
      resolve({
        grpcPort,
        httpPort,
        http: (path, init) => fetch(`${protocol}://127.0.0.1:${httpPort}${path}`, init),
        stop: async (signal = 'SIGTERM') => {
          child.kill(signal)
          return exited
        },
        stderr: () => stderr,
      })
    })
    void exited.then((code) => reject(new Error(`mau serve exited ${code}: ${stderr}`)))
  })
}

type Unary = (request: object, metadata: grpc.Metadata, callback: (error: grpc.ServiceError | null, response: Record<string, unknown>) => void) => grpc.ClientUnaryCall

/** Stub clients of the platform's EventCounterService and mau.v1.MAUService, built from the .proto files in proto/. */
export function grpcClients(port: number, credentials = grpc.credentials.createInsecure()) {
  const loaded = grpc.loadPackageDefinition(loadProtos()) as unknown as {
    bucketeer: {eventcounter: {EventCounterService: grpc.ServiceClientConstructor}}
    mau: {v1: {MAUService: grpc.ServiceClientConstructor}}
  }
  const eventCounter = new loaded.bucketeer.eventcounter.EventCounterService(`127.0.0.1:${port}`, credentials) as unknown as grpc.Client & {GetMAUCount: Unary}
  const mau = new loaded.mau.v1.MAUService(`127.0.0.1:${port}`, credentials) as unknown as grpc.Client & {ListMAUCounts: Unary}
  return {eventCounter, mau}
}

/** One unary call, with its response, status and metadata. */
export function call(method: Unary, client: grpc.Client, request: object, token?: string): Promise<{response?: Record<string, unknown>; error?: grpc.ServiceError; metadata: grpc.Metadata}> {
  const md = new grpc.Metadata()
  if (token) md.set('authorization', `Bearer ${token}`)
  return new Promise((resolve) => {
    let metadata = new grpc.Metadata()
    const c = method.call(client, request, md, (error, response) => resolve({response: error ? undefined : response, error: error ?? undefined, metadata}))
    c.on('metadata', (m: grpc.Metadata) => (metadata = m))
  })
}
