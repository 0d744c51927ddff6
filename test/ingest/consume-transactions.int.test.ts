/**
 * Offsets without messages are no gap: a transactional producer leaves a marker after each transaction and
 * aborted records the consumer never sees. Committed messages count, aborted ones never, the stored offset
 * passes trailing markers (so --stop-at-end returns), and no window is taken for MySQL being behind.
 * Also partitions added to a topic while the consumer runs: read within a minute, from their first offset.
 */
import {afterEach, beforeEach, describe, expect, it} from 'vitest'
import {openDb, type Db} from '../../src/core/db.js'
import {createLogger} from '../../src/core/log.js'
import {consume} from '../../src/ingest/consume.js'
import {ConsumerMetrics, Health} from '../../src/ingest/metrics.js'
import {writerPool} from '../../src/mau/rows.js'
import {encode, type SampleEvent} from '../fixtures/events.js'
import {consumeAll, eventsApplied, produce, query} from '../fixtures/mau.js'
import {connectAdmin, createTestDatabase, createTopic, groupOf, kafka, type TestDatabase} from '../fixtures/services.js'

let db: TestDatabase
let pool: Db
let topic: {topic: string; drop: () => Promise<void>}

beforeEach(async () => {
  db = await createTestDatabase({migrated: true})
  pool = openDb(db.settings, writerPool(4))
})
afterEach(async () => {
  await pool.end()
  await topic.drop()
  await db.drop()
})

const event = (user: string): SampleEvent => ({
  environment_namespace: 'prod',
  user_id: user,
  source_id: 'IOS',
  last_seen: Date.UTC(2022, 11, 10) / 1000,
})
const users = (prefix: string, n: number) => Array.from({length: n}, (_, i) => `${prefix}-${i}`)
const storedOffset = async () =>
  Number((await query(db.settings, 'SELECT next_offset FROM mau_consumer_offset'))[0]?.next_offset)

/** One transaction per entry, committed or aborted, each leaving its marker on the partition. */
async function transactions(list: {users: string[]; commit: boolean}[]): Promise<void> {
  const producer = kafka('mau-test-tx').producer({
    transactionalId: `${topic.topic}-tx`,
    idempotent: true,
    maxInFlightRequests: 1,
  })
  await producer.connect()
  for (const t of list) {
    const tx = await producer.transaction()
    // Sends of 2,000: a record batch must stay under the broker's 1 MB.
    for (let i = 0; i < t.users.length; i += 2_000)
      await tx.send({
        topic: topic.topic,
        messages: t.users.slice(i, i + 2_000).map((u) => ({value: encode(event(u), 'json')})),
      })
    await (t.commit ? tx.commit() : tx.abort())
  }
  await producer.disconnect()
}

describe('mau consume on a topic written by a transactional producer', () => {
  it.each([true, false])(
    'counts committed messages only and reaches the end past a trailing marker (last transaction committed: %s)',
    async (lastCommitted) => {
      topic = await createTopic(1)
      await transactions([
        {users: users('kept', 100), commit: true},
        {users: users('aborted', 50), commit: false},
        {users: users('last', 10), commit: lastCommitted},
      ])
      // 100 + 1 marker + 50 + 1 marker + 10 + 1 marker: the partition ends in a marker.
      const first = await Promise.race([
        consumeAll(pool, topic.topic),
        new Promise<never>((_, reject) => setTimeout(() => reject(new Error('--stop-at-end did not return')), 60_000)),
      ])
      expect(first.stoppedBy).toBe('end-of-topics')
      expect(first.rewinds).toBe(0)
      expect(await eventsApplied(db.settings)).toBe(lastCommitted ? 110 : 100)
      expect(await query(db.settings, "SELECT COUNT(*) AS n FROM mau WHERE user_id LIKE 'aborted-%'")).toEqual([{n: 0}])
      expect(await storedOffset()).toBe(163)

      const again = await consumeAll(pool, topic.topic)
      expect(again).toMatchObject({consumed: 0, rewinds: 0})
      await transactions([{users: users('after', 5), commit: true}])
      await consumeAll(pool, topic.topic)
      expect(await eventsApplied(db.settings)).toBe((lastCommitted ? 110 : 100) + 5)
      expect(await storedOffset()).toBe(169)
    },
  )

  it('passes an aborted transaction larger than one fetch: the fetches holding only its records and marker move the offset too', async () => {
    topic = await createTopic(1)
    await transactions([
      {users: users('kept', 100), commit: true},
      {users: users('aborted', 12_000), commit: false},
    ])
    const run = await consumeAll(pool, topic.topic)
    expect(run).toMatchObject({stoppedBy: 'end-of-topics', rewinds: 0, consumed: 100})
    expect(await eventsApplied(db.settings)).toBe(100)
    expect(await storedOffset()).toBe(100 + 1 + 12_000 + 1)
  })
})

