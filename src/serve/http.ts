/**
 * The HTTP/JSON side of `mau serve`: GET /v1/mau (the document `mau count --json` prints), GET
 * /v1/mau/months (a range), the platform's own paths (gateway.ts), and /metrics, /healthz, /readyz for
 * Prometheus and the kubelet.
 */
import {createServer as createHttp, type IncomingMessage, type Server, type ServerResponse} from 'node:http'
import {createServer as createHttps} from 'node:https'
import {addMonths, currentMonth, monthsBetween} from '../core/month.js'
import {splitList} from '../core/settings.js'
import type {Api} from './api.js'
import {environmentOf, only} from './counts.js'
import {gateway, GATEWAY_PATHS} from './gateway.js'
import {HTTP_STATUS, Refusal, refusalHeaders, requireMonth, tokenMatches} from './guard.js'

const MAX_MONTHS = 120

type Json = Record<string, unknown> | unknown[]

export function httpServer(api: Api, tls?: {cert: Buffer; key: Buffer}): Server {
  // Nothing a request sends may escape the handler: whatever it throws is answered (500) and logged.
  const handler = (req: IncomingMessage, res: ServerResponse) =>
    void route(api, req, res).catch((error: unknown) => lastResort(api, res, error))
  // Slow clients cannot hold a connection open: headers and the whole request within the timeout. Node
  // checks both only every connectionsCheckingInterval (30 s by default): once a second keeps the promise.
  const timeouts = {
    requestTimeout: api.options.timeoutSeconds * 1000,
    headersTimeout: Math.min(api.options.timeoutSeconds * 1000, 60_000),
    connectionsCheckingInterval: 1000,
  }
  const server = tls ? createHttps({cert: tls.cert, key: tls.key, ...timeouts}, handler) : createHttp(timeouts, handler)
  server.maxConnections = api.options.maxConnections
  return server
}

/**
 * Pure: the URL of a request target, or a refusal. Origin-form ("/v1/mau?x", even "//") is read as a path of
 * this server; absolute-form ("http://host:port/path") must be a valid URL.
 */
export function requestUrl(target: string | undefined): URL {
  const t = target ?? '/'
  try {
    return t.startsWith('/') ? new URL(`http://mau${t}`) : new URL(t)
  } catch {
    throw new Refusal(
      'INVALID_ARGUMENT',
      'BAD_TARGET',
      `request target ${JSON.stringify(t.slice(0, 100))} is not valid: expected a path such as /v1/mau?month=202212.`,
    )
  }
}

/** Reads and discards a body, refusing it past max bytes whatever framing it came in (Content-Length or chunked). */
function discardBody(req: IncomingMessage, max: number): Promise<void> {
  if (Number(req.headers['content-length'] ?? 0) > max) return Promise.reject(tooLarge(max))
  return new Promise((resolve, reject) => {
    let bytes = 0
    req.on('data', (chunk: Buffer) => {
      bytes += chunk.length
      if (bytes > max) {
        req.removeAllListeners('data')
        req.pause()
        reject(tooLarge(max))
      }
    })
    req.once('end', resolve)
    req.once('error', reject)
  })
}

const tooLarge = (max: number) =>
  new Refusal('INVALID_ARGUMENT', 'BODY_TOO_LARGE', `the body is larger than ${max} bytes.`)

