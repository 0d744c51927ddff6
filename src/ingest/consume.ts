/**
 * The long-running consumer: the platform's activity events (decode.ts) from Kafka into the mau tables,
 * exactly once (see writer.ts and windows.ts).
 * MySQL's stored offsets are the truth; Kafka's committed offsets follow them (committed only after MySQL
 * has them), only for lag tooling. Fetching and decoding run ahead of writing through a bounded queue
 * (pipeline.ts): kafkajs fetches the next batches while MySQL writes the current window.
 * `consume` starts a run, waits until it should stop (a signal, or the end of the topics), then stops it.
 */
import type {Consumer, EachBatchPayload, Kafka} from 'kafkajs'
import {type Db, statementBytes} from '../core/db.js'
import {ExitCode, MauError} from '../core/errors.js'
import {consumerGaveUp, createKafka, type KafkaSettings} from '../core/kafka.js'
import {kafkaRefusal, probeKafka} from '../core/kafka-security.js'
import type {Logger} from '../core/log.js'
import {MonthResolver} from '../core/month.js'
import {prepareBatch} from './batch.js'
import {DEAD_LETTER_MAX_BYTES} from './deadletter.js'
import type {ActivityKind} from '../core/platform.js'
import {decoder, type EventFormat} from './decode.js'
import type {ConsumerMetrics, Health} from './metrics.js'
import {partitionKey, requireOffsetsTable, storedOffsets} from './offsets.js'
import {Holdings} from './holdings.js'
import {
  endProgress,
  highWaterMarks,
  reachedEnd,
  requireKafkaAhead,
  requireTopics,
  seedFromTime,
  type Marks,
} from './positions.js'
import {watchPartitions} from './partition-watch.js'
import {type Chunk, type ChunkQueue, type WindowLimits} from './pipeline.js'
import {CHUNK_EVENTS, chunkQueue, requireDeadLetterFits, windowLimits, zeroSeries} from './run-parts.js'
import {WindowWriter} from './windows.js'
import {type Policy, watchPolicy} from './policy-watch.js'
import type {PartitionResult, WindowResult} from './writer.js'
import {type ConsumeSummary, Tally} from './tally.js'

export interface ConsumeOptions {
  brokers: string
  /** TLS and SASL (core/kafka-security.ts); plaintext when absent. */
  security?: Omit<KafkaSettings, 'brokers'>
  topics: string[]
  group: string
  format: EventFormat
  timezone: string
  /** Most messages in one transaction (a window, across partitions). */
  batchSize: number
  /** Exit once every partition reaches the high-water mark it had at start. */
  stopAtEnd: boolean
  /** Windows written at once, each in its own transaction. */
  concurrency: number
  sessionTimeoutMs?: number
  /** The kinds of activity counted (default all); envelopes of other kinds are ignored. */
  activity?: readonly ActivityKind[]
  /** A dead letter keeps at most this many bytes of its message, with the whole one's length and SHA-256. */
  deadLetterMaxBytes?: number
  /** Unix ms: where partitions without stored offsets start (the first message at or after it), instead of the beginning. */
  fromTime?: number
  /** How long positioning a partition (MySQL's offset, Kafka's watermarks) may fail before the run ends with exit 4. */
  positionTimeoutMs?: number
}

export type {ConsumeSummary}

export interface ConsumeDeps {
  db: Db
  log: Logger
  metrics: ConsumerMetrics
  health: Health
  signal: AbortSignal
  /** With --stop-at-end, end says how many messages of the way to the high-water marks are done. */
  onProgress?: (s: ConsumeSummary, end?: {done: number; total: number}) => void
}

/** kafkajs refreshes topic metadata this often: partitions added to a topic are read within a minute. */
const METADATA_MAX_AGE_MS = 30_000

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms))

export async function consume(opts: ConsumeOptions, deps: ConsumeDeps): Promise<ConsumeSummary> {
  await requireOffsetsTable(deps.db)
  const run = new ConsumeRun(opts, deps)
  await run.start()
  const stoppedBy = await run.waitUntilDone()
  return run.stop(stoppedBy)
}

