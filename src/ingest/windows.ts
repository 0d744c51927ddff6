/**
 * The write side of the consumer: windows taken from the queue, aggregated while the previous one is
 * written, then written one transaction at a time in the order they were taken (Turns).
 *
 * The invariant everything here keeps: an offset is stored only together with everything before it on its
 * partition (rows and dead letters), in the same or an earlier committed transaction. So a window that
 * fails for good ends the run: every later window is refused (Turns), the queue closes, and the error
 * names each partition and offset of the window. Nothing past them is stored; the next run resumes there.
 */
import {isTransient, ExitCode, MauError} from '../core/errors.js'
import type {Db} from '../core/db.js'
import type {Logger} from '../core/log.js'
import type {MonthResolver, YearMonth} from '../core/month.js'
import type {ConsumerMetrics} from './metrics.js'
import {type Behind, DatabaseBehind} from './continuity.js'
import {partitionKey} from './offsets.js'
import {AfterFailedTurn, type Chunk, type ChunkQueue, Overlap, Turns, type WindowLimits} from './pipeline.js'
import type {KnownUsers} from './known-users.js'
import {type Aggregated, aggregateWindow, persistWindow, type WindowResult} from './writer.js'

export interface WindowWriterDeps {
  db: Db
  log: Logger
  metrics: ConsumerMetrics
  months: MonthResolver
  /** What one statement may take (core/db.ts statementBytes). */
  maxStatementBytes: number
  /** The oldest month still written (retention, read from MySQL); older events are counted as expired. */
  keepFrom: () => YearMonth | undefined
  /** Users known present this month, whose mau_user_month insert is left out (off when absent). */
  known?: KnownUsers
  /** Whether a chunk may still be written (its partition held since it was fetched). */
  holds: (c: Chunk) => boolean
  /** After a window committed. */
  written: (window: Chunk[], result: WindowResult) => void
  /** After the first window that failed for good: the run stops. */
  failed: (error: MauError) => void
  /**
   * MySQL is behind where these partitions' chunks were read from (a failover, a restore): the consumer
   * must read them again from MySQL's offset. Called before the window is retried without them, so that
   * `holds` already refuses every chunk of theirs fetched before.
   */
  rewind: (behind: Behind[]) => void
}

/**
 * The server dropping the connection on this window while it answers a ping is the window's fault, not an
 * outage (a packet over max_allowed_packet does exactly that): after this many in a row it is permanent.
 */
const LOST_WHILE_UP = 5
const CONNECTION_LOST = new Set(['ECONNRESET', 'EPIPE', 'PROTOCOL_CONNECTION_LOST'])

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms))

const attempt = <T>(fn: () => T): T | Error => {
  try {
    return fn()
  } catch (error) {
    return error as Error
  }
}

/** Pure: each partition of a window as "topic partition P offsets A..B". */
export function windowRanges(window: Pick<Chunk, 'ref' | 'batch'>[]): string[] {
  const ranges = new Map<string, {topic: string; partition: number; first: number; last: number}>()
  for (const {ref, batch} of window) {
    const k = `${ref.topic}\u0000${ref.partition}`
    const r = ranges.get(k)
    if (r) {
      r.first = Math.min(r.first, batch.firstOffset)
      r.last = Math.max(r.last, batch.lastOffset)
    } else ranges.set(k, {topic: ref.topic, partition: ref.partition, first: batch.firstOffset, last: batch.lastOffset})
  }
  return [...ranges.values()].map((r) => `topic ${r.topic} partition ${r.partition} offsets ${r.first}..${r.last}`)
}

/** Pure: the error a window that failed for good ends the run with: what, where, and that nothing past it is stored. */
export function windowFailure(window: Pick<Chunk, 'ref' | 'batch'>[], error: unknown): MauError {
  const reason = error instanceof Error ? error.message : String(error)
  return new MauError(
    `Could not write ${windowRanges(window).join('; ')}: ${reason}. Nothing from these offsets on was stored; the next run starts again from them.`,
    {
      exit: ExitCode.FAILED,
      code: 'WINDOW_FAILED',
      suggestions: [
        'Fix what the message names (mau doctor checks MySQL), then start mau consume again: it resumes from the first offset named, exactly once.',
      ],
    },
  )
}

