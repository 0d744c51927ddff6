/**
 * mau consume --source redis against a real redis-server: entries written as the platform writes them,
 * exact against the ground truth; entries added while it runs; a stream trimmed before it was read (a
 * loss, recorded); a recreated stream (refused); the platform's consumer groups untouched.
 */
import type {RowDataPacket} from 'mysql2/promise'
import {afterEach, beforeEach, describe, expect, it} from 'vitest'
import {openDb, type Db} from '../../../src/core/db.js'
import {createLogger} from '../../../src/core/log.js'
import {resolveRedis} from '../../../src/core/redis.js'
import {ConsumerMetrics, Health} from '../../../src/ingest/metrics.js'
import {consumeRedis, type RedisConsumeOptions} from '../../../src/ingest/redis/run.js'
import {writerPool} from '../../../src/mau/rows.js'
import {checkSummary} from '../../../src/mau/summary.js'
import {DECEMBER_2022, eventsApplied, query} from '../../fixtures/mau.js'
import {METRICS_EVENT, platformStream} from '../../fixtures/platform.js'
import {publish} from '../../fixtures/redis-streams.js'
import {createTestDatabase, type TestDatabase} from '../../fixtures/services.js'
import {CuttableProxy} from '../../helpers/proxy.js'
import {type RedisServer, startRedis} from '../../helpers/redis-server.js'

let db: TestDatabase
let pool: Db
let redis: RedisServer

beforeEach(async () => {
  db = await createTestDatabase({migrated: true})
  pool = openDb(db.settings, writerPool(5))
  redis = await startRedis()
})
afterEach(async () => {
  await redis.stop()
  await pool.end()
  await db.drop()
})