class ConsumeRun {
  private readonly months: MonthResolver
  private readonly decode: ReturnType<typeof decoder>
  private readonly kafka: Kafka
  private readonly settings: KafkaSettings
  private readonly consumer: Consumer
  private readonly tally: Tally
  private targets: Marks | null = null
  private startOffsets = new Map<string, number>()
  private fatal: Error | null = null
  private stopping = false
  private readonly queue: ChunkQueue
  private readonly window: WindowLimits
  private readonly holdings: Holdings
  private writing: Promise<void> = Promise.resolve()
  private readonly deadLetterMaxBytes: number
  private policy: Policy = {keepFrom: () => undefined, reported: () => new Set(), stop: () => {}}
  private stopWatching = () => {}
  private readonly onAbort = () => {
    this.stopping = true
  }

  constructor(
    private readonly opts: ConsumeOptions,
    private readonly deps: ConsumeDeps,
  ) {
    this.tally = new Tally(deps)
    this.months = new MonthResolver(opts.timezone)
    this.decode = decoder(opts.format, opts.activity)
    this.deadLetterMaxBytes = opts.deadLetterMaxBytes ?? DEAD_LETTER_MAX_BYTES
    this.settings = {protocol: 'PLAINTEXT', ...opts.security, brokers: opts.brokers}
    this.kafka = createKafka(this.settings, `mau-consume-${opts.group}`, deps.log, opts.sessionTimeoutMs ?? 30_000)
    this.window = windowLimits(opts.batchSize)
    this.queue = chunkQueue(opts.batchSize)
    this.consumer = this.kafka.consumer({
      groupId: opts.group,
      sessionTimeout: opts.sessionTimeoutMs ?? 30_000,
      heartbeatInterval: 3_000,
      // Fetch buffers dominate memory: 1 MB a partition (~8,000 events) cut peak RSS by 80 MB and, with less GC, raised throughput.
      maxBytesPerPartition: 1024 * 1024,
      maxBytes: 8 * 1024 * 1024,
      maxWaitTimeInMs: 500,
      metadataMaxAge: METADATA_MAX_AGE_MS,
      // A refused certificate or login is configuration: kafkajs would retry it for ever.
      retry: {restartOnFailure: async (error) => !kafkaRefusal(error, this.settings)},
    })
    this.holdings = new Holdings({
      ...deps,
      kafka: this.kafka,
      consumer: this.consumer,
      tally: this.tally,
      group: opts.group,
      brokers: opts.brokers,
      fromTime: opts.fromTime,
      positionTimeoutMs: opts.positionTimeoutMs,
      abandon: (keep) => this.queue.abandon(keep),
      stopping: () => this.stopping,
      failed: (error) => this.stopWith(error),
    })
  }

  /** Positions the group (--since, stored offsets), learns the end for --stop-at-end, joins and runs. */
  async start(): Promise<void> {
    const {opts, deps} = this
    await probeKafka(this.settings)
    await requireTopics(this.kafka, opts.brokers, opts.topics)
    await requireKafkaAhead(this.kafka, deps.db, opts)
    if (opts.fromTime !== undefined)
      this.tally.startedFromTime = await seedFromTime(this.kafka, deps.db, {...opts, fromTime: opts.fromTime}, deps.log)
    this.tally.nextOffsets = await storedOffsets(deps.db, opts.group, opts.topics)
    this.startOffsets = new Map(this.tally.nextOffsets)
    if (opts.stopAtEnd) this.targets = await highWaterMarks(this.kafka, opts.brokers, opts.topics)
    this.policy = await watchPolicy(deps.db, opts.timezone, deps.log)
    const writer = this.windowWriter(await statementBytes(deps.db))
    deps.signal.addEventListener('abort', this.onAbort, {once: true})
    this.stopWatching = watchPartitions(deps.db, deps.metrics, opts.timezone, deps.log)
    zeroSeries(deps.metrics, opts.topics)
    this.watchGroup()
    try {
      await this.consumer.connect()
      await this.consumer.subscribe({topics: opts.topics, fromBeginning: true})
      this.writing = writer.run(opts.concurrency)
      // autoCommit off: kafkajs resolves offsets as chunks are queued, ahead of MySQL; commits follow MySQL (commitWritten).
      // Several partitions' batches at once: while one waits for room in the queue, another is decoded.
      await this.consumer.run({
        eachBatch: (p) => this.eachBatch(p),
        eachBatchAutoResolve: false,
        autoCommit: false,
        partitionsConsumedConcurrently: 4,
      })
    } catch (error) {
      this.stopWatching()
      await this.consumer.disconnect().catch(() => undefined)
      const refused = kafkaRefusal(error, this.settings)
      if (refused) throw refused
      throw new MauError(
        `Could not start consuming ${opts.topics.join(', ')} from ${opts.brokers}: ${(error as Error).message}`,
        {
          exit: ExitCode.UNAVAILABLE,
          code: 'KAFKA_UNAVAILABLE',
          suggestions: ['Check MAU_KAFKA_BROKERS and that the topics exist (mau doctor).'],
        },
      )
    }
    deps.log.info(
      {topics: opts.topics, group: opts.group, format: opts.format, timezone: opts.timezone, stopAtEnd: opts.stopAtEnd},
      'consuming',
    )
  }

