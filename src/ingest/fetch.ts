/**
 * The consumer's fetch side: each batch kafkajs fetches is cut into chunks, decoded and validated (pure CPU,
 * while MySQL writes earlier windows) and queued for the window writers (pipeline.ts, windows.ts), its
 * offsets resolved so that kafkajs fetches on. Nothing here is written: MySQL's stored offsets, not
 * kafkajs', say what is applied. consume.ts starts and stops the run around it.
 */
import type {Consumer, EachBatchPayload, Kafka} from 'kafkajs'
import type {Logger} from '../core/log.js'
import type {ConsumerMetrics} from './metrics.js'
import {prepareBatch} from './batch.js'
import type {Decoded} from './decode.js'
import type {Holdings} from './holdings.js'
import {partitionKey} from './offsets.js'
import type {Chunk, ChunkQueue} from './pipeline.js'
import {CHUNK_EVENTS} from './run-parts.js'

export interface FetchDeps {
  group: string
  log: Logger
  decode: (bytes: Buffer, nowSeconds: number) => Decoded
  deadLetterMaxBytes: number
  queue: ChunkQueue
  holdings: Holdings
  metrics: ConsumerMetrics
  /** The run is stopping: nothing more is queued. */
  stopping: () => boolean
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms))

/** kafkajs refreshes topic metadata this often: partitions added to a topic are read within a minute. */
const METADATA_MAX_AGE_MS = 30_000

/** The group's consumer, sized for the fetch side; `refused`: an error that is configuration, which kafkajs must not retry for ever. */
export function fetchingConsumer(
  kafka: Kafka,
  group: string,
  sessionTimeoutMs: number,
  refused: (error: Error) => boolean,
): Consumer {
  return kafka.consumer({
    groupId: group,
    sessionTimeout: sessionTimeoutMs,
    heartbeatInterval: 3_000,
    // Fetch buffers dominate memory: 1 MB a partition (~8,000 events) cut peak RSS by 80 MB and, with less GC, raised throughput.
    maxBytesPerPartition: 1024 * 1024,
    maxBytes: 8 * 1024 * 1024,
    maxWaitTimeInMs: 500,
    metadataMaxAge: METADATA_MAX_AGE_MS,
    retry: {restartOnFailure: async (error) => !refused(error)},
  })
}

export class Fetcher {
  constructor(private readonly deps: FetchDeps) {}

  /** Follows the group: joins position partitions (holdings.ts), empty fetches move offsets, a crash kafkajs gives up on ends the run. */
  watch(consumer: Consumer, gaveUp: (error: Error) => void): void {
    const {log, holdings} = this.deps
    consumer.on(consumer.events.GROUP_JOIN, ({payload}) => {
      log.info({assignment: payload.memberAssignment}, 'joined consumer group')
      holdings.joined(payload.memberAssignment)
    })
    consumer.on(consumer.events.START_BATCH_PROCESS, ({payload}) => {
      if (payload.batchSize === 0) this.queueSkipped(payload)
    })
    consumer.on(consumer.events.CRASH, ({payload}) => {
      log.error({err: payload.error, restart: payload.restart}, 'consumer crashed')
      // kafkajs will not restart it: the run ends, so a pod is never up while consuming nothing.
      if (!payload.restart) gaveUp(payload.error)
    })
  }

  private isGone(p: EachBatchPayload): boolean {
    return this.deps.stopping() || !p.isRunning() || p.isStale()
  }

  /**
   * The fetch side: cuts the batch into chunks, decodes and validates each (pure CPU, while MySQL writes
   * earlier windows) and queues it, resolving its offsets so that kafkajs fetches on. Waits while the queue
   * is full. Nothing here is written: MySQL's stored offsets, not kafkajs', say what is applied.
   */
  async eachBatch(p: EachBatchPayload): Promise<void> {
    const {batch} = p
    const ref = {group: this.deps.group, topic: batch.topic, partition: batch.partition}
    const key = partitionKey(batch.topic, batch.partition)
    const generation = this.deps.holdings.generation
    const wanted = () => !this.isGone(p) && this.deps.holdings.holds({key, generation})
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
      const prepared = prepareBatch(
        messages,
        this.deps.decode,
        Math.floor(Date.now() / 1000),
        this.deps.deadLetterMaxBytes,
      )
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
      if (!(await this.deps.queue.push(chunk, wanted, () => p.heartbeat()))) return
      this.deps.metrics.queued.set(this.deps.queue.size.events)
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
  queueSkipped(b: {
    topic: string
    partition: number
    firstOffset: string | null
    lastOffset: string
    highWatermark: string
  }): void {
    const key = partitionKey(b.topic, b.partition)
    const generation = this.deps.holdings.generation
    if (this.deps.stopping() || !this.deps.holdings.holds({key, generation})) return
    const lastOffset = Number(b.lastOffset)
    // Its first offset is where the fetch started unless compaction removed records before it: then the
    // window is judged behind and the partition read again, never skipped over.
    const from = b.firstOffset === null ? lastOffset : Number(b.firstOffset)
    const batch = {...prepareBatch([], this.deps.decode, 0), firstOffset: from, lastOffset}
    const chunk: Chunk = {
      ref: {group: this.deps.group, topic: b.topic, partition: b.partition},
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
    void this.deps.queue.push(chunk, () => this.deps.holdings.holds(chunk))
  }
}
