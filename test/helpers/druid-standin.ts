/**
 * A stand-in for a Druid broker in the default test suite: a real HTTP server on loopback implementing
 * the documented POST /druid/v2/sql contract over events the test gives it. Every answer is computed by
 * druid-sql.ts from those events; nothing is canned. It validates requests as Druid does (JSON body,
 * query, resultFormat, typed parameters, context), answers in the object format mau asks for, and fails in both of
 * Druid's error shapes: the newer druidException one, or with legacyErrors the older
 * {error, errorMessage, errorClass, host}. Tests can also make it slow, demand basic auth, or fail.
 */
import {createServer, type IncomingMessage, type ServerResponse} from 'node:http'
import {createServer as createTlsServer} from 'node:https'
import dayjs from 'dayjs'
import {isValidTimezone} from '../../src/core/settings.js'
import {execute, parse, SqlError, Ts, type Event, type Value} from './druid-sql.js'

export interface StandinBehaviour {
  /** Answer in the pre-2023 error shape. */
  legacyErrors: boolean
  /** Wait this long before answering; a query whose context.timeout is shorter times out (HTTP 504). */
  delayMs: number
  /** Demand HTTP basic auth with these credentials. */
  credentials?: {user: string; password: string}
  /** Answer the next query with this status and body instead of running it. */
  failNext?: {status: number; body: string}
}

export interface ReceivedQuery {
  query: string
  parameters: {type: string; value: unknown}[]
  context: Record<string, unknown>
  resultFormat: string
  header: boolean
}

const PARAMETER_TYPES = new Set([
  'VARCHAR',
  'CHAR',
  'BIGINT',
  'INTEGER',
  'SMALLINT',
  'TINYINT',
  'DOUBLE',
  'FLOAT',
  'REAL',
  'DECIMAL',
  'BOOLEAN',
  'TIMESTAMP',
  'DATE',
])
const RESULT_FORMATS = new Set(['object'])

class RequestError extends Error {
  constructor(
    readonly status: number,
    message: string,
    readonly category = 'INVALID_INPUT',
    readonly errorCode = 'invalidInput',
    readonly persona = 'USER',
  ) {
    super(message)
  }
}

/** With tls (a PEM key and certificate), it serves https. */
export async function druidStandin(
  datasources: Record<string, Event[]>,
  initial: Partial<StandinBehaviour> = {},
  tls?: {key: string; cert: string},
) {
  const behaviour: StandinBehaviour = {legacyErrors: false, delayMs: 0, ...initial}
  const queries: ReceivedQuery[] = []
  const cancelled: string[] = []

  const fail = (res: ServerResponse, e: RequestError, queryId?: string) => {
    const body = behaviour.legacyErrors
      ? {
          error: e.category === 'TIMEOUT' ? 'Query timeout' : 'Plan validation failed',
          errorMessage: e.message,
          errorClass:
            e.category === 'TIMEOUT'
              ? 'org.apache.druid.query.QueryTimeoutException'
              : 'org.apache.calcite.tools.ValidationException',
          host: null,
        }
      : {
          error: 'druidException',
          errorCode: e.errorCode,
          persona: e.persona,
          category: e.category,
          errorMessage: e.message,
          context: {},
        }
    res.writeHead(e.status, {'Content-Type': 'application/json', ...(queryId ? {'X-Druid-SQL-Query-Id': queryId} : {})})
    res.end(JSON.stringify(body))
  }

  const answer = async (req: IncomingMessage, res: ServerResponse, text: string) => {
    if (behaviour.credentials) {
      const expected = `Basic ${Buffer.from(`${behaviour.credentials.user}:${behaviour.credentials.password}`).toString('base64')}`
      if (req.headers.authorization !== expected) {
        res.writeHead(401, {'Content-Type': 'text/html', 'WWW-Authenticate': 'Basic realm="druid"'})
        return res.end('<html><body><h2>HTTP ERROR 401 Unauthorized</h2></body></html>')
      }
    }
    const cancel = /^\/druid\/v2\/sql\/([^/]+)$/.exec(req.url ?? '')
    if (req.method === 'DELETE' && cancel) {
      cancelled.push(decodeURIComponent(cancel[1]!))
      return res.writeHead(202).end()
    }
    if (req.method !== 'POST' || req.url !== '/druid/v2/sql')
      return res.writeHead(404, {'Content-Type': 'text/plain'}).end('Not Found')
    if (!String(req.headers['content-type']).startsWith('application/json')) {
      return fail(
        res,
        new RequestError(415, `Unsupported Content-Type [${req.headers['content-type']}]: expected application/json`),
      )
    }
    const request = parseRequest(text)
    queries.push(request)
    const queryId = String(request.context.sqlQueryId ?? `standin-${queries.length}`)
    const timeout = typeof request.context.timeout === 'number' ? request.context.timeout : Infinity
    if (behaviour.delayMs > 0) await new Promise((r) => setTimeout(r, Math.min(behaviour.delayMs, timeout)))
    if (timeout < behaviour.delayMs)
      throw new RequestError(504, `Query [${queryId}] timed out.`, 'TIMEOUT', 'legacyQueryException', 'OPERATOR')
    if (behaviour.failNext) {
      const {status, body} = behaviour.failNext
      behaviour.failNext = undefined
      return res.writeHead(status, {'Content-Type': 'application/json'}).end(body)
    }
    const zone = String(request.context.sqlTimeZone ?? 'UTC')
    let result: {columns: string[]; rows: Value[][]}
    try {
      const q = parse(request.query)
      const events = datasources[q.table]
      if (!events) throw new SqlError(`Object '${q.table}' not found`)
      result = execute(q, events, {
        params: request.parameters.map((p, i) => bind(p, i, zone)),
        zone,
        exactDistinct: request.context.useApproximateCountDistinct === false,
      })
    } catch (error) {
      if (error instanceof SqlError)
        throw new RequestError(
          400,
          error.message,
          error.kind === 'unsupported' ? 'UNSUPPORTED' : 'INVALID_INPUT',
          error.kind,
        )
      throw error
    }
    const render = (v: Value) =>
      v instanceof Ts ? dayjs(v.ms).tz(zone).format('YYYY-MM-DDTHH:mm:ss.SSSZ').replace('+00:00', 'Z') : v
    const rows = result.rows.map((r) => r.map(render))
    res.writeHead(200, {'Content-Type': 'application/json', 'X-Druid-SQL-Query-Id': queryId})
    res.end(format(result.columns, rows, request.header))
  }

  const handle = (req: IncomingMessage, res: ServerResponse) => {
    let text = ''
    req.on('data', (c) => (text += c))
    req.on('end', () => {
      answer(req, res, text).catch((error) => {
        if (error instanceof RequestError) return fail(res, error)
        fail(
          res,
          new RequestError(
            500,
            `stand-in failure: ${(error as Error).message}`,
            'RUNTIME_FAILURE',
            'internal',
            'OPERATOR',
          ),
        )
      })
    })
  }
  const server = tls ? createTlsServer(tls, handle) : createServer(handle)
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r))
  return {
    url: `${tls ? 'https' : 'http'}://127.0.0.1:${(server.address() as {port: number}).port}`,
    behaviour,
    queries,
    cancelled,
    close: () => new Promise<void>((r) => (server.closeAllConnections(), server.close(() => r()))),
  }
}

