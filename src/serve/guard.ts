/**
 * What both APIs of `mau serve` check before and around a request, as pure pieces: the bearer token
 * (compared in constant time), the request's inputs, how many requests may run at once, how long one may
 * take, and how an error becomes an answer that names the problem without leaking internals.
 */
import {createHash, timingSafeEqual} from 'node:crypto'
import {ExitCode, MauError} from '../core/errors.js'
import {isYearMonth, type YearMonth} from '../core/month.js'

/** Hashing both sides first gives equal lengths, so the comparison takes the same time whatever was sent. */
export function tokenMatches(expected: string | undefined, authorization: string | undefined): boolean {
  if (!expected) return true
  const sent = /^Bearer (.+)$/i.exec(authorization ?? '')?.[1] ?? ''
  const digest = (s: string) => createHash('sha256').update(s).digest()
  return timingSafeEqual(digest(sent), digest(expected)) && sent.length > 0
}

export type Problem =
  | 'INVALID_ARGUMENT'
  | 'NOT_FOUND'
  | 'UNAUTHENTICATED'
  | 'RESOURCE_EXHAUSTED'
  | 'DEADLINE_EXCEEDED'
  | 'UNAVAILABLE'
  | 'FAILED_PRECONDITION'
  | 'INTERNAL'

/** An answer to refuse a request with: a gRPC status name, and the code and message both APIs show. */
export class Refusal extends Error {
  constructor(
    readonly problem: Problem,
    readonly code: string,
    message: string,
  ) {
    super(message)
  }
}

export const HTTP_STATUS: Record<Problem, number> = {
  INVALID_ARGUMENT: 400,
  UNAUTHENTICATED: 401,
  NOT_FOUND: 404,
  RESOURCE_EXHAUSTED: 429,
  INTERNAL: 500,
  UNAVAILABLE: 503,
  FAILED_PRECONDITION: 503,
  DEADLINE_EXCEEDED: 504,
}

/** Pure: the headers an HTTP refusal carries: how to authenticate (401), when to retry (429), and no reuse of a connection whose body was refused half-read (413). */
export function refusalHeaders(status: number): Record<string, string> {
  if (status === 401) return {'WWW-Authenticate': 'Bearer'}
  if (status === 429) return {'Retry-After': '1'}
  if (status === 413) return {Connection: 'close'}
  return {}
}

/** Pure: a "YYYYMM" field, or a refusal naming the field and what it should be. */
export function requireMonth(field: string, value: unknown): YearMonth {
  if (value === undefined || value === null || value === '')
    throw new Refusal('INVALID_ARGUMENT', 'MISSING_FIELD', `${field} is required: expected YYYYMM, such as 202212.`)
  if (typeof value !== 'string' || !isYearMonth(value))
    throw new Refusal(
      'INVALID_ARGUMENT',
      'BAD_MONTH',
      `${field} ${JSON.stringify(value)} is invalid: expected YYYYMM, such as 202212.`,
    )
  return value
}

/**
 * Pure: what to answer for an error. A Refusal says itself; a service that cannot be reached is
 * UNAVAILABLE, naming the service and nothing of where it is (user, host and database stay in the log);
 * anything else is INTERNAL with no detail, logged instead.
 */
export function toRefusal(error: unknown): Refusal {
  if (error instanceof Refusal) return error
  if (error instanceof MauError) {
    const code = String(error.code ?? 'UNAVAILABLE')
    const service = code.startsWith('MYSQL') ? 'MySQL' : 'a service this server reads'
    if (error.exitCode === ExitCode.UNAVAILABLE)
      return new Refusal('UNAVAILABLE', code, `${service} unavailable: retry shortly.`)
    if (error.exitCode === ExitCode.SCHEMA)
      return new Refusal(
        'FAILED_PRECONDITION',
        code,
        'the mau schema is missing or not current: the operator runs `mau db migrate`.',
      )
  }
  return new Refusal('INTERNAL', 'INTERNAL', 'internal error; see the server log')
}

/** At most `max` requests at once; one more is refused at once rather than queued behind a slow MySQL. */
export class Limiter {
  private running = 0

  constructor(private readonly max: number) {}

  get inFlight(): number {
    return this.running
  }

  async run<T>(fn: () => Promise<T>): Promise<T> {
    if (this.running >= this.max)
      throw new Refusal(
        'RESOURCE_EXHAUSTED',
        'TOO_MANY_REQUESTS',
        `${this.max} requests are already running: retry shortly.`,
      )
    this.running++
    try {
      return await fn()
    } finally {
      this.running--
    }
  }
}

/** fn's result, or a DEADLINE_EXCEEDED refusal after `seconds`. */
export async function within<T>(seconds: number, fn: () => Promise<T>): Promise<T> {
  let timer: NodeJS.Timeout | undefined
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () => reject(new Refusal('DEADLINE_EXCEEDED', 'TIMEOUT', `the request took longer than ${seconds} s`)),
      seconds * 1000,
    )
  })
  try {
    return await Promise.race([fn(), timeout])
  } finally {
    clearTimeout(timer)
  }
}