describe('mau consume when partitions are added to its topic', () => {
  it('reads the new partitions within a minute, from their first offset, with their lag reported', async () => {
    topic = await createTopic(1)
    const metrics = new ConsumerMetrics()
    const stop = new AbortController()
    const run = consume(
      {
        brokers: '127.0.0.1:9092',
        topics: [topic.topic],
        group: groupOf(topic.topic),
        format: 'json',
        timezone: 'UTC',
        batchSize: 1_000,
        stopAtEnd: false,
        concurrency: 2,
      },
      {db: pool, log: createLogger('test', 'silent'), metrics, health: new Health(60), signal: stop.signal},
    )
    await produce(
      topic.topic,
      users('p0', 10).map((u) => encode(event(u), 'json')),
      1,
    )
    for (let end = Date.now() + 30_000; (await eventsApplied(db.settings)) < 10;) {
      if (Date.now() > end) throw new Error('the first partition was not read')
      await new Promise((r) => setTimeout(r, 100))
    }
    const admin = await connectAdmin()
    await admin.createPartitions({topicPartitions: [{topic: topic.topic, count: 3}]})
    const added = Date.now()
    // Produced before the consumer notices: it must start these partitions at their first offset.
    await produce(
      topic.topic,
      users('new', 30).map((u) => encode(event(u), 'json')),
      3,
    )
    const ends = async () =>
      (await admin.fetchTopicOffsets(topic.topic))
        .map((p) => ({p: p.partition, o: Number(p.high)}))
        .sort((a, b) => a.p - b.p)
    const stored = () =>
      query(db.settings, 'SELECT kafka_partition AS p, next_offset AS o FROM mau_consumer_offset ORDER BY 1')
    for (let end = added + 60_000; JSON.stringify(await stored()) !== JSON.stringify(await ends());) {
      if (Date.now() > end)
        throw new Error(
          `partitions added to the topic were not read within a minute: ${JSON.stringify(await stored())}`,
        )
      await new Promise((r) => setTimeout(r, 250))
    }
    const seconds = (Date.now() - added) / 1000
    const marks = await admin.fetchTopicOffsets(topic.topic)
    await admin.disconnect()
    stop.abort()
    await run
    expect(seconds).toBeLessThan(60)
    // Every partition read from its first offset to its end: every message produced applied once.
    expect(marks.map((m) => Number(m.low))).toEqual([0, 0, 0])
    expect(marks.every((m) => Number(m.high) > 0)).toBe(true)
    expect(await eventsApplied(db.settings)).toBe(marks.reduce((a, m) => a + Number(m.high), 0))
    const lag = (await metrics.lag.get()).values
      .filter((v) => v.labels.topic === topic.topic)
      .map((v) => [v.labels.partition, v.value])
    expect(lag.sort()).toEqual([
      ['0', 0],
      ['1', 0],
      ['2', 0],
    ])
  })
})
