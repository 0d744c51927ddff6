/**
 * `mau serve`: both APIs over one MySQL pool, until a signal. Stopping is graceful: readiness turns
 * false, neither server accepts anything new, requests in flight finish, then the pool closes.
 */
import * as grpc from '@grpc/grpc-js'
import type {Server} from 'node:http'
import {createServer as createNetServer, type Server as NetServer} from 'node:net'
import type {Db} from '../core/db.js'
import {ExitCode, MauError} from '../core/errors.js'
import type {Logger} from '../core/log.js'
import {Api, type ApiOptions} from './api.js'
import {MonthCounts} from './counts.js'
import {grpcServer, SERVICES} from './grpc.js'
import {httpServer} from './http.js'
import {ServeMetrics} from './metrics.js'

export interface ServeOptions extends ApiOptions {
  grpcPort: number
  httpPort: number
  /** Bind address for both ports. */
  host: string
  maxStalenessSeconds: number
  tls?: {cert: Buffer; key: Buffer}
  /** How long in-flight requests get to finish after a signal before they are cut. */
  drainSeconds: number
}

export interface ServeResult {
  grpcPort: number
  httpPort: number
  stoppedBy: 'signal'
  seconds: number
}

type ServeDeps = {
  log: Logger
  signal: AbortSignal
  mapError: (e: unknown) => unknown
  onListening?: (ports: {grpc: number; http: number}) => void
}

export async function serve(db: Db, o: ServeOptions, deps: ServeDeps): Promise<ServeResult> {
  // A request's failure must never stop the server: whatever escapes a handler is logged, and serving goes on.
  const survive = (error: unknown) => deps.log.error({err: error}, 'uncaught error; still serving')
  process.on('uncaughtException', survive)
  process.on('unhandledRejection', survive)
  try {
    return await serveUntilSignal(db, o, deps)
  } finally {
    process.off('uncaughtException', survive)
    process.off('unhandledRejection', survive)
  }
}

async function serveUntilSignal(db: Db, o: ServeOptions, deps: ServeDeps): Promise<ServeResult> {
  const started = Date.now()
  let stopping = false
  const ready = async () =>
    !stopping &&
    (await db.query('SELECT 1').then(
      () => true,
      () => false,
    ))
  const api = new Api(new MonthCounts(db, o.maxStalenessSeconds), o, new ServeMetrics(), deps.log, deps.mapError, ready)
  const {server: rpc, health} = grpcServer(api)
  const http = httpServer(api, o.tls)
  const {port: grpcPort, listener: grpcListener} = await listenGrpc(rpc, o)
  const httpPort = await listen(http, o.host, o.httpPort, 'HTTP')
  const setHealth = (serving: boolean) => {
    for (const name of ['', ...SERVICES]) health.setStatus(name, serving ? 'SERVING' : 'NOT_SERVING')
  }
  setHealth(await ready())
  const watch = setInterval(() => void ready().then(setHealth), 5_000)
  deps.log.info(
    {grpcPort, httpPort, tls: Boolean(o.tls), token: Boolean(o.token), maxStalenessSeconds: o.maxStalenessSeconds},
    'serving',
  )
  deps.onListening?.({grpc: grpcPort, http: httpPort})

  await new Promise<void>((resolve) =>
    deps.signal.aborted ? resolve() : deps.signal.addEventListener('abort', () => resolve(), {once: true}),
  )
  stopping = true
  clearInterval(watch)
  grpcListener.close()
  setHealth(false)
  deps.log.info({inFlight: api.limiter.inFlight}, 'stopping: finishing requests in flight')
  const drained = await Promise.race([
    Promise.all([new Promise<void>((resolve) => rpc.tryShutdown(() => resolve())), closeHttp(http)]).then(() => true),
    new Promise<boolean>((resolve) => setTimeout(() => resolve(false), o.drainSeconds * 1000).unref()),
  ])
  if (!drained) {
    deps.log.warn({drainSeconds: o.drainSeconds}, 'requests still running after the drain period: cutting them')
    rpc.forceShutdown()
    http.closeAllConnections()
  }
  return {grpcPort, httpPort, stoppedBy: 'signal', seconds: (Date.now() - started) / 1000}
}

/**
 * gRPC behind a listener of our own that hands each connection to grpc-js: grpc-js' own ports have no
 * limit on connections, and a thousand clients that only send the HTTP/2 preface were held for ever.
 */
async function listenGrpc(server: grpc.Server, o: ServeOptions): Promise<{port: number; listener: NetServer}> {
  const credentials = o.tls
    ? grpc.ServerCredentials.createSsl(null, [{cert_chain: o.tls.cert, private_key: o.tls.key}])
    : grpc.ServerCredentials.createInsecure()
  const injector = server.createConnectionInjector(credentials)
  const listener = createNetServer((socket) => injector.injectConnection(socket))
  listener.maxConnections = o.maxConnections
  return {port: await listen(listener, o.host, o.grpcPort, 'gRPC'), listener}
}

function listen(server: NetServer, host: string, port: number, what: 'gRPC' | 'HTTP'): Promise<number> {
  return new Promise((resolve, reject) => {
    server.once('error', (error) => reject(portError(what, `${host}:${port}`, error)))
    server.listen(port, host, () => resolve((server.address() as {port: number}).port))
  })
}

/** Stops accepting, lets requests in flight finish, closes idle keep-alive connections at once. */
function closeHttp(server: Server): Promise<void> {
  const closed = new Promise<void>((resolve) => server.close(() => resolve()))
  server.closeIdleConnections()
  return closed
}

const portError = (what: string, address: string, error: Error) =>
  new MauError(`Cannot listen for ${what} on ${address}: ${error.message}`, {
    exit: ExitCode.CONFIG,
    code: 'PORT_UNAVAILABLE',
    suggestions: [`Choose another port (--${what === 'gRPC' ? 'grpc' : 'http'}-port), or stop what uses it.`],
  })
