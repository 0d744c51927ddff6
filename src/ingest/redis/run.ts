/**
 * `mau consume --source redis`: the platform's Redis Streams into the mau tables, exactly once, through the
 * same pipeline, writer and transaction as Kafka's (pipeline.ts, windows.ts, writer.ts).
 *
 * Entries are read with XREAD, never XREADGROUP: mau joins none of the platform's consumer groups, so their
 * pending entries and acknowledgements are untouched. Each stream this replica owns (ownership.ts) is read
 * after the position MySQL stored for it (streams.ts); a chunk of entries carries the count it was read
 * from, and a window applies only where it continues MySQL's position (continuity.ts).
 */
import type {Redis} from 'ioredis'
import {statementBytes} from '../../core/db.js'
import {ExitCode, MauError} from '../../core/errors.js'
import {MonthResolver} from '../../core/month.js'
import {connectRedis, createRedis, redisError, type RedisSettings} from '../../core/redis.js'
import type {ActivityKind} from '../../core/platform.js'
import {prepareBatch} from '../batch.js'
import type {Behind} from '../continuity.js'
import type {ConsumeDeps} from '../consume.js'
import {decoder, type EventFormat} from '../decode.js'
import {DEAD_LETTER_MAX_BYTES} from '../deadletter.js'
import {partitionKey, requireOffsetsTable} from '../offsets.js'
import {watchPartitions} from '../partition-watch.js'
import type {Chunk, ChunkQueue} from '../pipeline.js'
import {type Policy, watchPolicy} from '../policy-watch.js'
import {chunkQueue, requireDeadLetterFits, windowLimits, zeroSeries} from '../run-parts.js'
import {type ConsumeSummary, Tally} from '../tally.js'
import {WindowWriter} from '../windows.js'
import {countUpTo, type Entry, lastBefore, readAfter, streamInfo} from './io.js'
import {Ownership} from './ownership.js'
import {
  requireStreamColumns,
  seedPosition,
  skipLost,
  STREAM_PARTITION,
  storedPositions,
  streamRef,
} from './positions.js'
import {
  beginning,
  idBefore,
  judgeStreamStart,
  reached,
  redisBehind,
  removedOf,
  type StreamPosition,
  streamKeys,
} from './streams.js'

export interface RedisConsumeOptions {
  redis: RedisSettings
  /** The platform's topics; each is `partitions` streams. */
  topics: string[]
  partitions: number
  group: string
  format: EventFormat
  timezone: string
  batchSize: number
  stopAtEnd: boolean
  concurrency: number
  activity?: readonly ActivityKind[]
  deadLetterMaxBytes?: number
  /** Unix ms: where streams without a stored position start (the first entry added at or after it). */
  fromTime?: number
  /** How often a replica looks for streams to take or give up (default 2 s). */
  rebalanceMs?: number
}

/** Entries per stream per XREAD; XREAD waits this long for new ones. */
const READ_COUNT = 1_000
const BLOCK_MS = 500
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms))

interface Held extends StreamPosition {
  generation: number
}

export async function consumeRedis(opts: RedisConsumeOptions, deps: ConsumeDeps): Promise<ConsumeSummary> {
  await requireOffsetsTable(deps.db)
  await requireStreamColumns(deps.db)
  const run = new RedisRun(opts, deps)
  await run.start()
  const stoppedBy = await run.waitUntilDone()
  return run.stop(stoppedBy)
}

class RedisRun {
  private readonly keys: string[]
  private readonly tally: Tally
  private readonly queue: ChunkQueue
  private readonly decode: ReturnType<typeof decoder>
  private readonly deadLetterMaxBytes: number
  /** Commands (XINFO, XRANGE); XREAD blocks its own connection. */
  private readonly command: Redis
  private readonly reader: Redis
  private readonly ownership: Ownership
  /** The streams positioned and being read, with where the next XREAD starts. */
  private readonly held = new Map<string, Held>()
  /** The latest positioning of each stream: an earlier one still under way gives way to it. */
  private readonly pending = new Map<string, number>()
  private generation = 0
  /** Entries ever added per stream, refreshed every second: the lag. */
  private readonly added = new Map<string, number>()
  private targets: Map<string, string> | null = null
  private policy: Policy = {keepFrom: () => undefined, reported: () => new Set(), stop: () => {}}
  private stopWatching = () => {}
  private fatal: Error | null = null
  private stopping = false
  private reading: Promise<void> = Promise.resolve()
  private writing: Promise<void> = Promise.resolve()
  private marks: NodeJS.Timeout | undefined
  private readonly onAbort = () => {
    this.stopping = true
  }

