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
import {connectRedis, createRedis, redisError, type RedisSettings, requireRedis7} from '../../core/redis.js'
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
import {knownUsers} from '../known-users.js'
import {countUpTo, type Entry, lastBefore, lastEntry, readAfter, streamInfo, streamInfos} from './io.js'
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
  type StreamEnd,
  type StreamInfo,
  type StreamPosition,
  streamsOf,
  trimmedPast,
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
  /** Users of the current month remembered as in mau_user_month (known-users.ts); 0 turns it off. */
  knownUsers?: number
  /** Unix ms: where streams without a stored position start (the first entry added at or after it). */
  fromTime?: number
  /** How often a replica looks for streams to take or give up (default 2 s). */
  rebalanceMs?: number
  /** How long a replica lost without closing its connection keeps its streams (--session-timeout; default 30 s). */
  sessionTimeoutMs?: number
}

/** Entries per stream per XREAD; XREAD waits this long for new ones. */
const READ_COUNT = 1_000
const BLOCK_MS = 500
/** XINFO, XRANGE pages and the like, on the command connection. */
const COMMAND_TIMEOUT_MS = 10_000
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
  private targets: Map<string, StreamEnd> | null = null
  private policy: Policy = {keepFrom: () => undefined, reported: () => new Set(), stop: () => {}}
  private stopWatching = () => {}
  private fatal: Error | null = null
  private stopping = false
  private reading: Promise<void> = Promise.resolve()
  private writing: Promise<void> = Promise.resolve()
  private marks: NodeJS.Timeout | undefined
  private refreshing = false
  private readonly onAbort = () => {
    this.stopping = true
  }

  constructor(
    private readonly opts: RedisConsumeOptions,
    private readonly deps: ConsumeDeps,
  ) {
    this.keys = streamsOf(opts.topics, opts.partitions)
    this.tally = new Tally(deps)
    this.queue = chunkQueue(opts.batchSize)
    this.decode = decoder(opts.format, opts.activity)
    this.deadLetterMaxBytes = opts.deadLetterMaxBytes ?? DEAD_LETTER_MAX_BYTES
    this.command = createRedis(opts.redis, `mau-consume-${opts.group}`, {commandTimeoutMs: COMMAND_TIMEOUT_MS})
    // XREAD answers within BLOCK_MS: one that has not after 5 s more is on a connection that died silently.
    this.reader = createRedis(opts.redis, `mau-consume-${opts.group}-read`, {commandTimeoutMs: BLOCK_MS + 5_000})
    this.ownership = new Ownership(opts.group, this.keys, {
      db: deps.db,
      log: deps.log,
      acquired: (keys) => keys.forEach((k) => void this.position(k)),
      released: (keys) => this.giveUp(keys),
      sessionTimeoutSeconds: Math.ceil((opts.sessionTimeoutMs ?? 30_000) / 1000),
    })
  }

  async start(): Promise<void> {
    const {opts, deps} = this
    if (opts.topics.length === 0)
      throw new MauError('No Redis streams to read: set MAU_REDIS_STREAMS (or --redis-stream), e.g. evaluation,goal.', {
        exit: ExitCode.CONFIG,
        code: 'BAD_CONFIG',
      })
    try {
      await connectRedis(this.command, opts.redis)
      await connectRedis(this.reader, opts.redis)
      await requireRedis7(this.command, opts.redis)
      if (opts.stopAtEnd) this.targets = await this.ends()
    } catch (error) {
      // Otherwise they would keep reconnecting behind a run that never started.
      this.command.disconnect()
      this.reader.disconnect()
      throw error
    }
    this.policy = await watchPolicy(deps.db, opts.timezone, deps.log)
    requireDeadLetterFits(this.deadLetterMaxBytes, await statementBytes(deps.db))
    const writer = new WindowWriter(this.queue, windowLimits(opts.batchSize), {
      ...deps,
      months: new MonthResolver(opts.timezone),
      maxStatementBytes: await statementBytes(deps.db),
      keepFrom: () => this.policy.keepFrom(),
      known: knownUsers(this.opts.knownUsers, this.opts.timezone, this.deps),
      holds: (c) => this.holds(c),
      written: (window, result) => {
        this.tally.window(window, result, this.policy.reported())
        // A window that committed after its stream was given up set the lag that the new owner reports.
        this.forgetLag(result.partitions.map((p) => p.ref.topic).filter((k) => !this.ownership.streams.has(k)))
      },
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

  /** Where --stop-at-end stops: each stream's last entry that exists now, not last-generated-id, which XDEL and XTRIM can leave behind. */
  private async ends(): Promise<Map<string, StreamEnd>> {
    const ends = new Map<string, StreamEnd>()
    try {
      for (const k of this.keys) {
        const {entriesAdded} = await streamInfo(this.command, k)
        const lastId = await lastEntry(this.command, k)
        ends.set(k, lastId === undefined ? {entriesAdded} : {lastId, entriesAdded})
      }
    } catch (error) {
      throw redisError(error, this.opts.redis)
    }
    return ends
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

  /** Streams another replica reads from now on: it reports their lag, which a series left here would count twice. */
  private giveUp(keys: string[]): void {
    this.release(keys)
    this.forgetLag(keys)
  }

  private forgetLag(keys: string[]): void {
    // At the end of the run every stream is given up: its last lag stays, as Kafka's does.
    if (this.stopping) return
    for (const k of keys) {
      this.added.delete(k)
      this.deps.metrics.lag.remove({group: this.opts.group, topic: k, partition: String(STREAM_PARTITION)})
      this.deps.health.setLag(partitionKey(k, STREAM_PARTITION), 0)
    }
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
        read = await this.dropTrimmed(read, reading)
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

  /**
   * XREAD after an id that was trimmed away returns the first entry left, silently: the entries between
   * were never read and what came cannot be numbered from the position. Such a stream's entries are dropped
   * and it is positioned again like a rewind, which records the loss under its row lock (skipLost). The
   * streams' state is asked after the XREAD, so a trim that the read saw is seen here too.
   */
  private async dropTrimmed(
    read: Map<string, Entry[]>,
    reading: (readonly [string, string, number])[],
  ): Promise<Map<string, Entry[]>> {
    const returned = reading.filter(([k]) => (read.get(k)?.length ?? 0) > 0)
    const infos = await streamInfos(
      this.command,
      returned.map(([k]) => k),
    )
    for (const [key, , generation] of returned) if (this.held.get(key)?.generation !== generation) infos.delete(key)
    for (const key of this.positionTrimmed(infos)) read.delete(key)
    return read
  }

  /** The held streams trimmed past their read position: released and positioned again (see dropTrimmed). */
  private positionTrimmed(infos: ReadonlyMap<string, StreamInfo>): string[] {
    const trimmed: string[] = []
    for (const [key, info] of infos) {
      const h = this.held.get(key)
      if (!h || !trimmedPast(h, info)) continue
      this.deps.log.warn(
        {stream: key, id: h.id, next: h.next, firstId: info.firstId ?? null},
        'entries after the read position were trimmed before they were read: positioning the stream again',
      )
      trimmed.push(key)
    }
    if (trimmed.length > 0) {
      this.release(trimmed)
      for (const k of trimmed) void this.position(k)
    }
    return trimmed
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

  /**
   * The lag's high-water marks; and a stream trimmed past its read position with nothing after it (emptied)
   * returns nothing to XREAD, so only this look sees it.
   */
  private async refreshMarks(): Promise<void> {
    if (this.refreshing || this.stopping) return
    this.refreshing = true
    try {
      const infos = await streamInfos(this.command, [...this.held.keys()]).catch(() => undefined)
      if (!infos || this.stopping) return
      for (const [key, info] of infos) if (this.held.has(key)) this.added.set(key, info.entriesAdded)
      this.positionTrimmed(infos)
    } finally {
      this.refreshing = false
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
