/**
 * The long-running consumer: Kafka user events into the mau tables, exactly once (see writer.ts).
 * MySQL's stored offsets are the truth; Kafka's committed offsets follow them, only for lag tooling.
 * `consume` starts a run, waits until it should stop (a signal, or the end of the topics), then stops it.
 */
import type {Consumer, EachBatchPayload, Kafka} from 'kafkajs'
import type {Db} from '../core/db.js'
import {ExitCode, MauError, isTransient} from '../core/errors.js'
import {createKafka} from '../core/kafka.js'
import type {Logger} from '../core/log.js'
import {MonthResolver} from '../core/month.js'
import {prepareBatch, type PreparedBatch} from './batch.js'
import {decoder, REJECTION_CODES, type EventFormat} from './decode.js'
import type {ConsumerMetrics, Health} from './metrics.js'
import {partitionKey, requireOffsetsTable, storedOffsets, type PartitionRef} from './offsets.js'
import {endProgress, highWaterMarks, reachedEnd, requireTopics, seedFromTime, seekToStored, type Marks} from './positions.js'
import {watchPartitions} from './partition-watch.js'
import {persistBatch, type BatchResult} from './writer.js'

export interface ConsumeOptions {
  brokers: string
  topics: string[]
  group: string
  format: EventFormat
  timezone: string
  batchSize: number
  /** Exit once every partition reaches the high-water mark it had at start. */
  stopAtEnd: boolean
  /** Partitions processed at once, each in its own transaction. */
  concurrency: number
  sessionTimeoutMs?: number
  /** Unix ms: where partitions without stored offsets start (the first message at or after it), instead of the beginning. */
  fromTime?: number
}

export interface ConsumeSummary {
  consumed: number
  redelivered: number
  rowsUpserted: number
  deadLettered: number
  batches: number
  seconds: number
  eventsPerSecond: number
  partitions: {topic: string; partition: number; nextOffset: number}[]
  /** With --since: the partitions started at that time; the others resumed from their stored offsets. */
  startedFromTime?: {topic: string; partitions: number[]}[]
  stoppedBy: 'end-of-topics' | 'signal'
}

export interface ConsumeDeps {
  db: Db
  log: Logger
  metrics: ConsumerMetrics
  health: Health
  signal: AbortSignal
  /** With --stop-at-end, end says how many messages of the way to the high-water marks are done. */
  onProgress?: (s: ConsumeSummary, end?: {done: number; total: number}) => void
}

/** A batch given up because its partition was revoked or the consumer is stopping: not an error. */
class Abandoned extends Error {}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms))

export async function consume(opts: ConsumeOptions, deps: ConsumeDeps): Promise<ConsumeSummary> {
  await requireOffsetsTable(deps.db)
  const run = new ConsumeRun(opts, deps)
  await run.start()
  const stoppedBy = await run.waitUntilDone()
  return run.stop(stoppedBy)
}

class ConsumeRun {
  private readonly started = Date.now()
  private readonly months: MonthResolver
  private readonly decode: ReturnType<typeof decoder>
  private readonly kafka: Kafka
  private readonly consumer: Consumer
  private readonly totals = {consumed: 0, redelivered: 0, rowsUpserted: 0, deadLettered: 0, batches: 0}
  private nextOffsets = new Map<string, number>()
  private targets: Marks | null = null
  private startOffsets = new Map<string, number>()
  private startedFromTime?: {topic: string; partitions: number[]}[]
  private fatal: Error | null = null
  private stopping = false
  private stopWatching = () => {}
  private readonly onAbort = () => {
    this.stopping = true
  }

  constructor(private readonly opts: ConsumeOptions, private readonly deps: ConsumeDeps) {
    this.months = new MonthResolver(opts.timezone)
    this.decode = decoder(opts.format)
    this.kafka = createKafka(opts.brokers, `mau-consume-${opts.group}`, deps.log)
    this.consumer = this.kafka.consumer({
      groupId: opts.group,
      sessionTimeout: opts.sessionTimeoutMs ?? 30_000,
      heartbeatInterval: 3_000,
      // Fetch buffers dominate memory: 1 MB a partition (~8,000 events) cut peak RSS by 80 MB and, with less GC, raised throughput.
      maxBytesPerPartition: 1024 * 1024,
      maxBytes: 8 * 1024 * 1024,
      maxWaitTimeInMs: 500,
    })
  }

