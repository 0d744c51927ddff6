/**
 * mau consume --source redis against a real redis-server whose streams are trimmed while it reads them, and
 * --stop-at-end on streams whose last entries are gone. Every entry is its own user, so the rows say which
 * entries were applied: exactly those outside the recorded losses, each once.
 */
import type {RowDataPacket} from 'mysql2/promise'
import {afterEach, beforeEach, describe, expect, it} from 'vitest'
import {openDb, type Db} from '../../../src/core/db.js'
import {createLogger} from '../../../src/core/log.js'
import {ACTIVITY_KINDS, sourceNames} from '../../../src/core/platform.js'
import {resolveRedis} from '../../../src/core/redis.js'
import {encodeActivity} from '../../../src/ingest/encode.js'
import {ConsumerMetrics, Health} from '../../../src/ingest/metrics.js'
import {consumeRedis, type RedisConsumeOptions} from '../../../src/ingest/redis/run.js'
import {streamKey} from '../../../src/ingest/redis/streams.js'
import {writerPool} from '../../../src/mau/rows.js'
import {DECEMBER_2022, eventsApplied, query} from '../../fixtures/mau.js'
import {createTestDatabase, type TestDatabase} from '../../fixtures/services.js'
import {type RedisServer, startRedis} from '../../helpers/redis-server.js'

let db: TestDatabase
let pool: Db
let redis: RedisServer

beforeEach(async () => {
  db = await createTestDatabase({migrated: true})
  pool = openDb(db.settings, writerPool(8))
  redis = await startRedis()
})
afterEach(async () => {
  await redis.stop()
  await pool.end()
  await db.drop()
})

const [sourceId] = [...sourceNames().keys()]
const options = (o: Partial<RedisConsumeOptions> = {}): RedisConsumeOptions => ({
  redis: resolveRedis({'redis-url': redis.url}, {}),
  topics: ['goal'],
  partitions: 1,
  group: 'mau-redis',
  format: 'protobuf',
  timezone: 'UTC',
  batchSize: 2_000,
  stopAtEnd: true,
  concurrency: 2,
  rebalanceMs: 200,
  ...o,
})
const run = (
  o: Partial<RedisConsumeOptions> = {},
  signal = new AbortController().signal,
  metrics = new ConsumerMetrics(),
) =>
  consumeRedis(options(o), {
    db: pool,
    log: createLogger('test', process.env.DEBUG_REDIS ? 'info' : 'silent', false),
    metrics,
    health: new Health(60),
    signal,
  })
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms))
const until = async (what: () => Promise<boolean>, ms = 60_000) => {
  for (const end = Date.now() + ms; !(await what());) {
    if (Date.now() > end) throw new Error(`timed out waiting (applied ${await eventsApplied(db.settings)})`)
    await sleep(50)
  }
}
/** A run that must end by itself; one that would wait forever fails the test instead of hanging it. */
const endsWithin = async <T>(ms: number, running: (signal: AbortSignal) => Promise<T>): Promise<T> => {
  const stop = new AbortController()
  let timer: NodeJS.Timeout | undefined
  try {
    return await Promise.race([
      running(stop.signal),
      new Promise<never>((_, fail) => {
        timer = setTimeout(() => fail(new Error(`did not end within ${ms} ms`)), ms)
      }),
    ])
  } finally {
    clearTimeout(timer)
    stop.abort()
  }
}

/** `perStream` entries in each of the topic's streams, each a user event of its own user; returns each stream's users in order. */
async function publishUsers(topic: string, streams: number, perStream: number): Promise<Map<string, string[]>> {
  const c = redis.client()
  const users = new Map<string, string[]>()
  for (let p = 0; p < streams; p++) {
    const key = streamKey(topic, p)
    const list = Array.from({length: perStream}, (_, i) => `u-${p}-${i}`)
    users.set(key, list)
    for (let i = 0; i < list.length; i += 1_000) {
      const pipe = c.pipeline()
      for (const user of list.slice(i, i + 1_000)) {
        const event = encodeActivity({
          kind: ACTIVITY_KINDS[0],
          environmentId: 'env-1',
          userId: user,
          sourceId: sourceId!,
          time: DECEMBER_2022.from + 3_600,
        })
        pipe.xadd(key, '*', `m-${user}`, event)
      }
      await pipe.exec()
    }
  }
  c.disconnect()
  return users
}