export class WindowWriter {
  private readonly turns = new Turns()
  private readonly overlap = new Overlap()
  private failure: MauError | null = null

  constructor(
    private readonly queue: ChunkQueue,
    private readonly limits: WindowLimits,
    private readonly deps: WindowWriterDeps,
  ) {}

  /** Writers that take windows until the queue closes; resolves when all have returned. */
  run(writers: number): Promise<void> {
    return Promise.all(Array.from({length: writers}, () => this.writeWindows())).then(() => undefined)
  }

  private async writeWindows(): Promise<void> {
    for (let taken = await this.queue.take(this.limits); taken; taken = await this.queue.take(this.limits)) {
      const {chunks: window, seq} = taken
      this.deps.metrics.queued.set(this.queue.size.events)
      try {
        await this.overlap.wait(seq)
        // A failure here must still take its turn: it is what refuses every later window.
        const keepFrom = this.deps.keepFrom()
        const {months, maxStatementBytes, known} = this.deps
        const rows = attempt(() => aggregateWindow(window, months, {keepFrom, maxStatementBytes, known}))
        const result = await this.turns.run(seq, async () => {
          if (rows instanceof Error) throw rows
          const stopTimer = this.deps.metrics.batchSeconds.startTimer()
          const r = await this.persistWithRetry(window, rows, keepFrom, () => this.overlap.reach(seq))
          stopTimer()
          return r
        })
        if (result) this.deps.written(window, result)
      } catch (error) {
        this.fail(error instanceof AfterFailedTurn ? null : windowFailure(window, error))
      } finally {
        // Also for a window refused after a failed turn: a later one taken meanwhile must not wait for ever.
        this.overlap.reach(seq)
      }
    }
  }

  private fail(error: MauError | null): void {
    if (error && !this.failure) {
      this.failure = error
      this.deps.log.error({err: error}, 'window failed for good; stopping with nothing stored past it')
      this.deps.failed(error)
    }
    this.queue.close()
  }

  /**
   * Transient MySQL errors roll the window back and retry it with capped backoff. Chunks of partitions revoked
   * meanwhile are left out of the retry (their new owner has them); undefined when none is left.
   */
  private async persistWithRetry(
    window: Chunk[],
    rows: Aggregated,
    keepFrom: YearMonth | undefined,
    sendingRows: () => void,
  ): Promise<WindowResult | undefined> {
    const {db, log, metrics} = this.deps
    const taken = window.length
    let lostWhileUp = 0
    let delay = 250
    for (;;) {
      const held = window.filter((c) => this.deps.holds(c))
      if (held.length < window.length) {
        metrics.abandoned.inc(window.length - held.length)
        window = held
      }
      if (held.length === 0 || this.failure) return undefined
      // A revoked or rewound partition's chunks left out: the rows aggregated with them no longer fit.
      const aggregated = held.length === taken ? rows : undefined
      try {
        return await persistWindow(db, held, this.deps.months, Math.floor(Date.now() / 1000), {
          aggregated,
          maxStatementBytes: this.deps.maxStatementBytes,
          keepFrom,
          known: this.deps.known,
          sendingRows,
        })
      } catch (error) {
        if (error instanceof DatabaseBehind) {
          // Not a failure: the rest of the window goes at once, without the partitions read again.
          this.deps.rewind(error.partitions)
          const again = new Set(error.partitions.map((b) => partitionKey(b.ref.topic, b.ref.partition)))
          window = window.filter((c) => !again.has(c.key))
          continue
        }
        if (!isTransient(error)) throw error
        const code = (error as {code?: string}).code
        if (code && CONNECTION_LOST.has(code) && (await answers(db))) {
          if (++lostWhileUp >= LOST_WHILE_UP)
            throw new Error(
              `MySQL dropped the connection on this window ${lostWhileUp} times in a row (${code}) while answering other queries: the window itself is refused`,
            )
        } else lostWhileUp = 0
        metrics.dbRetries.inc()
        log.warn(
          {code, message: (error as Error).message, partitions: [...new Set(held.map((c) => c.key))], retryInMs: delay},
          'transient MySQL error; window rolled back, retrying',
        )
        await sleep(delay)
        delay = Math.min(delay * 2, 30_000)
      }
    }
  }
}

const answers = (db: Db): Promise<boolean> =>
  db.query('SELECT 1').then(
    () => true,
    () => false,
  )