  /** Positions the group (--since, stored offsets), learns the end for --stop-at-end, joins and runs. */
  async start(): Promise<void> {
    const {opts, deps} = this
    await requireTopics(this.kafka, opts.brokers, opts.topics)
    if (opts.fromTime !== undefined) this.startedFromTime = await seedFromTime(this.kafka, deps.db, {...opts, fromTime: opts.fromTime}, deps.log)
    this.nextOffsets = await storedOffsets(deps.db, opts.group, opts.topics)
    this.startOffsets = new Map(this.nextOffsets)
    if (opts.stopAtEnd) this.targets = await highWaterMarks(this.kafka, opts.brokers, opts.topics)
    deps.signal.addEventListener('abort', this.onAbort, {once: true})
    this.stopWatching = watchPartitions(deps.db, deps.metrics.monthsAhead, opts.timezone, deps.log)
    // Every series at 0 from the start: Prometheus' increase() cannot see a counter's first step, only later ones.
    for (const topic of opts.topics) for (const reason of REJECTION_CODES) deps.metrics.deadLettered.inc({topic, reason}, 0)
    this.watchGroup()
    try {
      await this.consumer.connect()
      await this.consumer.subscribe({topics: opts.topics, fromBeginning: true})
      await this.consumer.run({eachBatch: (p) => this.eachBatch(p), eachBatchAutoResolve: false, autoCommit: true, autoCommitInterval: 5_000, partitionsConsumedConcurrently: opts.concurrency})
    } catch (error) {
      this.stopWatching()
      await this.consumer.disconnect().catch(() => undefined)
      throw new MauError(`Could not start consuming ${opts.topics.join(', ')} from ${opts.brokers}: ${(error as Error).message}`, {
        exit: ExitCode.UNAVAILABLE,
        code: 'KAFKA_UNAVAILABLE',
        suggestions: ['Check MAU_KAFKA_BROKERS and that the topics exist (mau doctor).'],
      })
    }
    deps.log.info({topics: opts.topics, group: opts.group, format: opts.format, timezone: opts.timezone, stopAtEnd: opts.stopAtEnd}, 'consuming')
  }

  private watchGroup(): void {
    const {consumer} = this
    const {db, log, health} = this.deps
    consumer.on(consumer.events.GROUP_JOIN, ({payload}) => {
      health.joined = true
      log.info({assignment: payload.memberAssignment}, 'joined consumer group')
      void seekToStored(consumer, db, this.opts.group, payload.memberAssignment).catch((error: Error) => log.warn({err: error}, 'could not seek to stored offsets; redelivered messages will be skipped'))
    })
    consumer.on(consumer.events.CRASH, ({payload}) => {
      log.error({err: payload.error, restart: payload.restart}, 'consumer crashed')
      if (!payload.restart) health.crashed = payload.error.message
    })
  }

  /** Until a signal, a fatal error, or (with --stop-at-end) every partition at its mark; reports progress meanwhile. */
  async waitUntilDone(): Promise<ConsumeSummary['stoppedBy']> {
    let lastRefresh = 0
    while (!this.stopping) {
      await sleep(200)
      this.deps.onProgress?.(this.summary('signal'), this.targets ? endProgress(this.targets, this.startOffsets, this.nextOffsets) : undefined)
      if (!this.targets) continue
      if (Date.now() - lastRefresh > 1000) {
        // Other replicas of the group advance offsets too; MySQL has them all.
        lastRefresh = Date.now()
        const stored = await storedOffsets(this.deps.db, this.opts.group, this.opts.topics).catch(() => new Map<string, number>())
        for (const [k, v] of stored) this.nextOffsets.set(k, Math.max(v, this.nextOffsets.get(k) ?? -1))
      }
      if (reachedEnd(this.targets, this.nextOffsets)) return 'end-of-topics'
    }
    return 'signal'
  }

  async stop(stoppedBy: ConsumeSummary['stoppedBy']): Promise<ConsumeSummary> {
    this.stopping = true
    this.stopWatching()
    await this.consumer.disconnect()
    this.deps.signal.removeEventListener('abort', this.onAbort)
    if (this.fatal) throw this.fatal
    const result = this.summary(stoppedBy)
    this.deps.log.info(result, 'stopped')
    return result
  }

  private isGone(p: EachBatchPayload): boolean {
    return this.stopping || !p.isRunning() || p.isStale()
  }

