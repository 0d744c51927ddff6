/**
 * The operator's view of where a consumer group stands (mau offsets list) and the way to move it (mau offsets
 * reset): MySQL's stored offsets beside Kafka's watermarks. Moving an offset back applies messages again,
 * moving it forward skips them; the plan says how many of each before anything changes.
 */
import type {Kafka} from 'kafkajs'
import {inTransaction, type Db} from '../core/db.js'
import {listLosses, type RecordedLoss} from './losses.js'
import {lockStoredOffset, parseKey, partitionKey, setOffset, storedOffsets} from './offsets.js'
import {highWaterMarks, offsetsAtTime, requireTopics} from './positions.js'

export interface PartitionOffset {
  topic: string
  partition: number
  /** MySQL's stored offset: the next message to apply (null: none stored yet). */
  stored: number | null
  /** Kafka's log start and end (null: the topic has no such partition). */
  low: number | null
  high: number | null
  /** Messages from the stored offset (or the log start) to the end; null when the stored offset lies past the end. */
  lag: number | null
  /** A Redis stream's last entry applied (offsets then count entries); absent for Kafka. */
  entryId?: string | null
}

export interface OffsetsList {
  group: string
  partitions: PartitionOffset[]
  /** Losses recorded and not acknowledged (mau offsets ack-loss). */
  losses: RecordedLoss[]
}

export async function listOffsets(
  kafka: Kafka,
  db: Db,
  o: {group: string; brokers: string; topics: string[]},
): Promise<OffsetsList> {
  // A missing topic is a mistyped name (exit 2), not an outage: kafkajs would retry its metadata, then time out.
  await requireTopics(kafka, o.brokers, o.topics)
  const stored = await storedOffsets(db, o.group, o.topics)
  const marks = await highWaterMarks(kafka, o.brokers, o.topics)
  const keys = [...new Set([...marks.keys(), ...stored.keys()])]
  const partitions = keys.map((key) => {
    const m = marks.get(key)
    const s = stored.get(key) ?? null
    const from = s ?? m?.low ?? 0
    return {
      ...parseKey(key),
      stored: s,
      low: m?.low ?? null,
      high: m?.high ?? null,
      lag: m && from <= m.high ? m.high - Math.max(from, m.low) : null,
    }
  })
  partitions.sort((a, b) => a.topic.localeCompare(b.topic) || a.partition - b.partition)
  const losses = (await Promise.all(o.topics.map((topic) => listLosses(db, {group: o.group, topic})))).flat()
  return {group: o.group, partitions, losses}
}

export type ResetTarget = {to: 'earliest'} | {to: 'latest'} | {to: 'time'; at: number}

export interface ResetChange {
  topic: string
  partition: number
  stored: number | null
  next: number
  /** Messages below the stored offset that will be applied again: counted twice if they were applied before. */
  applyAgain: number
  /** Messages that will never be applied. */
  skip: number
  /** The stored offset lay past the partition's end (a recreated topic): the messages now in it were never applied. */
  pastEnd: boolean
}

/** Pure: what moving each partition to the target does. `atTime`: the first offset at or after the instant (-1: none). */
export function planReset(
  p: {topic: string; partition: number; stored: number | null; low: number; high: number; atTime?: number},
  target: ResetTarget,
): ResetChange {
  const next =
    target.to === 'earliest'
      ? p.low
      : target.to === 'latest'
        ? p.high
        : (p.atTime ?? -1) < 0
          ? p.high
          : Math.max(p.atTime!, p.low)
  const pastEnd = p.stored !== null && p.stored > p.high
  const from = p.stored === null || pastEnd ? p.low : Math.max(p.stored, p.low)
  return {
    topic: p.topic,
    partition: p.partition,
    stored: p.stored,
    next,
    applyAgain: !pastEnd && p.stored !== null && next < p.stored ? p.stored - next : 0,
    skip: Math.max(0, next - from),
    pastEnd,
  }
}

export interface ResetResult {
  group: string
  target: string
  applied: boolean
  changes: ResetChange[]
}

/** Plans (and with `apply`, writes in one transaction) the move of a topic's partitions to the target. */
export async function resetOffsets(
  kafka: Kafka,
  db: Db,
  o: {group: string; brokers: string; topic: string; partition?: number; target: ResetTarget; apply: boolean},
): Promise<ResetResult> {
  await requireTopics(kafka, o.brokers, [o.topic])
  const marks = await highWaterMarks(kafka, o.brokers, [o.topic])
  const atTime =
    o.target.to === 'time' ? await offsetsAtTime(kafka, o.brokers, o.topic, o.target.at) : new Map<number, number>()
  const partitions = [...marks.keys()]
    .map((k) => parseKey(k).partition)
    .filter((p) => o.partition === undefined || p === o.partition)
    .sort((a, b) => a - b)
  const plan = (stored: Map<number, number | null>) =>
    partitions.map((partition) =>
      planReset(
        {
          topic: o.topic,
          partition,
          stored: stored.get(partition) ?? null,
          ...marks.get(partitionKey(o.topic, partition))!,
          atTime: atTime.get(partition),
        },
        o.target,
      ),
    )
  const target = o.target.to === 'time' ? new Date(o.target.at).toISOString() : o.target.to
  if (!o.apply) {
    const stored = await storedOffsets(db, o.group, [o.topic])
    return {
      group: o.group,
      target,
      applied: false,
      changes: plan(new Map(partitions.map((p) => [p, stored.get(partitionKey(o.topic, p)) ?? null]))),
    }
  }
  // Planned on the offsets as locked, so that the counts are those of the change made.
  const changes = await inTransaction(db, async (conn) => {
    const now = Math.floor(Date.now() / 1000)
    const locked = new Map<number, number | null>()
    for (const partition of partitions) {
      const s = await lockStoredOffset(conn, {group: o.group, topic: o.topic, partition})
      locked.set(partition, s === undefined || s < 0 ? null : s)
    }
    const out = plan(locked)
    for (const c of out) await setOffset(conn, {group: o.group, topic: o.topic, partition: c.partition}, c.next, now)
    return out
  })
  return {group: o.group, target, applied: true, changes}
}
