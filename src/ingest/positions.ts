/**
 * Where the consumer starts and stops, asked of Kafka's admin API: the high-water marks that
 * --stop-at-end runs to, the offsets at --since, and seeks to MySQL's stored offsets after a join.
 */
import type {Consumer, Kafka} from 'kafkajs'
import {ExitCode, MauError, unavailable} from '../core/errors.js'
import type {Logger} from '../core/log.js'
import type {Db} from '../core/db.js'
import {partitionKey, seedOffsets, storedOffsets} from './offsets.js'

export type Marks = Map<string, {low: number; high: number}>

async function withAdmin<T>(kafka: Kafka, brokers: string, fn: (admin: ReturnType<Kafka['admin']>) => Promise<T>): Promise<T> {
  const admin = kafka.admin()
  try {
    await admin.connect()
    return await fn(admin)
  } catch (error) {
    if (error instanceof Error && error.name.startsWith('KafkaJS')) throw unavailable('Kafka', brokers, error)
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
      for (const p of await admin.fetchTopicOffsets(topic)) marks.set(partitionKey(topic, p.partition), {low: Number(p.low), high: Number(p.high)})
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
export function endProgress(marks: Marks, started: Map<string, number>, applied: Map<string, number>): {done: number; total: number} {
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
export function seedFromTime(kafka: Kafka, db: Db, o: {group: string; topics: string[]; brokers: string; fromTime: number}, log: Logger): Promise<{topic: string; partitions: number[]}[]> {
  return withAdmin(kafka, o.brokers, async (admin) => {
    const out: {topic: string; partitions: number[]}[] = []
    for (const topic of o.topics) {
      const high = new Map((await admin.fetchTopicOffsets(topic)).map((p) => [p.partition, Number(p.high)]))
      const atTime = (await admin.fetchTopicOffsetsByTimestamp(topic, o.fromTime)).map((p) => ({partition: p.partition, offset: Number(p.offset) < 0 ? high.get(p.partition)! : Number(p.offset)}))
      const seeded = await seedOffsets(db, o.group, topic, atTime, Math.floor(Date.now() / 1000))
      const kept = atTime.filter((p) => !seeded.includes(p.partition)).map((p) => p.partition)
      log.info({topic, from: new Date(o.fromTime).toISOString(), started: atTime.filter((p) => seeded.includes(p.partition)), kept}, 'positioned partitions without stored offsets at --since')
      if (kept.length > 0) log.warn({topic, partitions: kept}, '--since ignored where the group already applied events: rewinding those would count them twice')
      out.push({topic, partitions: seeded})
    }
    return out
  })
}

/** After an assignment, start each partition where MySQL says it was applied up to, not where Kafka last heard. */
export async function seekToStored(consumer: Consumer, db: Db, group: string, assignment: Record<string, number[]>): Promise<void> {
  const stored = await storedOffsets(db, group, Object.keys(assignment))
  for (const [topic, partitions] of Object.entries(assignment)) {
    for (const partition of partitions) {
      const offset = stored.get(partitionKey(topic, partition))
      if (offset !== undefined) consumer.seek({topic, partition, offset: String(offset)})
    }
  }
}