  /**
   * Chunks of one partition are written strictly one after another; the next chunk is decoded while
   * the previous one's transaction is in flight, so node and MySQL work at the same time.
   */
  private async eachBatch(p: EachBatchPayload): Promise<void> {
    const {batch} = p
    const ref = {group: this.opts.group, topic: batch.topic, partition: batch.partition}
    let inFlight: {write: Promise<BatchResult>; lastOffset: string; timer: () => number} | null = null
    const settle = async (): Promise<boolean> => {
      if (!inFlight) return true
      const {write, lastOffset, timer} = inFlight
      inFlight = null
      let result: BatchResult
      try {
        result = await write
      } catch (error) {
        if (error instanceof Abandoned) return false
        this.fatal = error as Error
        this.stopping = true
        throw error
      }
      timer()
      p.resolveOffset(lastOffset)
      this.record(ref, result, Number(batch.highWatermark))
      await p.heartbeat()
      return true
    }
    for (let i = 0; i < batch.messages.length; i += this.opts.batchSize) {
      if (this.isGone(p)) break
      const chunk = batch.messages.slice(i, i + this.opts.batchSize)
      const prepared = prepareBatch(chunk, this.decode, this.months, Math.floor(Date.now() / 1000))
      if (!(await settle())) return
      inFlight = {write: this.persistWithRetry(ref, prepared, p), lastOffset: chunk.at(-1)!.offset, timer: this.deps.metrics.batchSeconds.startTimer()}
    }
    if (await settle()) await p.commitOffsetsIfNecessary()
  }

  /** Transient MySQL errors roll the batch back and retry it with capped backoff, while the partition is still ours. */
  private async persistWithRetry(ref: PartitionRef, prepared: PreparedBatch, p: EachBatchPayload): Promise<BatchResult> {
    const {db, log, metrics} = this.deps
    for (let delay = 250; ; delay = Math.min(delay * 2, 30_000)) {
      try {
        return await persistBatch(db, ref, prepared, this.months, Math.floor(Date.now() / 1000))
      } catch (error) {
        if (!isTransient(error)) throw error
        if (this.isGone(p)) throw new Abandoned()
        metrics.dbRetries.inc()
        const code = (error as {code?: string}).code
        log.warn({code, message: (error as Error).message, topic: ref.topic, partition: ref.partition, retryInMs: delay}, 'transient MySQL error; batch rolled back, retrying')
        await sleep(delay)
        await p.heartbeat().catch(() => undefined)
      }
    }
  }

  private record(ref: PartitionRef, r: BatchResult, highWatermark: number): void {
    const {metrics, health, log} = this.deps
    const k = partitionKey(ref.topic, ref.partition)
    this.totals.consumed += r.applied
    this.totals.redelivered += r.skipped
    this.totals.rowsUpserted += r.rowsUpserted
    this.totals.deadLettered += r.deadLetters.length
    this.totals.batches++
    this.nextOffsets.set(k, r.nextOffset)
    metrics.consumed.inc({topic: ref.topic}, r.applied)
    if (r.skipped > 0) metrics.skipped.inc({topic: ref.topic}, r.skipped)
    metrics.rows.inc(r.rowsUpserted)
    const lag = Math.max(0, highWatermark - r.nextOffset)
    metrics.lag.set({group: ref.group, topic: ref.topic, partition: String(ref.partition)}, lag)
    metrics.lastBatch.set(Date.now() / 1000)
    health.setLag(k, lag)
    health.progress()
    for (const d of r.deadLetters) metrics.deadLettered.inc({topic: ref.topic, reason: d.rejection.code})
    if (r.deadLetters.length > 0) {
      const first = r.deadLetters[0]!
      log.warn({topic: ref.topic, partition: ref.partition, count: r.deadLetters.length, firstOffset: first.offset, firstReason: first.rejection.message}, 'events dead-lettered')
    }
    if (r.skipped > 0) log.info({topic: ref.topic, partition: ref.partition, skipped: r.skipped}, 'skipped already-applied messages (redelivery)')
  }

  private summary(stoppedBy: ConsumeSummary['stoppedBy']): ConsumeSummary {
    const seconds = (Date.now() - this.started) / 1000
    return {
      ...this.totals,
      seconds,
      eventsPerSecond: Math.round(this.totals.consumed / Math.max(seconds, 0.001)),
      partitions: [...this.nextOffsets.entries()].map(([k, nextOffset]) => {
        const i = k.lastIndexOf(':')
        return {topic: k.slice(0, i), partition: Number(k.slice(i + 1)), nextOffset}
      }),
      ...(this.startedFromTime ? {startedFromTime: this.startedFromTime} : {}),
      stoppedBy,
    }
  }
}
