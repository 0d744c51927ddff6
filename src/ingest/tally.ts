/**
 * What the consumer has done: totals, where each partition stands, and the metrics, health and log lines
 * each committed window adds to. consume.ts reads the summary for progress and for its result.
 */
import type {Logger} from '../core/log.js'
import type {Loss} from './continuity.js'
import type {ConsumerMetrics, Health} from './metrics.js'
import {parseKey, partitionKey} from './offsets.js'
import type {Chunk} from './pipeline.js'
import type {PartitionResult, WindowResult} from './writer.js'

export interface ConsumeSummary {
  consumed: number
  redelivered: number
  rowsUpserted: number
  deadLettered: number
  /** Messages of kinds not counted (metrics events, kinds left out of --activity), by type URL. */
  ignored: Record<string, number>
  /** Events of months past retention, by month: not written (mau partitions rotate sets the retention). */
  expired: Record<string, number>
  batches: number
  seconds: number
  eventsPerSecond: number
  partitions: {topic: string; partition: number; nextOffset: number}[]
  /** With --since: the partitions started at that time; the others resumed from their stored offsets. */
  startedFromTime?: {topic: string; partitions: number[]}[]
  /** Times MySQL was found behind a window (a failover, a restore) and the partition read again from its offset. */
  rewinds: number
  /** Messages deleted from Kafka before they were applied (recorded in mau_offset_loss; see mau offsets list). */
  lost: Loss[]
  stoppedBy: 'end-of-topics' | 'signal'
}

export class Tally {
  private readonly started = Date.now()
  private readonly totals = {consumed: 0, redelivered: 0, rowsUpserted: 0, deadLettered: 0, batches: 0}
  private readonly ignored: Record<string, number> = {}
  private readonly expired: Record<string, number> = {}
  /** Each partition's next offset, as far as this member knows (MySQL's stored offsets are the truth). */
  nextOffsets = new Map<string, number>()
  startedFromTime?: {topic: string; partitions: number[]}[]
  rewinds = 0
  readonly lost: Loss[] = []

  constructor(private readonly deps: {metrics: ConsumerMetrics; health: Health; log: Logger}) {}

  /** A window committed: every partition's counts, lag and offsets; expired events, and late ones to reported months. */
  window(window: Chunk[], w: WindowResult, reported: ReadonlySet<string> = new Set()): void {
    const {metrics, health, log} = this.deps
    const expired = Object.entries(w.expired)
    for (const [month, n] of expired) {
      this.expired[month] = (this.expired[month] ?? 0) + n
      metrics.expired.inc({month}, n)
    }
    if (expired.length > 0) log.info({expired: w.expired}, 'events of months past retention: not written')
    for (const [month, n] of Object.entries(w.eventsByMonth)) if (reported.has(month)) metrics.late.inc({month}, n)
    const marks = new Map(window.map((c) => [c.key, c.highWatermark]))
    this.totals.rowsUpserted += w.rowsUpserted
    this.totals.batches++
    metrics.rows.inc(w.rowsUpserted)
    metrics.lastBatch.set(Date.now() / 1000)
    health.progress()
    for (const r of w.partitions)
      this.partition(r, marks.get(partitionKey(r.ref.topic, r.ref.partition)) ?? r.nextOffset)
  }

  /** Messages seen ahead of what this member applied: another replica's, read back from MySQL. */
  advance(stored: Map<string, number>): void {
    for (const [k, v] of stored) this.nextOffsets.set(k, Math.max(v, this.nextOffsets.get(k) ?? -1))
  }

  /** Where a partition was positioned (seeked to MySQL's offset): it may lie below what was applied before. */
  position(key: string, offset: number): void {
    this.nextOffsets.set(key, offset)
  }

  private partition(r: PartitionResult, highWatermark: number): void {
    const {metrics, health, log} = this.deps
    const {ref} = r
    const k = partitionKey(ref.topic, ref.partition)
    this.totals.consumed += r.applied
    this.totals.redelivered += r.skipped
    this.totals.deadLettered += r.deadLetters.length
    this.nextOffsets.set(k, Math.max(r.nextOffset, this.nextOffsets.get(k) ?? -1))
    metrics.consumed.inc({topic: ref.topic}, r.applied)
    if (r.skipped > 0) metrics.skipped.inc({topic: ref.topic}, r.skipped)
    const lag = Math.max(0, highWatermark - r.nextOffset)
    metrics.lag.set({group: ref.group, topic: ref.topic, partition: String(ref.partition)}, lag)
    health.setLag(k, lag)
    for (const d of r.deadLetters) metrics.deadLettered.inc({topic: ref.topic, reason: d.rejection.code})
    if (r.deadLetters.length > 0) {
      const first = r.deadLetters[0]!
      log.warn(
        {
          topic: ref.topic,
          partition: ref.partition,
          count: r.deadLetters.length,
          firstOffset: first.offset,
          firstReason: first.rejection.message,
        },
        'events dead-lettered',
      )
    }
    const ignored = Object.entries(r.ignored)
    for (const [typeUrl, n] of ignored) {
      this.ignored[typeUrl] = (this.ignored[typeUrl] ?? 0) + n
      metrics.ignored.inc({topic: ref.topic, type_url: typeUrl}, n)
    }
    if (ignored.length > 0)
      log.info(
        {topic: ref.topic, partition: ref.partition, ignored: r.ignored},
        'ignored messages of kinds not counted',
      )
    if (r.skipped > 0)
      log.info(
        {topic: ref.topic, partition: ref.partition, skipped: r.skipped},
        'skipped already-applied messages (redelivery)',
      )
  }

  summary(stoppedBy: ConsumeSummary['stoppedBy']): ConsumeSummary {
    const seconds = (Date.now() - this.started) / 1000
    return {
      ...this.totals,
      ignored: {...this.ignored},
      expired: {...this.expired},
      seconds,
      eventsPerSecond: Math.round(this.totals.consumed / Math.max(seconds, 0.001)),
      partitions: [...this.nextOffsets.entries()].map(([k, nextOffset]) => ({...parseKey(k), nextOffset})),
      ...(this.startedFromTime ? {startedFromTime: this.startedFromTime} : {}),
      rewinds: this.rewinds,
      lost: [...this.lost],
      stoppedBy,
    }
  }
}