/** The users applied (each must be once) and the losses recorded, against each stream's users in order. */
async function expectExact(users: Map<string, string[]>): Promise<number> {
  const rows = await query<RowDataPacket>(db.settings, 'SELECT user_id, event_count FROM mau')
  const counted = new Map(rows.map((r) => [String(r.user_id), Number(r.event_count)]))
  expect([...counted.values()].filter((n) => n !== 1)).toEqual([])
  const losses = await query<RowDataPacket>(
    db.settings,
    "SELECT topic, from_offset, to_offset, messages FROM mau_offset_loss WHERE consumer_group = 'mau-redis'",
  )
  const wanted = new Set<string>()
  for (const [key, list] of users) {
    const lost = losses.filter((l) => l.topic === key)
    list.forEach((user, i) => {
      if (!lost.some((l) => i >= Number(l.from_offset) && i <= Number(l.to_offset))) wanted.add(user)
    })
  }
  const all = [...users.values()].reduce((n, l) => n + l.length, 0)
  const lostMessages = losses.reduce((n, l) => n + Number(l.messages), 0)
  expect(counted.size + lostMessages).toBe(all)
  expect(new Set(counted.keys())).toEqual(wanted)
  return lostMessages
}

describe('mau consume --source redis, streams trimmed while it reads', () => {
  it('records the entries trimmed past its read position as a loss and applies the rest exactly once', async () => {
    const users = await publishUsers('goal', 2, 30_000)
    const c = redis.client()
    const running = run({partitions: 2, batchSize: 100, concurrency: 1})
    await until(async () => (await eventsApplied(db.settings)) >= 1_000)
    // Far ahead of where it reads: the platform's MAXLEN, or an operator.
    for (const key of users.keys()) await c.xtrim(key, 'MAXLEN', 15_000)
    const summary = await running
    c.disconnect()
    expect(summary.stoppedBy).toBe('end-of-topics')
    const lost = await expectExact(users)
    expect(lost).toBeGreaterThan(0)
    expect(summary.lost.reduce((n, l) => n + l.messages, 0)).toBe(lost)
  })

  it('two replicas, one taking over from the other, while the streams are trimmed: each entry applied or lost, once', async () => {
    const users = await publishUsers('goal', 4, 15_000)
    const c = redis.client()
    const stopA = new AbortController()
    const metricsA = new ConsumerMetrics()
    const a = run({partitions: 4, batchSize: 100, concurrency: 1, stopAtEnd: false}, stopA.signal, metricsA)
    await until(async () => (await eventsApplied(db.settings)) >= 500)
    const b = run({partitions: 4, batchSize: 100, concurrency: 1})
    await until(async () => (await eventsApplied(db.settings)) >= 2_000)
    for (const key of users.keys()) await c.xtrim(key, 'MAXLEN', 8_000)
    await sleep(300)
    // A reports the lag of the 2 streams it kept, not of those B took (B reports theirs).
    const lagA = async () => (await metricsA.lag.get()).values.length
    await until(async () => (await lagA()) <= 2, 5_000)
    expect(await lagA()).toBeGreaterThan(0)
    // A stops: B takes its streams from where MySQL has them.
    stopA.abort()
    expect((await a).stoppedBy).toBe('signal')
    const summary = await b
    c.disconnect()
    expect(summary.stoppedBy).toBe('end-of-topics')
    expect(await expectExact(users)).toBeGreaterThan(0)
  })
})

describe('mau consume --source redis --stop-at-end, the last entries gone', () => {
  it('ends when the stream is emptied (XTRIM MAXLEN 0) while it reads, what it had not read recorded lost', async () => {
    const users = await publishUsers('goal', 1, 30_000)
    const c = redis.client()
    const running = endsWithin(60_000, (signal) => run({batchSize: 100, concurrency: 1}, signal))
    await until(async () => (await eventsApplied(db.settings)) >= 1_000)
    await c.xtrim(streamKey('goal', 0), 'MAXLEN', 0)
    const summary = await running
    c.disconnect()
    expect(summary.stoppedBy).toBe('end-of-topics')
    expect(await expectExact(users)).toBeGreaterThan(0)
  })

  it('returns at once on a stream emptied by XTRIM MAXLEN 0', async () => {
    await publishUsers('goal', 1, 100)
    const c = redis.client()
    await c.xtrim(streamKey('goal', 0), 'MAXLEN', 0)
    c.disconnect()
    const summary = await endsWithin(15_000, (signal) => run({}, signal))
    expect(summary).toMatchObject({stoppedBy: 'end-of-topics', consumed: 0})
  })

  it("returns once it has read the last entry left when the stream's last entries were deleted (XDEL)", async () => {
    const users = await publishUsers('goal', 1, 100)
    const c = redis.client()
    const ids = (await c.xrange(streamKey('goal', 0), '-', '+')).map(([id]) => id)
    await c.xdel(streamKey('goal', 0), ...ids.slice(90))
    c.disconnect()
    const summary = await endsWithin(15_000, (signal) => run({}, signal))
    expect(summary).toMatchObject({stoppedBy: 'end-of-topics', consumed: 90})
    const rows = await query<RowDataPacket>(db.settings, 'SELECT user_id FROM mau')
    expect(new Set(rows.map((r) => String(r.user_id)))).toEqual(new Set(users.get(streamKey('goal', 0))!.slice(0, 90)))
  })
})