function parseRequest(text: string): ReceivedQuery {
  let body: Record<string, unknown>
  try {
    body = JSON.parse(text) as Record<string, unknown>
  } catch {
    throw new RequestError(400, 'Malformed SQL query wrapper: the body is not JSON')
  }
  if (typeof body.query !== 'string' || body.query.trim() === '')
    throw new RequestError(400, 'Query must be a non-empty string')
  const resultFormat = String(body.resultFormat ?? 'object')
  if (!RESULT_FORMATS.has(resultFormat)) throw new RequestError(400, `Unknown resultFormat [${resultFormat}]`)
  const parameters = (body.parameters ?? []) as ReceivedQuery['parameters']
  if (!Array.isArray(parameters)) throw new RequestError(400, 'parameters must be an array')
  const context = (body.context ?? {}) as Record<string, unknown>
  if (typeof context !== 'object' || Array.isArray(context)) throw new RequestError(400, 'context must be an object')
  if (context.sqlTimeZone !== undefined && !isValidTimezone(String(context.sqlTimeZone)))
    throw new RequestError(400, `Invalid sqlTimeZone [${context.sqlTimeZone}]`)
  return {query: body.query, parameters, context, resultFormat, header: body.header === true}
}

/** A parameter as Druid binds it: its declared type decides its SQL type; a missing or unknown type is an error. */
function bind(p: {type: string; value: unknown}, i: number, zone: string): Value {
  if (!p || typeof p !== 'object' || !PARAMETER_TYPES.has(String(p.type)))
    throw new SqlError(`Parameter at position [${i}] has an unknown or missing type [${p?.type}]`)
  if (p.value === null || p.value === undefined) return null
  switch (p.type) {
    case 'BIGINT':
    case 'INTEGER':
    case 'SMALLINT':
    case 'TINYINT':
      if (!Number.isInteger(Number(p.value)))
        throw new SqlError(`Parameter at position [${i}]: cannot convert [${p.value}] to ${p.type}`)
      return Number(p.value)
    case 'DOUBLE':
    case 'FLOAT':
    case 'REAL':
    case 'DECIMAL':
      return Number(p.value)
    case 'BOOLEAN':
      return p.value === true || p.value === 'true'
    case 'TIMESTAMP':
    case 'DATE':
      return new Ts(dayjs.tz(String(p.value).replace(' ', 'T'), zone).valueOf())
    default:
      return String(p.value)
  }
}

/** mau asks for resultFormat "object" only (druid/client.ts): the stand-in answers that, and refuses the others. */
function format(columns: string[], rows: unknown[][], header: boolean): string {
  const objects = rows.map((r) => Object.fromEntries(columns.map((c, k) => [c, r[k]])))
  return JSON.stringify(header ? [Object.fromEntries(columns.map((c) => [c, c])), ...objects] : objects)
}