  constructor(
    private readonly opts: RedisConsumeOptions,
    private readonly deps: ConsumeDeps,
  ) {
    this.keys = streamKeys(opts.topics, opts.partitions)
    this.tally = new Tally(deps)
    this.queue = chunkQueue(opts.batchSize)
    this.decode = decoder(opts.format, opts.activity)
    this.deadLetterMaxBytes = opts.deadLetterMaxBytes ?? DEAD_LETTER_MAX_BYTES
    this.command = createRedis(opts.redis, `mau-consume-${opts.group}`)
    this.reader = createRedis(opts.redis, `mau-consume-${opts.group}-read`)
    this.ownership = new Ownership(opts.group, this.keys, {
      db: deps.db,
      log: deps.log,
      acquired: (keys) => keys.forEach((k) => void this.position(k)),
      released: (keys) => this.release(keys),
    })
  }

  async start(): Promise<void> {
    const {opts, deps} = this
    if (opts.topics.length === 0)
      throw new MauError('No Redis streams to read: set MAU_REDIS_STREAMS (or --redis-stream), e.g. evaluation,goal.', {
        exit: ExitCode.CONFIG,
        code: 'BAD_CONFIG',
      })
    await connectRedis(this.command, opts.redis)
    await connectRedis(this.reader, opts.redis)
    if (opts.stopAtEnd) {
      this.targets = new Map()
      for (const k of this.keys) this.targets.set(k, (await streamInfo(this.command, k)).lastId)
    }
    this.policy = await watchPolicy(deps.db, opts.timezone, deps.log)
    requireDeadLetterFits(this.deadLetterMaxBytes, await statementBytes(deps.db))
    const writer = new WindowWriter(this.queue, windowLimits(opts.batchSize), {
      ...deps,
      months: new MonthResolver(opts.timezone),
      maxStatementBytes: await statementBytes(deps.db),
      keepFrom: () => this.policy.keepFrom(),
      holds: (c) => this.holds(c),
      written: (window, result) => this.tally.window(window, result, this.policy.reported()),
      rewind: (behind) => this.rewind(behind),
      failed: (error) => this.stopWith(error),
    })
    deps.signal.addEventListener('abort', this.onAbort, {once: true})
    this.stopWatching = watchPartitions(deps.db, deps.metrics, opts.timezone, deps.log)
    zeroSeries(deps.metrics, this.keys)
    this.writing = writer.run(opts.concurrency)
    await this.ownership.start(opts.rebalanceMs ?? 2_000)
    // A replica beyond the streams' count owns none, and is ready all the same (a Kafka member without partitions is too).
    if (this.ownership.streams.size === 0) deps.health.joined = true
    this.reading = this.readLoop()
    this.marks = setInterval(() => void this.refreshMarks(), 1_000)
    deps.log.info(
      {
        streams: this.keys.length,
        topics: opts.topics,
        group: opts.group,
        redis: opts.redis.display,
        stopAtEnd: opts.stopAtEnd,
      },
      'consuming Redis streams',
    )
  }

  /** A chunk's key is partitionKey(stream, 0), as the writer and the tally name partitions; held is by stream. */
  private holds(c: Pick<Chunk, 'ref' | 'generation'>): boolean {
    return this.held.get(c.ref.topic)?.generation === c.generation
  }

  private stopWith(error: Error): void {
    if (this.fatal) return
    this.fatal = error
    this.stopping = true
    this.queue.close()
  }

  /** Where MySQL says, after judging the stream as it is now; the stream is read from there on. */
  private async position(key: string): Promise<void> {
    const generation = ++this.generation
    this.pending.set(key, generation)
    const {db, log, metrics} = this.deps
    const {group} = this.opts
    const now = () => Math.floor(Date.now() / 1000)
    for (let delay = 500; !this.stopping && this.ownership.streams.has(key); delay = Math.min(delay * 2, 10_000)) {
      try {
        const stored = (await storedPositions(db, group, [key])).get(key)
        const info = await streamInfo(this.command, key)
        let start: StreamPosition = beginning(info)
        if (!stored && this.opts.fromTime !== undefined && info.exists) {
          const id = await lastBefore(this.command, key, idBefore(this.opts.fromTime))
          start = id === '0-0' ? start : {id, next: removedOf(info) + (await countUpTo(this.command, key, id))}
        }
        const decision = judgeStreamStart(stored, info, () => start)
        let position: StreamPosition
        if (decision.kind === 'ahead') return this.stopWith(redisBehind(group, key, decision.stored, decision.info))
        if (decision.kind === 'lost') {
          if (!(await skipLost(db, group, key, stored!, decision.lost, now()))) continue
          log.error(
            {stream: key, ...decision.lost},
            'entries were trimmed from the stream before they were applied: recorded in mau_offset_loss',
          )
          metrics.lost.inc({topic: key}, decision.lost.messages)
          this.tally.lost.push({topic: key, partition: STREAM_PARTITION, ...decision.lost})
          position = decision.position
        } else if (decision.kind === 'start') position = await seedPosition(db, group, key, decision.position, now())
        else position = decision.position
        // Released, or positioned again meanwhile: that later call has the stream.
        if (this.pending.get(key) !== generation || !this.ownership.streams.has(key)) return
        this.held.set(key, {...position, generation})
        this.tally.position(partitionKey(key, STREAM_PARTITION), position.next)
        this.deps.health.joined = true
        return
      } catch (error) {
        const e = redisError(error, this.opts.redis)
        if (e.exitCode === ExitCode.CONFIG) return this.stopWith(e)
        log.warn({stream: key, err: error, retryInMs: delay}, 'could not position the stream; retrying')
        await sleep(delay)
      }
    }
  }

