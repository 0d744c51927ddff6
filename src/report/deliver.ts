/**
 * Delivering the monthly report exactly once per (month, destination): a delivery is recorded in
 * mau_report_delivery after it succeeds, and a later run skips what is recorded unless forced.
 * HTTP destinations are retried on timeouts, 5xx and 429 (honouring Retry-After) with capped backoff;
 * any other 4xx fails at once with the response's message.
 */
import {createHmac, createHash} from 'node:crypto'
import {writeFileSync} from 'node:fs'
import type {RowDataPacket} from 'mysql2/promise'
import type {Db} from '../core/db.js'
import {configError} from '../core/errors.js'
import type {YearMonth} from '../core/month.js'
import {jsonText} from '../core/render.js'
import {type MonthFigures, recordFigures, revisionsFor} from './revisions.js'
import {redact} from '../core/secrets.js'
import type {ReportDocument} from './build.js'
import {type DeliveryResult, toReportCsv, toSlackText} from './format.js'

export type Destination =
  | {kind: 'slack'; url: string; key: string}
  | {kind: 'webhook'; url: string; key: string}
  | {kind: 'file'; path: string; format: 'json' | 'csv'; key: string}
  | {kind: 'stdout'; format: 'json' | 'csv'; key: string}

/** `slack` (URL from the environment), `webhook:URL`, `file:PATH` (.csv for CSV), `stdout` or `stdout:csv`. */
export function parseDestination(spec: string, secrets: {slackUrl?: string}): Destination {
  if (spec === 'slack') {
    if (!secrets.slackUrl) throw configError('--to slack needs MAU_SLACK_WEBHOOK_URL or MAU_SLACK_WEBHOOK_URL_FILE.')
    return {kind: 'slack', url: secrets.slackUrl, key: 'slack'}
  }
  if (spec.startsWith('webhook:')) {
    const url = spec.slice('webhook:'.length)
    if (!/^https?:\/\/[^\s]+$/.test(url))
      throw configError(`Invalid destination "${redact(spec)}": expected webhook:http(s)://host/path.`)
    return {kind: 'webhook', url, key: `webhook:${redact(url)}`}
  }
  if (spec.startsWith('file:') && spec.length > 'file:'.length) {
    const path = spec.slice('file:'.length)
    return {kind: 'file', path, format: path.endsWith('.csv') ? 'csv' : 'json', key: `file:${path}`}
  }
  if (spec === 'stdout' || spec === 'stdout:json' || spec === 'stdout:csv')
    return {kind: 'stdout', format: spec.endsWith('csv') ? 'csv' : 'json', key: 'stdout'}
  throw configError(`Invalid destination "${redact(spec)}": expected slack, webhook:URL, file:PATH or stdout[:csv].`)
}

export interface RetryPolicy {
  timeoutMs: number
  maxAttempts: number
  baseDelayMs: number
  maxDelayMs: number
}

export const DEFAULT_RETRY: RetryPolicy = {timeoutMs: 10_000, maxAttempts: 5, baseDelayMs: 500, maxDelayMs: 30_000}

/** Carries how many attempts were made, for the delivery record and the operator. */
class DeliveryError extends Error {
  constructor(
    message: string,
    readonly attempts: number,
  ) {
    super(message)
  }
}

/** Seconds, or an HTTP date; capped so that a server cannot park the CronJob. */
function retryAfterMs(header: string | null, cap: number): number | null {
  if (!header) return null
  const seconds = Number(header)
  const ms = Number.isFinite(seconds) ? seconds * 1000 : Date.parse(header) - Date.now()
  return Number.isFinite(ms) ? Math.min(Math.max(ms, 0), cap) : null
}

export async function postWithRetry(
  url: string,
  body: string,
  headers: Record<string, string>,
  policy: RetryPolicy,
): Promise<{status: number; attempts: number}> {
  let lastError = ''
  for (let attempt = 1; attempt <= policy.maxAttempts; attempt++) {
    let wait = Math.min(policy.baseDelayMs * 2 ** (attempt - 1), policy.maxDelayMs)
    try {
      const res = await fetch(url, {
        method: 'POST',
        body,
        headers: {'content-type': 'application/json', ...headers},
        signal: AbortSignal.timeout(policy.timeoutMs),
      })
      const text = (await res.text()).slice(0, 300)
      if (res.ok) return {status: res.status, attempts: attempt}
      if (res.status !== 429 && res.status < 500)
        throw new DeliveryError(`HTTP ${res.status}: ${text || res.statusText}`, attempt)
      lastError = `HTTP ${res.status}: ${text || res.statusText}`
      if (res.status === 429) wait = retryAfterMs(res.headers.get('retry-after'), policy.maxDelayMs) ?? wait
    } catch (error) {
      if (error instanceof DeliveryError) throw error
      const refused = refusedByFetch(url, error as Error)
      if (refused) throw new DeliveryError(refused, attempt)
      lastError =
        (error as Error).name === 'TimeoutError' ? `no answer within ${policy.timeoutMs} ms` : withCause(error as Error)
    }
    if (attempt < policy.maxAttempts) await new Promise((r) => setTimeout(r, wait))
  }
  throw new DeliveryError(`gave up after ${policy.maxAttempts} attempts: ${lastError}`, policy.maxAttempts)
}

/**
 * What fetch refuses before sending anything, the same on every attempt: a port on the Fetch standard's
 * "bad port" list (6000, 5060, 10080, ...) or a URL it cannot parse. Retrying only delays the verdict.
 */
export function refusedByFetch(url: string, error: Error): string | undefined {
  const cause = (error.cause as {message?: string} | undefined)?.message ?? ''
  if (cause === 'bad port')
    return `fetch refuses port ${new URL(url).port} (a "bad port" of the Fetch standard): use another port for the receiver`
  if (/^Failed to parse URL/.test(error.message)) return `${error.message}: expected http(s)://host[:port]/path`
  return undefined
}