async function route(api: Api, req: IncomingMessage, res: ServerResponse): Promise<void> {
  let path = '?'
  try {
    const url = requestUrl(req.url)
    path = url.pathname
    if (req.method !== 'GET' && req.method !== 'HEAD')
      throw new Refusal('INVALID_ARGUMENT', 'METHOD_NOT_ALLOWED', `${req.method} is not served: only GET.`)
    await discardBody(req, api.options.maxBodyBytes)
    // The platform's paths answer errors as google.rpc.Status, as grpc-gateway does.
    if (GATEWAY_PATHS.has(url.pathname)) return await gateway(api, url, req, res)
    switch (url.pathname) {
      case '/healthz':
        return text(res, 200, 'ok\n')
      case '/readyz':
        return (await api.ready())
          ? text(res, 200, 'ok\n')
          : text(res, 503, 'MySQL does not answer, or the server is stopping\n')
      case '/metrics':
        return text(res, 200, await api.metrics.registry.metrics(), api.metrics.registry.contentType)
      case '/v1/mau':
      case '/v1/mau/months':
        if (!tokenMatches(api.options.token, req.headers.authorization))
          throw new Refusal(
            'UNAUTHENTICATED',
            'UNAUTHENTICATED',
            'a valid bearer token is required (Authorization: Bearer ...).',
          )
        return url.pathname === '/v1/mau' ? await oneMonth(api, url, res) : await months(api, url, res)
      default:
        return json(res, 404, {error: {code: 'NOT_FOUND', message: `no such path: ${url.pathname}`}})
    }
  } catch (error) {
    const refusal = api.refuse(error, {api: 'http', path})
    const status =
      refusal.code === 'METHOD_NOT_ALLOWED'
        ? 405
        : refusal.code === 'BODY_TOO_LARGE'
          ? 413
          : HTTP_STATUS[refusal.problem]
    json(res, status, {error: {code: refusal.code, message: refusal.message}}, refusalHeaders(status))
  }
}

function lastResort(api: Api, res: ServerResponse, error: unknown): void {
  api.log.error({err: error}, 'request failed outside its handler; answered 500')
  if (!res.headersSent) json(res, 500, {error: {code: 'INTERNAL', message: 'internal error; see the server log'}})
  else res.destroy()
}

/** Namespaces as `mau count --namespace` takes them: repeated, or comma-separated. */
const namespacesOf = (url: URL) => url.searchParams.getAll('namespace').flatMap(splitList)

async function oneMonth(api: Api, url: URL, res: ServerResponse): Promise<void> {
  const month = url.searchParams.has('month')
    ? requireMonth('month', url.searchParams.get('month'))
    : currentMonth(api.options.timezone)
  const by = url.searchParams.get('by')
  if (by !== null && by !== 'source')
    throw new Refusal('INVALID_ARGUMENT', 'BAD_BY', `by ${JSON.stringify(by)} is invalid: expected source.`)
  const namespaces = namespacesOf(url)
  const counted = await api.answer('http', 'GetMAU', () => api.counts.month(month))
  const missing = namespaces.filter((ns) => environmentOf(counted.value, ns).events === 0)
  // The same refusal as `mau count --namespace` for an environment without events.
  if (missing.length > 0)
    throw new Refusal(
      'NOT_FOUND',
      'NO_EVENTS',
      `No events in ${month} for environment ${missing.map((m) => `"${m}"`).join(', ')}: expected one of the month's environments.`,
    )
  json(res, 200, only(counted.value, namespaces) as unknown as Json, api.freshness(counted.ageSeconds))
}

async function months(api: Api, url: URL, res: ServerResponse): Promise<void> {
  const to = url.searchParams.has('to')
    ? requireMonth('to', url.searchParams.get('to'))
    : currentMonth(api.options.timezone)
  const from = url.searchParams.has('from') ? requireMonth('from', url.searchParams.get('from')) : addMonths(to, -11)
  const span = monthsBetween(from, to) + 1
  if (span < 1 || span > MAX_MONTHS)
    throw new Refusal(
      'INVALID_ARGUMENT',
      'BAD_RANGE',
      `from ${from} to ${to} is ${span} months: expected from <= to, at most ${MAX_MONTHS} months.`,
    )
  const namespaces = namespacesOf(url)
  const counted = await api.answer('http', 'GetMAUMonths', () =>
    Promise.all(Array.from({length: span}, (_, i) => api.counts.month(addMonths(from, i)))),
  )
  const oldest = Math.max(...counted.map((c) => c.ageSeconds))
  json(res, 200, {from, to, months: counted.map((c) => only(c.value, namespaces))}, api.freshness(oldest))
}

function json(res: ServerResponse, status: number, body: Json, headers: Record<string, string> = {}): void {
  res.writeHead(status, {'Content-Type': 'application/json', ...headers}).end(`${JSON.stringify(body)}\n`)
}

function text(res: ServerResponse, status: number, body: string, type = 'text/plain'): void {
  res.writeHead(status, {'Content-Type': type}).end(body)
}