  private release(keys: string[]): void {
    for (const k of keys) {
      this.held.delete(k)
      this.pending.delete(k)
    }
    this.deps.metrics.abandoned.inc(this.queue.abandon((c) => this.holds(c)))
  }

  /** MySQL is behind where these streams were read from (a failover, a restore): read them again from it. */
  private rewind(behind: Behind[]): void {
    for (const {ref, stored, expected} of behind) {
      this.deps.log.warn(
        {stream: ref.topic, stored: stored ?? null, expected},
        'MySQL is behind the consumer (failover or restore): reading the stream again from its stored position',
      )
      this.deps.metrics.rewinds.inc({topic: ref.topic})
      this.tally.rewinds++
    }
    const keys = behind.map((b) => b.ref.topic)
    this.release(keys)
    for (const k of keys) void this.position(k)
  }

  private async readLoop(): Promise<void> {
    while (!this.stopping) {
      const reading = [...this.held.entries()].map(([k, h]) => [k, h.id, h.generation] as const)
      if (reading.length === 0) {
        await sleep(100)
        continue
      }
      let read: Map<string, Entry[]>
      try {
        read = await readAfter(
          this.reader,
          reading.map(([k, id]) => [k, id]),
          READ_COUNT,
          BLOCK_MS,
        )
      } catch (error) {
        const e = redisError(error, this.opts.redis)
        if (e.exitCode === ExitCode.CONFIG) return this.stopWith(e)
        this.deps.log.warn({err: error}, 'could not read from Redis; retrying')
        await sleep(1_000)
        continue
      }
      for (const [key, , generation] of reading) {
        const entries = read.get(key)
        if (entries && entries.length > 0 && !(await this.queueEntries(key, generation, entries))) break
      }
    }
  }

  /** Decodes the entries read after a stream's position and queues them as one chunk; false once stopping. */
  private async queueEntries(key: string, generation: number, entries: Entry[]): Promise<boolean> {
    const h = this.held.get(key)
    if (!h || h.generation !== generation) return true
    const from = h.next
    const messages = entries.map((e, i) => ({offset: String(from + i), value: e.value}))
    const batch = prepareBatch(messages, this.decode, Math.floor(Date.now() / 1000), this.deadLetterMaxBytes)
    for (const d of batch.deadLetters) d.entryId = entries[d.offset - from]!.id
    let bytes = 0
    for (const e of entries) bytes += e.value?.length ?? 0
    const lastId = entries.at(-1)!.id
    const chunk: Chunk = {
      ref: streamRef(this.opts.group, key),
      key: partitionKey(key, STREAM_PARTITION),
      from,
      batch,
      lastId,
      events: entries.length,
      bytes,
      highWatermark: Math.max(this.added.get(key) ?? 0, from + entries.length),
      generation,
      queuedAt: Date.now(),
    }
    const wanted = () => !this.stopping && this.holds(chunk)
    h.id = lastId
    h.next = from + entries.length
    if (!(await this.queue.push(chunk, wanted))) return !this.stopping
    this.deps.metrics.queued.set(this.queue.size.events)
    return true
  }

  private async refreshMarks(): Promise<void> {
    for (const key of this.held.keys()) {
      const info = await streamInfo(this.command, key).catch(() => undefined)
      if (info) this.added.set(key, info.entriesAdded)
    }
  }

  async waitUntilDone(): Promise<ConsumeSummary['stoppedBy']> {
    this.deps.onProgress?.(this.tally.summary('signal'))
    while (!this.stopping) {
      await sleep(this.targets ? 500 : 200)
      this.deps.onProgress?.(this.tally.summary('signal'))
      if (!this.targets) continue
      // Every stream, whichever replica reads it: MySQL has all their positions.
      const stored = await storedPositions(this.deps.db, this.opts.group, this.keys).catch(() => undefined)
      if (!stored) continue
      this.tally.advance(new Map([...stored].map(([k, p]) => [partitionKey(k, STREAM_PARTITION), p.next])))
      if (this.keys.every((k) => reached(stored.get(k), this.targets!.get(k)!))) return 'end-of-topics'
    }
    return 'signal'
  }

  async stop(stoppedBy: ConsumeSummary['stoppedBy']): Promise<ConsumeSummary> {
    this.stopping = true
    clearInterval(this.marks)
    this.stopWatching()
    this.policy.stop()
    this.queue.close()
    await this.reading
    await this.writing
    await this.ownership.stop()
    this.command.disconnect()
    this.reader.disconnect()
    this.deps.signal.removeEventListener('abort', this.onAbort)
    if (this.fatal) throw this.fatal
    const result = this.tally.summary(stoppedBy)
    this.deps.log.info(result, 'stopped')
    return result
  }
}