const TWO_MONTHS = {from: DECEMBER_2022.from, to: DECEMBER_2022.to + 31 * 86_400}
const rows = async () => {
  const r = await query<RowDataPacket>(
    db.settings,
    'SELECT environment_namespace, yearmonth, source_id, user_id, event_count FROM mau',
  )
  return new Map(
    r.map((x) => [[x.environment_namespace, x.yearmonth, x.source_id, x.user_id].join('|'), Number(x.event_count)]),
  )
}
const sum = (...truths: Map<string, number>[]) => {
  const out = new Map<string, number>()
  for (const t of truths) for (const [k, n] of t) out.set(k, (out.get(k) ?? 0) + n)
  return out
}
const options = (o: Partial<RedisConsumeOptions> = {}): RedisConsumeOptions => ({
  redis: resolveRedis({'redis-url': redis.url}, {}),
  topics: ['evaluation', 'goal'],
  partitions: 16,
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

describe('mau consume --source redis', () => {
  it("counts the platform's entries of two topics over 16 streams each exactly, without touching its consumer groups", async () => {
    const c = redis.client()
    const evaluation = platformStream({events: 8_000, seed: 5, format: 'protobuf', ...TWO_MONTHS})
    const goal = platformStream({events: 3_000, seed: 6, format: 'protobuf', ...TWO_MONTHS})
    const perStream = await publish(c, 'evaluation', evaluation.messages)
    await publish(c, 'goal', goal.messages)
    expect(perStream.size).toBe(16)
    // The platform's own reader: a group whose position and pending entries mau must leave as they are.
    await c.xgroup('CREATE', 'evaluation-0{stream}', 'platform', '0')
    await c.xreadgroup('GROUP', 'platform', 'p1', 'COUNT', 3, 'STREAMS', 'evaluation-0{stream}', '>')
    const groupsBefore = await c.xinfo('GROUPS', 'evaluation-0{stream}')

    const metrics = new ConsumerMetrics()
    const summary = await run({}, undefined, metrics)
    expect(await rows()).toEqual(sum(evaluation.truth, goal.truth))
    expect(summary).toMatchObject({
      stoppedBy: 'end-of-topics',
      consumed: 11_000,
      deadLettered: evaluation.broken + goal.broken,
      ignored: {[METRICS_EVENT]: evaluation.ignored[METRICS_EVENT]! + goal.ignored[METRICS_EVENT]!},
    })
    expect(await c.xinfo('GROUPS', 'evaluation-0{stream}')).toEqual(groupsBefore)
    for (const month of ['202212', '202301']) expect(await checkSummary(pool, month)).toMatchObject({ok: true})
    // Each stream's position: its entry count and its last entry's id, stored with the rows.
    const stored = await query<RowDataPacket>(
      db.settings,
      "SELECT next_offset, stream_entry_id FROM mau_consumer_offset WHERE consumer_group = 'mau-redis' AND topic = 'evaluation-0{stream}'",
    )
    const last = (await c.xrevrange('evaluation-0{stream}', '+', '-', 'COUNT', 1))[0]![0]
    expect(stored[0]).toMatchObject({next_offset: perStream.get('evaluation-0{stream}'), stream_entry_id: last})
    // Dead letters name their stream and entry.
    const [letter] = await query<RowDataPacket>(
      db.settings,
      'SELECT topic, kafka_offset, stream_entry_id FROM mau_dead_letter ORDER BY id LIMIT 1',
    )
    const entries = await c.xrange(letter!.topic, letter!.stream_entry_id, letter!.stream_entry_id)
    expect(entries).toHaveLength(1)
    // Lag in entries, per stream, 0 at the end.
    const lag = (await metrics.lag.get()).values
    expect(lag.length).toBeGreaterThan(0)
    expect(lag.every((v) => v.value === 0)).toBe(true)
    c.disconnect()

    // Run again: nothing new, nothing counted twice.
    const again = await run()
    expect(again.consumed).toBe(0)
    expect(await rows()).toEqual(sum(evaluation.truth, goal.truth))
  })

  it('applies entries added while it runs, exactly', async () => {
    const c = redis.client()
    const first = platformStream({events: 2_000, seed: 8, format: 'protobuf', ...TWO_MONTHS})
    const later = platformStream({events: 3_000, seed: 9, format: 'protobuf', ...TWO_MONTHS})
    await publish(c, 'evaluation', first.messages)
    const stop = new AbortController()
    const running = run({stopAtEnd: false}, stop.signal)
    const counted = (s: typeof first) => [...s.truth.values()].reduce((a, b) => a + b, 0)
    const until = async (n: number) => {
      for (const end = Date.now() + 60_000; (await eventsApplied(db.settings)) < n;) {
        if (Date.now() > end) throw new Error(`timed out at ${await eventsApplied(db.settings)} of ${n}`)
        await new Promise((r) => setTimeout(r, 100))
      }
    }
    await until(counted(first))
    await publish(c, 'evaluation', later.messages, 16, 'later')
    await until(counted(first) + counted(later))
    stop.abort()
    const summary = await running
    expect(summary.stoppedBy).toBe('signal')
    expect(await rows()).toEqual(sum(first.truth, later.truth))
    c.disconnect()
  })

  it('rides out Redis unreachable for 3 s while entries arrive, and ends exact', async () => {
    const proxy = new CuttableProxy({host: '127.0.0.1', port: redis.port})
    await proxy.start()
    try {
      const c = redis.client()
      const parts = [21, 22, 23].map((seed) => platformStream({events: 3_000, seed, format: 'protobuf', ...TWO_MONTHS}))
      await publish(c, 'evaluation', parts[0]!.messages, 16, 'p0')
      const stop = new AbortController()
      const running = run(
        {stopAtEnd: false, redis: resolveRedis({'redis-url': `redis://127.0.0.1:${proxy.port}`}, {})},
        stop.signal,
      )
      const applied = (n: number) => async () => {
        for (const end = Date.now() + 60_000; (await eventsApplied(db.settings)) < n;) {
          if (Date.now() > end) throw new Error(`timed out at ${await eventsApplied(db.settings)} of ${n}`)
          await new Promise((r) => setTimeout(r, 100))
        }
      }
      const counted = (...ps: typeof parts) =>
        ps.reduce((a, p) => a + [...p.truth.values()].reduce((x, y) => x + y, 0), 0)
      await applied(counted(parts[0]!))()
      await proxy.cut()
      await publish(c, 'evaluation', parts[1]!.messages, 16, 'p1')
      await new Promise((r) => setTimeout(r, 3_000))
      await proxy.restore()
      await publish(c, 'evaluation', parts[2]!.messages, 16, 'p2')
      await applied(counted(...parts))()
      await new Promise((r) => setTimeout(r, 500))
      stop.abort()
      await running
      expect(await rows()).toEqual(sum(...parts.map((p) => p.truth)))
      c.disconnect()
    } finally {
      await proxy.stop()
    }
  })

  it('stops within seconds of its signal while Redis has gone silent (no answer, no socket closed)', async () => {
    const proxy = new CuttableProxy({host: '127.0.0.1', port: redis.port})
    await proxy.start()
    try {
      const c = redis.client()
      await publish(c, 'goal', platformStream({events: 500, seed: 24, format: 'protobuf', ...TWO_MONTHS}).messages, 2)
      c.disconnect()
      const stop = new AbortController()
      const running = run(
        {
          stopAtEnd: false,
          topics: ['goal'],
          partitions: 2,
          redis: resolveRedis({'redis-url': `redis://127.0.0.1:${proxy.port}`}, {}),
        },
        stop.signal,
      )
      for (const end = Date.now() + 30_000; (await eventsApplied(db.settings)) === 0 && Date.now() < end;)
        await new Promise((r) => setTimeout(r, 100))
      proxy.freeze()
      await new Promise((r) => setTimeout(r, 500))
      const stopping = Date.now()
      stop.abort()
      expect((await running).stoppedBy).toBe('signal')
      // The blocked XREAD fails at its command timeout (BLOCK + 5 s), well within Kubernetes' 30 s.
      expect(Date.now() - stopping).toBeLessThan(10_000)
    } finally {
      await proxy.stop()
    }
  })

  it('records entries trimmed before they were applied as a loss, and counts what is left exactly', async () => {
    const c = redis.client()
    const a = platformStream({events: 100, seed: 1, format: 'protobuf', ...TWO_MONTHS})
    await publish(c, 'goal', a.messages, 1)
    await run({topics: ['goal'], partitions: 1})
    const b = platformStream({events: 50, seed: 2, format: 'protobuf', ...TWO_MONTHS})
    await publish(c, 'goal', b.messages, 1, 'b')
    // The platform's MAXLEN, or an operator: only the last 10 entries are left; 40 were never applied.
    await c.xtrim('goal-0{stream}', 'MAXLEN', 10)
    const summary = await run({topics: ['goal'], partitions: 1})
    expect(summary.lost).toEqual([{topic: 'goal-0{stream}', partition: 0, from: 100, to: 139, messages: 40}])
    const losses = await query<RowDataPacket>(
      db.settings,
      'SELECT topic, from_offset, to_offset, messages FROM mau_offset_loss',
    )
    expect(losses).toEqual([{topic: 'goal-0{stream}', from_offset: 100, to_offset: 139, messages: 40}])
    // The 10 left are applied, each once: events, or dead letters, or ignored metrics events.
    expect(summary.consumed).toBe(10)
    const notCounted = summary.deadLettered + Object.values(summary.ignored).reduce((x, y) => x + y, 0)
    expect(await eventsApplied(db.settings)).toBe([...a.truth.values()].reduce((x, y) => x + y, 0) + 10 - notCounted)
    c.disconnect()
  })

  it('starts streams never read at --since: the first entry added at or after it', async () => {
    const c = redis.client()
    const before = platformStream({events: 500, seed: 13, format: 'protobuf', ...TWO_MONTHS})
    const after = platformStream({events: 700, seed: 14, format: 'protobuf', ...TWO_MONTHS})
    await publish(c, 'goal', before.messages, 2)
    await new Promise((r) => setTimeout(r, 20))
    const since = Date.now()
    await new Promise((r) => setTimeout(r, 5))
    await publish(c, 'goal', after.messages, 2, 'after')
    const summary = await run({topics: ['goal'], partitions: 2, fromTime: since})
    expect(summary.consumed).toBe(700)
    expect(await rows()).toEqual(after.truth)
    // Counted from each stream's beginning, so that its lag and losses stay exact.
    const stored = await query<RowDataPacket>(
      db.settings,
      "SELECT CAST(SUM(next_offset) AS SIGNED) AS n FROM mau_consumer_offset WHERE consumer_group = 'mau-redis'",
    )
    expect(Number(stored[0]!.n)).toBe(1_200)
    c.disconnect()
  })

  it('refuses a stream deleted and recreated (exit 2), writing nothing', async () => {
    const c = redis.client()
    await publish(c, 'goal', platformStream({events: 50, seed: 3, format: 'protobuf', ...TWO_MONTHS}).messages, 1)
    await run({topics: ['goal'], partitions: 1})
    const before = await eventsApplied(db.settings)
    await c.del('goal-0{stream}')
    await publish(c, 'goal', platformStream({events: 5, seed: 4, format: 'protobuf', ...TWO_MONTHS}).messages, 1, 'new')
    await expect(run({topics: ['goal'], partitions: 1})).rejects.toMatchObject({
      code: 'REDIS_BEHIND_MYSQL',
      exitCode: 2,
    })
    expect(await eventsApplied(db.settings)).toBe(before)
    c.disconnect()
  })
})
