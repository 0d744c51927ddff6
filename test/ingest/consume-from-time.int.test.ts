import {afterEach, beforeEach, describe, expect, it} from 'vitest'
import {writerPool} from '../../src/mau/rows.js'
import {encode, type SampleEvent} from '../fixtures/events.js'
import {openDb} from '../../src/core/db.js'
import type {Db} from '../../src/core/db.js'
import {consumeAll, query} from '../fixtures/mau.js'
import {createTestDatabase, createTopic, kafka, type TestDatabase} from '../fixtures/services.js'

let db: TestDatabase
let pool: Db
let topic: {topic: string; drop: () => Promise<void>}

beforeEach(async () => {
  db = await createTestDatabase({migrated: true})
  pool = openDb(db.settings, writerPool(4))
  topic = await createTopic(2)
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

/** Messages stamped with the given Kafka timestamp (ms), spread over both partitions. */
async function produceAt(timestamp: number, users: string[]): Promise<void> {
  const producer = kafka('mau-test-producer').producer()
  await producer.connect()
  await producer.send({
    topic: topic.topic,
    acks: -1,
    messages: users.map((u, i) => ({value: encode(event(u), 'json'), partition: i % 2, timestamp: String(timestamp)})),
  })
  await producer.disconnect()
}
const events = async () =>
  Number((await query(db.settings, 'SELECT COALESCE(SUM(event_count), 0) AS n FROM mau'))[0]!.n)

describe('mau consume --from-time', () => {
  it('starts a new group at the first message at or after the instant, and resumes from MySQL after that', async () => {
    const monthStart = Date.UTC(2022, 11, 1)
    await produceAt(monthStart - 60_000, ['old-1', 'old-2', 'old-3', 'old-4'])
    await produceAt(monthStart, ['new-1', 'new-2', 'new-3', 'new-4', 'new-5', 'new-6'])
    const first = await consumeAll(pool, topic.topic, {fromTime: monthStart})
    expect(first).toMatchObject({consumed: 6, startedFromTime: [{topic: topic.topic, partitions: [0, 1]}]})
    expect(await events()).toBe(6)
    // The Deployment restarts with the same setting: stored offsets win, nothing is counted twice.
    await produceAt(monthStart + 60_000, ['later-1', 'later-2'])
    const second = await consumeAll(pool, topic.topic, {fromTime: monthStart})
    expect(second).toMatchObject({consumed: 2, startedFromTime: [{topic: topic.topic, partitions: []}]})
    expect(await events()).toBe(8)
    const users = await query(db.settings, "SELECT user_id FROM mau WHERE user_id LIKE 'old-%'")
    expect(users).toEqual([])
  })

  it('starts at the end when nothing is that recent', async () => {
    await produceAt(Date.UTC(2022, 10, 1), ['old-1', 'old-2'])
    const r = await consumeAll(pool, topic.topic, {fromTime: Date.UTC(2022, 11, 1)})
    expect(r.consumed).toBe(0)
    expect(r.partitions.map((p) => p.nextOffset).sort()).toEqual([1, 1])
  })
})
