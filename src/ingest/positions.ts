/**
 * Where the consumer starts and stops, asked of Kafka's admin API: the high-water marks that
 * --stop-at-end runs to, the offsets at --since, and where each partition resumes after a join or a
 * rewind (positionPartitions), judged against MySQL's stored offsets.
 */
import type {Kafka} from 'kafkajs'
import {ExitCode, MauError} from '../core/errors.js'
import {kafkaFailure} from '../core/kafka.js'
import type {Logger} from '../core/log.js'
import {inTransaction, type Db} from '../core/db.js'
import {judgeStart, kafkaBehind, type StartDecision} from './continuity.js'
import {recordLoss} from './losses.js'
import {
  lockStoredOffset,
  parseKey,
  partitionKey,
  type PartitionRef,
  seedOffsets,
  setOffset,
  storedOffsets,
} from './offsets.js'

export type Marks = Map<string, {low: number; high: number}>

async function withAdmin<T>(
  kafka: Kafka,
  brokers: string,
  fn: (admin: ReturnType<Kafka['admin']>) => Promise<T>,
): Promise<T> {
  const admin = kafka.admin()
  try {
    await admin.connect()
    return await fn(admin)
  } catch (error) {
    if (error instanceof Error && error.name.startsWith('KafkaJS')) throw kafkaFailure(kafka, error, brokers)
    throw error
  } finally {
    await admin.disconnect()
  }
}

/** Fails at once, naming them, when topics do not exist: waiting for them would only retry until a timeout. */
export function requireTopics(kafka: Kafka, brokers: string, topics: string[]): Promise<void> {
  return withAdmin(kafka, brokers, async (admin) => {
    const known = new Set(await admin.listTopics())
    const missing = topics.filter((t) => !known.has(t))
    if (missing.length === 0) return
    throw new MauError(`Kafka topic ${missing.map((t) => `"${t}"`).join(', ')} does not exist at ${brokers}.`, {
      exit: ExitCode.CONFIG,
      code: 'TOPIC_NOT_FOUND',
      suggestions: ['Check --topic (MAU_KAFKA_TOPICS) against the topics the SDK events are produced to.'],
    })
  })
}

/** Each partition's low and high watermark, by partitionKey. */
export function highWaterMarks(kafka: Kafka, brokers: string, topics: string[]): Promise<Marks> {
  return withAdmin(kafka, brokers, async (admin) => {
    const marks: Marks = new Map()
    for (const topic of topics) {
      for (const p of await admin.fetchTopicOffsets(topic))
        marks.set(partitionKey(topic, p.partition), {low: Number(p.low), high: Number(p.high)})
    }
    return marks
  })
}

/** Pure: every partition is empty or applied up to the mark it had at start. */
export function reachedEnd(marks: Marks, applied: Map<string, number>): boolean {
  return [...marks].every(([k, m]) => m.high <= m.low || (applied.get(k) ?? -1) >= m.high)
}

/**
 * Pure: how far --stop-at-end has come, in messages: from where each partition started (its stored
 * offset, or its low mark) to the high-water mark it had at start.
 */
export function endProgress(
  marks: Marks,
  started: Map<string, number>,
  applied: Map<string, number>,
): {done: number; total: number} {
  let done = 0
  let total = 0
  for (const [k, m] of marks) {
    const from = Math.max(m.low, started.get(k) ?? m.low)
    total += Math.max(0, m.high - from)
    done += Math.max(0, Math.min(m.high, applied.get(k) ?? from) - from)
  }
  return {done, total}
}

/**
 * --since: each partition's first offset at or after the instant (the high-water mark if none is),
 * stored as the group's starting point where the group has applied nothing yet.
 */
export function seedFromTime(
  kafka: Kafka,
  db: Db,
  o: {group: string; topics: string[]; brokers: string; fromTime: number},
  log: Logger,
): Promise<{topic: string; partitions: number[]}[]> {
  return withAdmin(kafka, o.brokers, async (admin) => {
    const out: {topic: string; partitions: number[]}[] = []
    for (const topic of o.topics) {
      const high = new Map((await admin.fetchTopicOffsets(topic)).map((p) => [p.partition, Number(p.high)]))
      const atTime = (await admin.fetchTopicOffsetsByTimestamp(topic, o.fromTime)).map((p) => ({
        partition: p.partition,
        offset: Number(p.offset) < 0 ? high.get(p.partition)! : Number(p.offset),
      }))
      const seeded = await seedOffsets(db, o.group, topic, atTime, Math.floor(Date.now() / 1000))
      const kept = atTime.filter((p) => !seeded.includes(p.partition)).map((p) => p.partition)
      log.info(
        {
          topic,
          from: new Date(o.fromTime).toISOString(),
          started: atTime.filter((p) => seeded.includes(p.partition)),
          kept,
        },
        'positioned partitions without stored offsets at --since',
      )
      if (kept.length > 0)
        log.warn(
          {topic, partitions: kept},
          '--since ignored where the group already applied events: rewinding those would count them twice',
        )
      out.push({topic, partitions: seeded})
    }
    return out
  })
}

