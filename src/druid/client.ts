/**
 * A small client for Druid's SQL API (POST /druid/v2/sql): typed parameters, a query id and a timeout
 * on every query (a timed-out query is cancelled on the server too), basic auth and TLS options, and
 * both of Druid's error bodies turned into one clear message with the right exit code.
 */
import {randomUUID} from 'node:crypto'
import {request as httpRequest} from 'node:http'
import {request as httpsRequest} from 'node:https'
import {ExitCode, MauError, unavailable} from '../core/errors.js'

export interface DruidSettings {
  /** Router or broker base URL, without /druid/v2/sql. */
  url: string
  user?: string
  password?: string
  /** PEM bundle to trust for https. */
  ca?: string
  insecure?: boolean
  timeoutMs: number
}

/** Druid SQL parameter types mau uses; Druid needs each `?` typed explicitly. */
export type DruidParameter = {type: 'VARCHAR'; value: string} | {type: 'BIGINT'; value: number}

export const varchar = (value: string): DruidParameter => ({type: 'VARCHAR', value})
export const bigint = (value: number): DruidParameter => ({type: 'BIGINT', value})

export type Row = Record<string, unknown>

/** What Druid says when it fails a query: the newer `druidException` body or the older one. */
export interface DruidErrorBody {
  error?: string
  errorCode?: string
  persona?: string
  category?: string
  errorMessage?: string
  errorClass?: string
  host?: string | null
}

const SQL_PATH = '/druid/v2/sql'

export class DruidClient {
  constructor(readonly settings: DruidSettings) {}

  /** Where queries go, safe to print (no credentials). */
  get display(): string {
    const u = new URL(this.settings.url)
    u.username = ''
    u.password = ''
    return u.toString().replace(/\/$/, '')
  }

  async query<T extends Row = Row>(
    sql: string,
    parameters: DruidParameter[] = [],
    context: Record<string, unknown> = {},
  ): Promise<T[]> {
    const queryId = `mau-${randomUUID()}`
    const body = JSON.stringify({
      query: sql,
      resultFormat: 'object',
      parameters,
      // Druid's own timeout is the same as ours, so a slow query stops there too rather than running on.
      context: {sqlQueryId: queryId, timeout: this.settings.timeoutMs, ...context},
    })
    let answer: {status: number; text: string}
    try {
      answer = await this.post(SQL_PATH, body)
    } catch (error) {
      if (error instanceof QueryTimeout) {
        void this.cancel(queryId)
        throw new MauError(
          `Druid at ${this.display} did not answer within ${this.settings.timeoutMs / 1000} s (query ${queryId}); the query was cancelled.`,
          {
            exit: ExitCode.UNAVAILABLE,
            code: 'DRUID_TIMEOUT',
            suggestions: ['Raise --druid-timeout (MAU_DRUID_TIMEOUT_SECONDS), or narrow the query with --namespace.'],
          },
        )
      }
      const code = (error as {code?: string}).code ?? ''
      if (/CERT|SELF_SIGNED|UNABLE_TO_VERIFY/.test(code)) {
        throw new MauError(
          `Druid at ${this.display} presented a certificate that is not trusted (${code}): ${(error as Error).message}`,
          {
            exit: ExitCode.CONFIG,
            code: 'DRUID_TLS',
            suggestions: ['Point --druid-ca-file (MAU_DRUID_CA_FILE) at the PEM bundle of the CA that signed it.'],
          },
        )
      }
      throw unavailable('Druid', this.display, error)
    }
    if (answer.status === 200) return JSON.parse(answer.text) as T[]
    throw druidError(answer.status, answer.text, this.display, queryId)
  }

  /**
   * GET of one of Druid's JSON APIs (the overlord's supervisor status): the parsed body, or null on 404.
   * Anything else that is not 200 fails as a query would (exit 2 for refused credentials, 4 otherwise).
   */
  async getJson(path: string): Promise<unknown> {
    let answer: {status: number; text: string}
    try {
      answer = await this.post(path, undefined, 'GET')
    } catch (error) {
      throw unavailable(
        'Druid',
        this.display,
        error instanceof QueryTimeout ? new Error(`no answer within ${this.settings.timeoutMs / 1000} s`) : error,
      )
    }
    if (answer.status === 404) return null
    if (answer.status === 200) return JSON.parse(answer.text) as unknown
    if (answer.status === 401 || answer.status === 403)
      throw druidError(answer.status, answer.text, this.display, `GET ${path}`)
    throw new MauError(
      `Druid at ${this.display} answered GET ${path} with ${describeDruidError(answer.status, answer.text)}.`,
      {
        exit: ExitCode.UNAVAILABLE,
        code: 'DRUID_FAILED',
        suggestions: ["Retry later; if it persists, check the overlord's logs."],
      },
    )
  }

