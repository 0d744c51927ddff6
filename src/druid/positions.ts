/**
 * Where each side of the double write stands on the topic both ingest: mau's offsets stored with its rows
 * (mau_consumer_offset, for its group: exact), and Druid's. The supervisor's status reports its tasks'
 * offsets as of its last check (every supervisor period, 30 s by default; seen on Druid 33: the offsets
 * stood still for 30 s while the rows grew), so they are only the least Druid has applied; the most is the
 * end of the topic. Read before and after verify-migration's counts; the messages between them are read
 * from Kafka and decoded with the consumer's own decoder.
 */
import type {Kafka} from 'kafkajs'
import type {Db} from '../core/db.js'
import {ExitCode, MauError} from '../core/errors.js'
import type {Decoded} from '../ingest/decode.js'
import {partitionKey, storedOffsets} from '../ingest/offsets.js'
import {readRange, watermarks, type OffsetRange} from '../ingest/range.js'
import type {DruidClient} from './client.js'
import {inFlightRange, type PartitionBounds} from './in-flight.js'
import {appliedOffsets, supervisorStatus, unreadable} from './supervisor.js'

export interface PositionSettings {
  kafka: Kafka
  brokers: string
  group: string
  /** The consumer's topics: the supervisor's must be among them. */
  topics: string[]
  overlord: DruidClient
  supervisor: string
  decode: (bytes: Buffer, nowSeconds: number) => Decoded
  maxInFlight: number
}

/** One reading of both sides, per partition of the supervisor's topic. */
export interface Reading {
  topic: string
  mysql: Map<number, number>
  druid: Map<number, {low: number; high: number}>
  /** Each partition's watermarks: no side can have applied more than high, nor can messages below low be read. */
  marks: Map<number, {low: number; high: number}>
}

export class Positions {
  constructor(private readonly s: PositionSettings) {}

  async read(db: Db): Promise<Reading> {
    const status = await supervisorStatus(this.s.overlord, this.s.supervisor)
    if (!this.s.topics.includes(status.topic)) {
      throw new MauError(
        `Druid supervisor "${this.s.supervisor}" reads topic "${status.topic}", which mau does not consume (--topic ${this.s.topics.join(',')}).`,
        {
          exit: ExitCode.CONFIG,
          code: 'TOPIC_MISMATCH',
          suggestions: [
            "Give verify-migration the consumer's --topic (MAU_KAFKA_TOPICS), and the supervisor of that topic in --druid-supervisor.",
          ],
        },
      )
    }
    const druid = appliedOffsets(status)
    const stored = await storedOffsets(db, this.s.group, [status.topic])
    // A partition mau has applied nothing from stands at its low watermark: all of it is still to come.
    const marks = await watermarks(this.s.kafka, this.s.brokers, status.topic)
    const mysql = new Map<number, number>()
    for (const p of new Set([...druid.keys(), ...marks.keys()]))
      mysql.set(p, stored.get(partitionKey(status.topic, p)) ?? marks.get(p)?.low ?? 0)
    return {topic: status.topic, mysql, druid, marks}
  }

  /** Pure over two readings: each partition's bounds; a side that went back (a reset) cannot be judged. */
  bounds(before: Reading, after: Reading): Map<number, PartitionBounds> {
    const bounds = new Map<number, PartitionBounds>()
    for (const [p, m] of after.mysql) {
      const d0 = before.druid.get(p)
      const d1 = after.druid.get(p)
      if (!d0 || !d1)
        throw unreadable(
          `Druid supervisor "${this.s.supervisor}" reports no offset for partition ${p} of ${after.topic}.`,
          'Retry once its tasks have read every partition.',
        )
      const m0 = before.mysql.get(p) ?? m
      if (m < m0 || d1.high < d0.low)
        throw unreadable(
          `A side's offset on ${after.topic} partition ${p} went back during the check (MySQL ${m0} -> ${m}, Druid ${d0.low} -> ${d1.high}).`,
          'Retry: a reset or a replaced task moves a side back.',
        )
      bounds.set(p, {
        mysql: {before: m0, after: m},
        druid: {before: d0.low, after: Math.max(d1.high, after.marks.get(p)?.high ?? d1.high)},
      })
    }
    return bounds
  }

  /**
   * Reads and decodes the messages between the sides, of the topic and within the watermarks of the reading
   * taken after the counts; more than --max-in-flight, or ones no longer retained, cannot be judged.
   */
  async messages(
    after: Pick<Reading, 'topic' | 'marks'>,
    bounds: Map<number, PartitionBounds>,
    onMessage: (partition: number, offset: number, decoded: Decoded | undefined) => void,
  ): Promise<void> {
    const {topic, marks} = after
    const ranges = new Map<number, OffsetRange>([...bounds].map(([p, b]) => [p, inFlightRange(b)]))
    const total = [...ranges.values()].reduce((n, r) => n + Math.max(0, r.to - r.from), 0)
    if (total > this.s.maxInFlight) {
      throw new MauError(
        `${total} messages of ${topic} lie between MySQL's and Druid's positions: more than --max-in-flight ${this.s.maxInFlight}, so the difference cannot be read now.`,
        {
          exit: ExitCode.UNAVAILABLE,
          code: 'IN_FLIGHT_TOO_LARGE',
          suggestions: [
            "Retry once the side behind has caught up (mau consume lag, or the supervisor's lag in `mau doctor --druid`), or raise --max-in-flight.",
          ],
        },
      )
    }
    for (const [p, r] of ranges) {
      const low = marks.get(p)?.low ?? 0
      if (r.to > r.from && r.from < low) {
        throw unreadable(
          `Messages ${r.from}..${r.to - 1} of ${topic} partition ${p} are no longer retained by Kafka (it starts at ${low}).`,
          'Compare a month whose traffic is over, with --no-in-flight.',
        )
      }
    }
    const now = Math.floor(Date.now() / 1000)
    await readRange(this.s.kafka, this.s.brokers, topic, ranges, (p, offset, value) =>
      onMessage(p, offset, value ? this.s.decode(value, now) : undefined),
    )
  }
}