/** Each partition's first offset at or after the instant (unix ms), -1 where none is. */
export function offsetsAtTime(kafka: Kafka, brokers: string, topic: string, at: number): Promise<Map<number, number>> {
  return withAdmin(
    kafka,
    brokers,
    async (admin) =>
      new Map((await admin.fetchTopicOffsetsByTimestamp(topic, at)).map((p) => [p.partition, Number(p.offset)])),
  )
}

/** Refuses at once (exit 2) a group whose stored offsets lie past the end of their partitions: see kafkaBehind. */
export async function requireKafkaAhead(
  kafka: Kafka,
  db: Db,
  o: {group: string; brokers: string; topics: string[]},
): Promise<void> {
  const stored = await storedOffsets(db, o.group, o.topics)
  const marks = await highWaterMarks(kafka, o.brokers, o.topics)
  for (const [key, offset] of stored) {
    const ref = {group: o.group, ...parseKey(key)}
    const d = judgeStart(offset, marks.get(key) ?? NO_PARTITION, () => 0)
    if (d.kind === 'ahead') throw kafkaBehind(ref, d.stored, d.high)
  }
}

/** A partition the topic does not have (any more): it holds nothing. */
const NO_PARTITION = {low: 0, high: 0}

export interface Positioned {
  ref: PartitionRef
  decision: Exclude<StartDecision, {kind: 'ahead'}>
}

/**
 * Where each assigned partition resumes, as MySQL says (continuity.ts judgeStart), with what that needs
 * written first: a partition without a stored offset gets its start (the log start, or the offset at
 * --since); one whose stored offset is below the log start gets the loss recorded and its offset moved to the
 * log start, in one transaction. A partition past its end is refused (exit 2). Nothing is seeked here.
 */
export async function positionPartitions(
  kafka: Kafka,
  db: Db,
  o: {group: string; brokers: string; fromTime?: number},
  assignment: Record<string, number[]>,
): Promise<Positioned[]> {
  const topics = Object.keys(assignment)
  for (let attempt = 0; ; attempt++) {
    const stored = await storedOffsets(db, o.group, topics)
    // Read after the offsets: a high-water mark never lies below an offset stored before it was read.
    const marks = await highWaterMarks(kafka, o.brokers, topics)
    const starts = await startOffsets(kafka, o, assignment, stored, marks)
    const out: Positioned[] = []
    for (const [topic, partitions] of Object.entries(assignment)) {
      for (const partition of partitions) {
        const key = partitionKey(topic, partition)
        const ref = {group: o.group, topic, partition}
        const decision = judgeStart(stored.get(key), marks.get(key) ?? NO_PARTITION, () => starts.get(key)!)
        if (decision.kind === 'ahead') throw kafkaBehind(ref, decision.stored, decision.high)
        out.push({ref, decision})
      }
    }
    const now = Math.floor(Date.now() / 1000)
    const settled = await inTransaction(db, async (conn) => {
      for (const {ref, decision} of out) {
        if (decision.kind === 'resume') continue
        // Another replica (or a window) moved the offset since it was read: judge again.
        const locked = await lockStoredOffset(conn, ref)
        if ((locked ?? -1) !== (stored.get(partitionKey(ref.topic, ref.partition)) ?? -1)) return false
        if (decision.kind === 'lost') await recordLoss(conn, ref, decision.lost, now)
        await setOffset(conn, ref, decision.offset, now)
      }
      return true
    })
    if (settled) return out
    if (attempt >= 5)
      throw new Error(`the stored offsets of group ${o.group} kept moving while the consumer positioned its partitions`)
  }
}

/** Where partitions without a stored offset start: the offset at --since, else the log start. */
async function startOffsets(
  kafka: Kafka,
  o: {brokers: string; fromTime?: number},
  assignment: Record<string, number[]>,
  stored: Map<string, number>,
  marks: Marks,
): Promise<Map<string, number>> {
  const starts = new Map<string, number>()
  for (const [topic, partitions] of Object.entries(assignment)) {
    const fresh = partitions.filter((p) => !stored.has(partitionKey(topic, p)))
    if (fresh.length === 0) continue
    const atTime =
      o.fromTime === undefined ? new Map<number, number>() : await offsetsAtTime(kafka, o.brokers, topic, o.fromTime)
    for (const p of fresh) {
      const key = partitionKey(topic, p)
      const m = marks.get(key) ?? NO_PARTITION
      const t = atTime.get(p) ?? -1
      starts.set(key, t < 0 ? (o.fromTime === undefined ? m.low : m.high) : Math.max(t, m.low))
    }
  }
  return starts
}
