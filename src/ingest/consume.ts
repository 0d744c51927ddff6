/**
 * The long-running consumer: the platform's activity events (decode.ts) from Kafka into the mau tables,
 * exactly once (see writer.ts and windows.ts).
 * MySQL's stored offsets are the truth; Kafka's committed offsets follow them (committed only after MySQL
 * has them), only for lag tooling. Fetching and decoding run ahead of writing through a bounded queue
 * (pipeline.ts): kafkajs fetches the next batches while MySQL writes the current window.
 * `consume` starts a run, waits until it should stop (a signal, or the end of the topics), then stops it.
 */
import type {Consumer, Kafka} from 'kafkajs'
import {type Db, statementBytes} from '../core/db.js'
import {ExitCode, MauError} from '../core/errors.js'
import {consumerGaveUp, createKafka, type KafkaSettings} from '../core/kafka.js'
import {kafkaRefusal, probeKafka} from '../core/kafka-security.js'
import type {Logger} from '../core/log.js'
import {MonthResolver} from '../core/month.js'
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
import {chunkQueue, requireDeadLetterFits, windowLimits, zeroSeries} from './run-parts.js'
import {knownUsers} from './known-users.js'
import {WindowWriter} from './windows.js'
import {Fetcher, fetchingConsumer} from './fetch.js'
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
  /** Users of the current month remembered as in mau_user_month (known-users.ts); 0 turns it off. */
  knownUsers?: number
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
  private readonly fetcher: Fetcher
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
    this.deadLetterMaxBytes = opts.deadLetterMaxBytes ?? DEAD_LETTER_MAX_BYTES
    this.settings = {protocol: 'PLAINTEXT', ...opts.security, brokers: opts.brokers}
    this.kafka = createKafka(this.settings, `mau-consume-${opts.group}`, deps.log, opts.sessionTimeoutMs ?? 30_000)
    this.window = windowLimits(opts.batchSize)
    this.queue = chunkQueue(opts.batchSize)
    this.consumer = fetchingConsumer(this.kafka, opts.group, opts.sessionTimeoutMs ?? 30_000, (error) =>
      Boolean(kafkaRefusal(error, this.settings)),
    )
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
    this.fetcher = new Fetcher({
      group: opts.group,
      log: deps.log,
      decode: decoder(opts.format, opts.activity),
      deadLetterMaxBytes: this.deadLetterMaxBytes,
      queue: this.queue,
      holdings: this.holdings,
      metrics: deps.metrics,
      stopping: () => this.stopping,
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
    this.fetcher.watch(this.consumer, (error) => {
      deps.health.crashed = error.message
      this.stopWith(consumerGaveUp(this.settings, error))
    })
    try {
      await this.consumer.connect()
      await this.consumer.subscribe({topics: opts.topics, fromBeginning: true})
      this.writing = writer.run(opts.concurrency)
      // autoCommit off: kafkajs resolves offsets as chunks are queued, ahead of MySQL; commits follow MySQL (commitWritten).
      // Several partitions' batches at once: while one waits for room in the queue, another is decoded.
      await this.consumer.run({
        eachBatch: (p) => this.fetcher.eachBatch(p),
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

  private windowWriter(maxStatementBytes: number): WindowWriter {
    requireDeadLetterFits(this.deadLetterMaxBytes, maxStatementBytes)
    return new WindowWriter(this.queue, this.window, {
      ...this.deps,
      months: this.months,
      maxStatementBytes,
      keepFrom: () => this.policy.keepFrom(),
      known: knownUsers(this.opts.knownUsers, this.opts.timezone, this.deps),
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
