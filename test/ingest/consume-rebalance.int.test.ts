/**
 * A partition revoked while its chunks wait in the pipeline: consumer A has fetched and queued more than
 * it can write (its MySQL is cut), consumer B joins and takes half the partitions. A's queued chunks of
 * those partitions are abandoned, never written by A; B applies them from MySQL's offsets; when A's MySQL
 * comes back it writes only what it still holds. The end is exactly the ground truth.
 */
import {afterEach, beforeEach, describe, expect, it} from 'vitest'
import {openDb} from '../../src/core/db.js'
import {createLogger} from '../../src/core/log.js'
import {resolveMysql} from '../../src/core/settings.js'
import {consume, type ConsumeOptions} from '../../src/ingest/consume.js'
import {ConsumerMetrics, Health} from '../../src/ingest/metrics.js'
import {writerPool} from '../../src/mau/rows.js'
import {checkSummary} from '../../src/mau/summary.js'
import {eventsApplied, produceSample, readRows, thisMonthSoFar} from '../fixtures/mau.js'
import {createTestDatabase, createTopic, groupOf, type TestDatabase} from '../fixtures/services.js'
import {CuttableProxy} from '../helpers/proxy.js'

let db: TestDatabase
let topic: {topic: string; drop: () => Promise<void>}
let proxy: CuttableProxy

beforeEach(async () => {
  db = await createTestDatabase({migrated: true})
  proxy = new CuttableProxy({host: db.settings.host, port: db.settings.port})
  await proxy.start()
})
afterEach(async () => {
  await proxy.stop()
  await topic.drop()
  await db.drop()
})

const applied = () => eventsApplied(db.settings)
const until = async (what: () => Promise<boolean> | boolean, ms = 60_000) => {
  for (const end = Date.now() + ms; !(await what());) {
    if (Date.now() > end) throw new Error('timed out waiting')
    await new Promise((r) => setTimeout(r, 50))
  }
}

describe('mau consume when a partition is revoked while its chunks wait in the pipeline', () => {
  it('abandons them, lets the new owner apply them once, and ends exactly at the ground truth', async () => {
    topic = await createTopic(4)
    const options: ConsumeOptions = {
      brokers: '127.0.0.1:9092',
      topics: [topic.topic],
      group: groupOf(topic.topic),
      format: 'json',
      timezone: 'UTC',
      batchSize: 40_000,
      stopAtEnd: false,
      concurrency: 2,
      sessionTimeoutMs: 10_000,
    }
    const deps = (pool: ReturnType<typeof openDb>, metrics: ConsumerMetrics, health: Health, signal: AbortSignal) => ({
      db: pool,
      log: createLogger('test', process.env.DEBUG_REBALANCE ? 'info' : 'silent', false),
      metrics,
      health,
      signal,
    })

    // A joins alone, then loses MySQL (a proxy cut): the events produced now pile up in its pipeline.
    const poolA = openDb(resolveMysql(proxy.urlFor(db.url)), writerPool(3))
    const metricsA = new ConsumerMetrics()
    const healthA = new Health(60)
    const stopA = new AbortController()
    const runA = consume(options, deps(poolA, metricsA, healthA, stopA.signal))
    await until(() => healthA.joined)
    await proxy.cut()
    const truth = await produceSample(topic.topic, 4, {
      events: 40_000,
      users: 3_000,
      namespaces: 3,
      seed: 21,
      ...thisMonthSoFar(),
    })
    // Everything fetched is in A's pipeline, queued or in windows waiting to be written.
    await until(async () => (await metricsA.queued.get()).values[0]!.value > 0)
    const beforeB = await applied()

    // B joins the group: the partitions are shared out again while A's chunks wait.
    const poolB = openDb(db.settings, writerPool(3))
    const stopB = new AbortController()
    const healthB = new Health(60)
    const runB = consume(options, deps(poolB, new ConsumerMetrics(), healthB, stopB.signal))
    await until(() => healthB.joined)

    await proxy.restore()
    await until(async () => (await applied()) === truth.events)
    stopA.abort()
    stopB.abort()
    const [a, b] = await Promise.all([runA, runB])
    await Promise.all([poolA.end(), poolB.end()])

    expect(beforeB).toBe(0)
    expect((await metricsA.abandoned.get()).values[0]!.value).toBeGreaterThan(0)
    // Every event applied once, by one member: A's abandoned chunks were applied by B, never by both.
    expect(a.consumed + b.consumed).toBe(truth.events)
    expect(await readRows(db.settings)).toEqual(truth.rows)
    // The users counters too: each member's known users were forgotten when the other wrote its partitions.
    const check = openDb(db.settings)
    for (const month of new Set([...truth.rows.keys()].map((k) => k.split('|')[1]!)))
      expect(await checkSummary(check, month)).toMatchObject({ok: true})
    await check.end()
  })
})