  private watchGroup(): void {
    const {consumer} = this
    const {log, health} = this.deps
    consumer.on(consumer.events.GROUP_JOIN, ({payload}) => {
      log.info({assignment: payload.memberAssignment}, 'joined consumer group')
      this.holdings.joined(payload.memberAssignment)
    })
    consumer.on(consumer.events.START_BATCH_PROCESS, ({payload}) => {
      if (payload.batchSize === 0) this.queueSkipped(payload)
    })
    consumer.on(consumer.events.CRASH, ({payload}) => {
      log.error({err: payload.error, restart: payload.restart}, 'consumer crashed')
      if (payload.restart) return
      // kafkajs will not restart it: the run ends, so a pod is never up while consuming nothing.
      health.crashed = payload.error.message
      this.stopWith(consumerGaveUp(this.settings, payload.error))
    })
  }

  /** The first error that ends the run (logged where it happened); stop() throws it. */
  private stopWith(error: Error): void {
    if (this.fatal) return
    this.fatal = error
    this.stopping = true
    this.queue.close()
  }

  /** Until a signal, a fatal error, or (with --stop-at-end) every partition at its mark; reports progress meanwhile. */
  async waitUntilDone(): Promise<ConsumeSummary['stoppedBy']> {
    let lastRefresh = 0
    const report = () =>
      this.deps.onProgress?.(
        this.tally.summary('signal'),
        this.targets ? endProgress(this.targets, this.startOffsets, this.tally.nextOffsets) : undefined,
      )
    report()
    while (!this.stopping) {
      await sleep(200)
      report()
      if (!this.targets) continue
      if (Date.now() - lastRefresh > 1000) {
        // Other replicas of the group advance offsets too; MySQL has them all.
        lastRefresh = Date.now()
        this.tally.advance(await this.storedNow())
      }
      // MySQL's offsets have the last word: a database that went back in time since shows there, and the run goes on.
      if (reachedEnd(this.targets, this.tally.nextOffsets) && reachedEnd(this.targets, await this.storedNow()))
        return 'end-of-topics'
    }
    return 'signal'
  }

  private storedNow(): Promise<Map<string, number>> {
    return storedOffsets(this.deps.db, this.opts.group, this.opts.topics).catch(() => new Map<string, number>())
  }

  async stop(stoppedBy: ConsumeSummary['stoppedBy']): Promise<ConsumeSummary> {
    this.stopping = true
    this.stopWatching()
    this.policy.stop()
    // Windows in flight commit or roll back; queued chunks are dropped (MySQL's offsets say where to resume).
    this.queue.close()
    await this.writing
    await this.consumer.disconnect()
    this.deps.signal.removeEventListener('abort', this.onAbort)
    if (this.fatal) throw this.fatal
    const result = this.tally.summary(stoppedBy)
    this.deps.log.info(result, 'stopped')
    return result
  }

  private isGone(p: EachBatchPayload): boolean {
    return this.stopping || !p.isRunning() || p.isStale()
  }