  /** Best effort: a query we stopped waiting for should not keep the broker busy. */
  private async cancel(queryId: string): Promise<void> {
    await this.post(`${SQL_PATH}/${encodeURIComponent(queryId)}`, undefined, 'DELETE').catch(() => undefined)
  }

  private post(path: string, body: string | undefined, method = 'POST'): Promise<{status: number; text: string}> {
    const url = new URL(path, this.settings.url.replace(/\/?$/, '/'))
    const {user, password, ca, insecure, timeoutMs} = this.settings
    const headers: Record<string, string> = {Accept: 'application/json'}
    if (body !== undefined) headers['Content-Type'] = 'application/json'
    if (user !== undefined)
      headers.Authorization = `Basic ${Buffer.from(`${user}:${password ?? ''}`).toString('base64')}`
    const send = url.protocol === 'https:' ? httpsRequest : httpRequest
    return new Promise((resolve, reject) => {
      const req = send(url, {method, headers, ca, rejectUnauthorized: !insecure}, (res) => {
        const chunks: Buffer[] = []
        res.on('data', (c: Buffer) => chunks.push(c))
        res.on('end', () => {
          clearTimeout(timer)
          resolve({status: res.statusCode ?? 0, text: Buffer.concat(chunks).toString('utf8')})
        })
        res.on('error', reject)
      })
      const timer = setTimeout(() => req.destroy(new QueryTimeout()), timeoutMs)
      req.on('error', (error) => {
        clearTimeout(timer)
        reject(error)
      })
      req.end(body)
    })
  }
}

class QueryTimeout extends Error {}

/** One message from either error shape; a body that is not Druid's (a proxy's HTML page) is quoted briefly, without its markup. */
export function describeDruidError(status: number, text: string): string {
  let body: DruidErrorBody | null = null
  try {
    body = JSON.parse(text) as DruidErrorBody
  } catch {
    // not JSON: falls through to the raw text
  }
  if (!body || typeof body !== 'object' || (!body.errorMessage && !body.error)) {
    return `HTTP ${status}: ${
      text
        .replace(/<[^>]*>/g, ' ')
        .replace(/\s+/g, ' ')
        .trim()
        .slice(0, 200) || '(empty body)'
    }`
  }
  if (body.error === 'druidException') {
    const kind = [body.category, body.errorCode].filter(Boolean).join('/')
    return `HTTP ${status}, ${kind}${body.persona ? ` (for ${body.persona.toLowerCase()})` : ''}: ${body.errorMessage ?? 'no message'}`
  }
  const where = [body.errorClass, body.host ? `on ${body.host}` : ''].filter(Boolean).join(' ')
  return `HTTP ${status}, ${body.error ?? 'error'}${where ? ` (${where})` : ''}: ${body.errorMessage ?? 'no message'}`
}

/**
 * Exit codes: refused credentials and queries Druid calls the user's fault (a wrong datasource or
 * column) will not pass on retry (2); an overloaded, timed-out or failing Druid may (4).
 */
function druidError(status: number, text: string, display: string, queryId: string): MauError {
  const message = describeDruidError(status, text)
  if (status === 401 || status === 403) {
    return new MauError(`Druid at ${display} refused the request (${message}).`, {
      exit: ExitCode.CONFIG,
      code: 'DRUID_AUTH',
      suggestions: [
        'Check MAU_DRUID_USER and MAU_DRUID_PASSWORD or MAU_DRUID_PASSWORD_FILE, and that the user may read the datasource.',
      ],
    })
  }
  if (status === 400 || status === 404) {
    return new MauError(`Druid rejected query ${queryId} (${message}).`, {
      exit: ExitCode.CONFIG,
      code: 'DRUID_QUERY_REJECTED',
      suggestions: ["Check --druid-datasource and the --druid-*-column flags against the datasource's columns."],
    })
  }
  return new MauError(`Druid at ${display} failed query ${queryId} (${message}).`, {
    exit: ExitCode.UNAVAILABLE,
    code: status === 504 ? 'DRUID_TIMEOUT' : 'DRUID_FAILED',
    suggestions: ["Retry later; if it persists, check the broker's logs for this query id."],
  })
}
