/**
 * The HTTP/JSON side of `mau serve`: GET /v1/mau (the document `mau count --json` prints), GET
 * /v1/mau/months (a range), and /metrics, /healthz, /readyz for Prometheus and the kubelet.
 */
import {createServer as createHttp, type IncomingMessage, type Server, type ServerResponse} from 'node:http'
import {createServer as createHttps} from 'node:https'
import {addMonths, currentMonth, monthsBetween} from '../core/month.js'
import {splitList} from '../core/settings.js'
import type {Api} from './api.js'
import {environmentOf, only} from './counts.js'
import {HTTP_STATUS, Refusal, requireMonth, tokenMatches} from './guard.js'

const MAX_MONTHS = 120

type Json = Record<string, unknown> | unknown[]

export function httpServer(api: Api, tls?: {cert: Buffer; key: Buffer}): Server {
  const handler = (req: IncomingMessage, res: ServerResponse) => void route(api, req, res)
  const server = tls ? createHttps({cert: tls.cert, key: tls.key}, handler) : createHttp(handler)
  // Slow clients cannot hold a connection open: headers and the whole request within the timeout.
  server.requestTimeout = api.options.timeoutSeconds * 1000
  server.headersTimeout = Math.min(api.options.timeoutSeconds * 1000, 60_000)
  return server
}

async function route(api: Api, req: IncomingMessage, res: ServerResponse): Promise<void> {
  const url = new URL(req.url ?? '/', 'http://mau')
  try {
    if (req.method !== 'GET' && req.method !== 'HEAD') throw new Refusal('INVALID_ARGUMENT', 'METHOD_NOT_ALLOWED', `${req.method} is not served: only GET.`)
    if (Number(req.headers['content-length'] ?? 0) > api.options.maxBodyBytes) throw new Refusal('INVALID_ARGUMENT', 'BODY_TOO_LARGE', `the body is larger than ${api.options.maxBodyBytes} bytes.`)
    switch (url.pathname) {
      case '/healthz':
        return text(res, 200, 'ok\n')
      case '/readyz':
        return (await api.ready()) ? text(res, 200, 'ok\n') : text(res, 503, 'MySQL does not answer, or the server is stopping\n')
      case '/metrics':
        return text(res, 200, await api.metrics.registry.metrics(), api.metrics.registry.contentType)
      case '/v1/mau':
      case '/v1/mau/months':
        if (!tokenMatches(api.options.token, req.headers.authorization)) throw new Refusal('UNAUTHENTICATED', 'UNAUTHENTICATED', 'a valid bearer token is required (Authorization: Bearer ...).')
        return url.pathname === '/v1/mau' ? await oneMonth(api, url, res) : await months(api, url, res)
      default:
        return json(res, 404, {error: {code: 'NOT_FOUND', message: `no such path: ${url.pathname}`}})
    }
  } catch (error) {
    const refusal = api.refuse(error, {api: 'http', path: url.pathname})
    const status = refusal.code === 'METHOD_NOT_ALLOWED' ? 405 : refusal.code === 'BODY_TOO_LARGE' ? 413 : HTTP_STATUS[refusal.problem]
    if (status === 401) res.setHeader('WWW-Authenticate', 'Bearer')
    if (status === 429) res.setHeader('Retry-After', '1')
    json(res, status, {error: {code: refusal.code, message: refusal.message}})
  }
}

/** Namespaces as `mau count --namespace` takes them: repeated, or comma-separated. */
const namespacesOf = (url: URL) => url.searchParams.getAll('namespace').flatMap(splitList)

async function oneMonth(api: Api, url: URL, res: ServerResponse): Promise<void> {
  const month = url.searchParams.has('month') ? requireMonth('month', url.searchParams.get('month')) : currentMonth(api.options.timezone)
  const by = url.searchParams.get('by')
  if (by !== null && by !== 'source') throw new Refusal('INVALID_ARGUMENT', 'BAD_BY', `by ${JSON.stringify(by)} is invalid: expected source.`)
  const namespaces = namespacesOf(url)
  const counted = await api.answer('http', 'GetMAU', () => api.counts.month(month))
  const missing = namespaces.filter((ns) => environmentOf(counted.value, ns).events === 0)
  // The same refusal as `mau count --namespace` for an environment without events.
  if (missing.length > 0) throw new Refusal('NOT_FOUND', 'NO_EVENTS', `No events in ${month} for environment ${missing.map((m) => `"${m}"`).join(', ')}: expected one of the month's environments.`)
  json(res, 200, only(counted.value, namespaces) as unknown as Json, freshness(api, counted.ageSeconds))
}

async function months(api: Api, url: URL, res: ServerResponse): Promise<void> {
  const to = url.searchParams.has('to') ? requireMonth('to', url.searchParams.get('to')) : currentMonth(api.options.timezone)
  const from = url.searchParams.has('from') ? requireMonth('from', url.searchParams.get('from')) : addMonths(to, -11)
  const span = monthsBetween(from, to) + 1
  if (span < 1 || span > MAX_MONTHS) throw new Refusal('INVALID_ARGUMENT', 'BAD_RANGE', `from ${from} to ${to} is ${span} months: expected from <= to, at most ${MAX_MONTHS} months.`)
  const namespaces = namespacesOf(url)
  const counted = await api.answer('http', 'GetMAUMonths', () => Promise.all(Array.from({length: span}, (_, i) => api.counts.month(addMonths(from, i)))))
  const oldest = Math.max(...counted.map((c) => c.ageSeconds))
  json(res, 200, {from, to, months: counted.map((c) => only(c.value, namespaces))}, freshness(api, oldest))
}

/** The staleness bound and this answer's age, so that a caller knows how old a count can be. */
const freshness = (api: Api, ageSeconds: number) => ({
  'Cache-Control': `private, max-age=${api.counts.maxAgeSeconds}`,
  'X-Mau-Max-Staleness-Seconds': String(api.counts.maxAgeSeconds),
  Age: String(Math.floor(ageSeconds)),
})

function json(res: ServerResponse, status: number, body: Json, headers: Record<string, string> = {}): void {
  res.writeHead(status, {'Content-Type': 'application/json', ...headers}).end(`${JSON.stringify(body)}\n`)
}

function text(res: ServerResponse, status: number, body: string, type = 'text/plain'): void {
  res.writeHead(status, {'Content-Type': type}).end(body)
}