  /**
   * The fetch side: cuts the batch into chunks, decodes and validates each (pure CPU, while MySQL writes
   * earlier windows) and queues it, resolving its offsets so that kafkajs fetches on. Waits while the queue
   * is full. Nothing here is written: MySQL's stored offsets, not kafkajs', say what is applied.
   */
  private async eachBatch(p: EachBatchPayload): Promise<void> {
    const {batch} = p
    const ref = {group: this.opts.group, topic: batch.topic, partition: batch.partition}
    const key = partitionKey(batch.topic, batch.partition)
    const generation = this.holdings.generation
    const wanted = () => !this.isGone(p) && this.holdings.holds({key, generation})
    // Not positioned yet (a join or a rewind under way): kafkajs fetches this again, from where it is seeked to.
    if (!wanted()) {
      await sleep(100)
      return
    }
    // Where this fetch started reading (kafkajs' Batch has it, its type does not): what continuity is judged by.
    let from = Number((batch as {fetchedOffset?: string}).fetchedOffset ?? batch.firstOffset())
    for (let i = 0; i < batch.messages.length; i += CHUNK_EVENTS) {
      if (!wanted()) return
      const messages = batch.messages.slice(i, i + CHUNK_EVENTS)
      const prepared = prepareBatch(messages, this.decode, Math.floor(Date.now() / 1000), this.deadLetterMaxBytes)
      // The last chunk covers the fetch's trailing offsets without messages too (a transaction's marker).
      if (i + CHUNK_EVENTS >= batch.messages.length)
        prepared.lastOffset = Math.max(prepared.lastOffset, Number(batch.lastOffset()))
      let bytes = 0
      for (const m of messages) bytes += m.value?.length ?? 0
      const chunk: Chunk = {
        ref,
        key,
        from,
        batch: prepared,
        events: messages.length,
        bytes,
        highWatermark: Number(batch.highWatermark),
        generation,
        queuedAt: Date.now(),
      }
      if (!(await this.queue.push(chunk, wanted, () => p.heartbeat()))) return
      this.deps.metrics.queued.set(this.queue.size.events)
      p.resolveOffset(String(prepared.lastOffset))
      from = prepared.lastOffset + 1
      await p.heartbeat()
    }
  }

  /**
   * A fetch that held only offsets without messages (transaction markers, aborted records): kafkajs moves past
   * them without calling eachBatch. A chunk of no messages carries the stored offset past them too, so that a
   * partition ending in a marker reaches its end, and the next fetch continues the stored offset.
   */
  private queueSkipped(b: {
    topic: string
    partition: number
    firstOffset: string | null
    lastOffset: string
    highWatermark: string
  }): void {
    const key = partitionKey(b.topic, b.partition)
    const generation = this.holdings.generation
    if (this.stopping || !this.holdings.holds({key, generation})) return
    const lastOffset = Number(b.lastOffset)
    // Its first offset is where the fetch started unless compaction removed records before it: then the
    // window is judged behind and the partition read again, never skipped over.
    const from = b.firstOffset === null ? lastOffset : Number(b.firstOffset)
    const batch = {...prepareBatch([], this.decode, 0), firstOffset: from, lastOffset}
    const chunk: Chunk = {
      ref: {group: this.opts.group, topic: b.topic, partition: b.partition},
      key,
      from,
      batch,
      events: 0,
      bytes: 0,
      highWatermark: Number(b.highWatermark),
      generation,
      queuedAt: Date.now(),
    }
    // No events, no bytes: it always fits, so it is queued before this handler returns, in offset order.
    void this.queue.push(chunk, () => this.holdings.holds(chunk))
  }

  private windowWriter(maxStatementBytes: number): WindowWriter {
    requireDeadLetterFits(this.deadLetterMaxBytes, maxStatementBytes)
    return new WindowWriter(this.queue, this.window, {
      ...this.deps,
      months: this.months,
      maxStatementBytes,
      keepFrom: () => this.policy.keepFrom(),
      holds: (c) => this.holdings.holds(c),
      written: (window, result) => this.record(window, result),
      rewind: (behind) => this.holdings.rewind(behind),
      failed: (error) => this.stopWith(error),
    })
  }

  private record(window: Chunk[], w: WindowResult): void {
    this.tally.window(window, w, this.policy.reported())
    void this.commitWritten(w.partitions).catch((error: Error) =>
      this.deps.log.debug({err: error}, 'could not commit offsets to Kafka (lag tooling only)'),
    )
  }

  /** Kafka's committed offsets follow MySQL's, so that they are never ahead of what is applied. */
  private async commitWritten(partitions: PartitionResult[]): Promise<void> {
    const offsets = partitions.filter(
      (r) => r.advanced && this.holdings.isAssigned(partitionKey(r.ref.topic, r.ref.partition)),
    )
    if (offsets.length === 0 || this.stopping) return
    await this.consumer.commitOffsets(
      offsets.map((r) => ({topic: r.ref.topic, partition: r.ref.partition, offset: String(r.nextOffset)})),
    )
  }
}