/** fetch says only "fetch failed"; the reason (connect ECONNREFUSED 10.0.0.1:443, a TLS error) is in its cause. */
export function withCause(error: Error): string {
  const cause = error.cause as {message?: string; code?: string} | undefined
  const reason = cause?.message || cause?.code
  return reason && !error.message.includes(reason) ? `${error.message}: ${reason}` : error.message
}

/** Stable per (month, destination), so a receiver can drop a repeat even when our record was lost. */
export function idempotencyKey(month: YearMonth, destinationKey: string): string {
  return `mau-report-${month}-${createHash('sha256').update(destinationKey).digest('hex').slice(0, 16)}`
}

export interface DeliverOptions {
  force: boolean
  /** Percent: earlier months sent to a destination whose users moved more than this since ride along as revisions. */
  revisionThreshold?: number
  retry: RetryPolicy
  webhookSecret?: string
  write?: (text: string) => Promise<void>
}

/** Resolves once the text is handed to stdout, so that a broken pipe is a failed delivery, not a sent one. */
const writeStdout = (text: string) =>
  new Promise<void>((resolve, reject) => process.stdout.write(text, (error) => (error ? reject(error) : resolve())))

export const DEFAULT_REVISION_THRESHOLD = 0.1

/** The figures a report carries, per environment and in total (''). */
const figuresOf = (doc: ReportDocument): MonthFigures =>
  new Map([
    ['', {users: doc.totals.users, events: doc.totals.events}],
    ...doc.environments.map((e) => [e.environment_namespace, {users: e.users, events: e.events}] as const),
  ])

export async function deliverAll(
  db: Db,
  doc: ReportDocument,
  destinations: Destination[],
  o: DeliverOptions,
): Promise<DeliveryResult[]> {
  const [rows] = await db.query<RowDataPacket[]>('SELECT destination FROM mau_report_delivery WHERE yearmonth = ?', [
    doc.month,
  ])
  const delivered = new Set(rows.map((r) => String(r.destination)))
  // A delivery that could not be recorded would be sent again by the next run: a user that may not record
  // one is refused (core/db.ts names the privilege) before anything is sent. The statement changes nothing.
  if (destinations.some((d) => d.kind !== 'stdout')) {
    await db.query(
      'INSERT INTO mau_report_delivery (yearmonth, destination, delivered_at, attempts) SELECT yearmonth, destination, delivered_at, attempts FROM mau_report_delivery WHERE FALSE ON DUPLICATE KEY UPDATE attempts = VALUES(attempts)',
    )
    await db.query('DELETE FROM mau_report_figure WHERE FALSE')
    await db.query('INSERT INTO mau_report_figure SELECT * FROM mau_report_figure WHERE FALSE')
  }
  const results: DeliveryResult[] = []
  for (const d of destinations) {
    if (d.kind !== 'stdout' && delivered.has(d.key) && !o.force) {
      results.push({
        destination: d.key,
        status: 'skipped',
        attempts: 0,
        message: `already delivered for ${doc.month} (use --force to send again)`,
      })
      continue
    }
    try {
      const revisions =
        d.kind === 'stdout'
          ? []
          : await revisionsFor(db, d.key, doc.month, o.revisionThreshold ?? DEFAULT_REVISION_THRESHOLD)
      const attempts = await deliverOne(
        revisions.length > 0 ? {...doc, revised: revisions.map((r) => r.revision)} : doc,
        d,
        o,
      )
      if (d.kind !== 'stdout') {
        await db.query(
          'INSERT INTO mau_report_delivery (yearmonth, destination, delivered_at, attempts) VALUES (?, ?, ?, ?) ON DUPLICATE KEY UPDATE delivered_at = VALUES(delivered_at), attempts = VALUES(attempts)',
          [doc.month, d.key, Math.floor(Date.now() / 1000), attempts],
        )
        // What was sent becomes what late events are measured against; a revision delivered is sent once.
        await recordFigures(db, doc.month, d.key, figuresOf(doc))
        for (const r of revisions) await recordFigures(db, r.revision.month, d.key, r.now)
      }
      results.push({destination: d.key, status: 'sent', attempts, message: 'delivered'})
    } catch (error) {
      // One failing destination does not stop the others; the exit code reports it.
      results.push({
        destination: d.key,
        status: 'failed',
        attempts: (error as {attempts?: number}).attempts ?? 1,
        message: redact((error as Error).message),
      })
    }
  }
  return results
}

const asText = (doc: ReportDocument, format: 'json' | 'csv') =>
  format === 'csv' ? toReportCsv(doc) : `${JSON.stringify(doc, null, 2)}\n`

async function deliverOne(doc: ReportDocument, d: Destination, o: DeliverOptions): Promise<number> {
  switch (d.kind) {
    case 'stdout':
      await (o.write ?? writeStdout)(d.format === 'csv' ? toReportCsv(doc) : `${jsonText(doc)}\n`)
      return 1
    case 'file':
      writeFileSync(d.path.replaceAll('{month}', doc.month), asText(doc, d.format))
      return 1
    case 'slack':
      return (await postWithRetry(d.url, JSON.stringify({text: toSlackText(doc)}), {}, o.retry)).attempts
    case 'webhook': {
      const json = JSON.stringify(doc)
      const headers: Record<string, string> = {'idempotency-key': idempotencyKey(doc.month, d.key)}
      if (o.webhookSecret)
        headers['x-mau-signature'] = `sha256=${createHmac('sha256', o.webhookSecret).update(json).digest('hex')}`
      return (await postWithRetry(d.url, json, headers, o.retry)).attempts
    }
  }
}
