/**
 * Reads the messages of a topic between given offsets, partition by partition, as the consumer would see
 * them (verify-migration reads what lies between mau's and Druid's positions). A group of its own, never
 * committed, so no real group moves; control records and compacted gaps are stepped over.
 */
import {randomUUID} from 'node:crypto'
import type {Kafka} from 'kafkajs'
import {ExitCode, MauError} from '../core/errors.js'
import {kafkaFailure} from '../core/kafka.js'

export type OffsetRange = {from: number; to: number}

export async function readRange(
  kafka: Kafka,
  brokers: string,
  topic: string,
  ranges: Map<number, OffsetRange>,
  onMessage: (partition: number, offset: number, value: Buffer | null) => void,
  timeoutMs = 120_000,
): Promise<void> {
  const pending = new Map([...ranges].filter(([, r]) => r.to > r.from))
  if (pending.size === 0) return
  const consumer = kafka.consumer({
    groupId: `mau-verify-${randomUUID()}`,
    maxBytesPerPartition: 1024 * 1024,
    maxWaitTimeInMs: 250,
  })
  let finish = () => {}
  const done = new Promise<void>((resolve) => (finish = resolve))
  const complete = (partition: number) => {
    pending.delete(partition)
    consumer.pause([{topic, partitions: [partition]}])
    if (pending.size === 0) finish()
  }
  let timer: NodeJS.Timeout | undefined
  try {
    await consumer.connect()
    await consumer.subscribe({topics: [topic], fromBeginning: true})
    await consumer.run({
      autoCommit: false,
      eachBatch: async ({batch}) => {
        const r = pending.get(batch.partition)
        if (!r) return
        for (const m of batch.messages) {
          const offset = Number(m.offset)
          if (offset >= r.to) break
          if (offset >= r.from) onMessage(batch.partition, offset, m.value)
        }
        if (Number(batch.lastOffset()) >= r.to - 1) complete(batch.partition)
      },
    })
    const untouched = [...ranges].filter(([p]) => !pending.has(p)).map(([p]) => p)
    if (untouched.length > 0) consumer.pause([{topic, partitions: untouched}])
    for (const [partition, r] of pending) consumer.seek({topic, partition, offset: String(r.from)})
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(
        () =>
          reject(
            new Error(
              `partitions ${[...pending.keys()].join(', ')} not read to their end within ${timeoutMs / 1000} s`,
            ),
          ),
        timeoutMs,
      )
    })
    await Promise.race([done, timeout])
  } catch (error) {
    if (error instanceof MauError) throw error
    throw new MauError(
      `Could not read topic ${topic} between the two sides' positions from ${brokers}: ${(error as Error).message}.`,
      {
        exit: ExitCode.UNAVAILABLE,
        code: 'POSITION_UNREADABLE',
        suggestions: ['Retry later; check MAU_KAFKA_BROKERS and that the messages are still retained.'],
      },
    )
  } finally {
    clearTimeout(timer)
    await consumer.disconnect().catch(() => undefined)
  }
}

/** Each partition's low and high watermark: where a consumer that has applied nothing stands, and the end. */
export async function watermarks(
  kafka: Kafka,
  brokers: string,
  topic: string,
): Promise<Map<number, {low: number; high: number}>> {
  const admin = kafka.admin()
  try {
    await admin.connect()
    return new Map(
      (await admin.fetchTopicOffsets(topic)).map((p) => [p.partition, {low: Number(p.low), high: Number(p.high)}]),
    )
  } catch (error) {
    throw kafkaFailure(kafka, error, brokers)
  } finally {
    await admin.disconnect().catch(() => undefined)
  }
}
