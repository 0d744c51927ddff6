/** What the gRPC and HTTP sides of `mau serve` share: the counts, the guards, metrics and the log. */
import type {Logger} from '../core/log.js'
import type {MonthCounts} from './counts.js'
import {Limiter, Refusal, toRefusal, within} from './guard.js'
import type {ServeMetrics} from './metrics.js'

export interface ApiOptions {
  /** Bearer token both APIs require when set (health, readiness and metrics stay open). */
  token?: string
  timeoutSeconds: number
  maxConcurrent: number
  maxBodyBytes: number
  /** Connections each port holds at once; more are closed as they arrive. */
  maxConnections: number
  /** Seconds a connection may stay without a request before it is closed. */
  idleSeconds: number
  /** The month a request without one asks for, in the consumer's time zone. */
  timezone: string
}

export class Api {
  readonly limiter: Limiter

  constructor(
    readonly counts: MonthCounts,
    readonly options: ApiOptions,
    readonly metrics: ServeMetrics,
    readonly log: Logger,
    /** Turns a driver error into a MauError that says which service failed (core/db.ts). */
    private readonly mapError: (error: unknown) => unknown,
    /** MySQL answers: what /readyz and the gRPC health service report. */
    readonly ready: () => Promise<boolean>,
  ) {
    this.limiter = new Limiter(options.maxConcurrent)
  }

  /** Runs one request under the limits and metrics; any failure comes out as a Refusal, logged unless it is the caller's. */
  answer<T>(api: 'grpc' | 'http', method: string, fn: () => Promise<T>): Promise<T> {
    const guarded = async () => {
      try {
        return await this.limiter.run(() => within(this.options.timeoutSeconds, fn))
      } catch (error) {
        throw this.refuse(error, {api, method})
      }
    }
    return this.metrics.observe(api, method, guarded, (refusal) => (refusal as Refusal).problem)
  }

  /** HTTP headers with the staleness bound and this answer's age, so that a caller knows how old a count can be. */
  freshness(ageSeconds: number): Record<string, string> {
    return {
      'Cache-Control': `private, max-age=${this.counts.maxAgeSeconds}`,
      'X-Mau-Max-Staleness-Seconds': String(this.counts.maxAgeSeconds),
      Age: String(Math.floor(ageSeconds)),
    }
  }

  /** The answer for a failure: a Refusal as it is; anything else mapped (core/db.ts) and, unless the caller's, logged. */
  refuse(error: unknown, where: Record<string, string>): Refusal {
    const mapped = this.mapError(error)
    const refusal = toRefusal(mapped)
    // The log says which database (redacted URL, in the mapped message); the client is told only the service.
    if (!(error instanceof Refusal)) this.log.error({err: mapped, ...where, answer: refusal.problem}, 'request failed')
    return refusal
  }
}
