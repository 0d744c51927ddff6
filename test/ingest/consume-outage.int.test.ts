import {afterEach, beforeEach, describe, expect, it} from 'vitest'
import {writerPool} from '../../src/mau/rows.js'
import {resolveMysql} from '../../src/core/settings.js'
import {consume} from '../../src/ingest/consume.js'
import {openDb} from '../../src/core/db.js'
import {createLogger} from '../../src/core/log.js'
import {ConsumerMetrics, Health} from '../../src/ingest/metrics.js'
import {eventsApplied, produceSample, readRows} from '../fixtures/mau.js'
import {CuttableProxy} from '../helpers/proxy.js'
import {createTestDatabase, createTopic, groupOf, type TestDatabase} from '../fixtures/services.js'

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

describe('mau consume when MySQL goes away', () => {
  it('pauses, retries, and resumes by itself without losing or double-counting an event', async () => {
    topic = await createTopic(2)
    const truth = await produceSample(topic.topic, 2, {events: 40_000, users: 4_000, namespaces: 3, seed: 11})

    const viaProxy = resolveMysql(proxy.urlFor(db.url))
    const pool = openDb(viaProxy, writerPool(4))
    const metrics = new ConsumerMetrics()
    const run = consume(
      {
        brokers: '127.0.0.1:9092',
        topics: [topic.topic],
        group: groupOf(topic.topic),
        format: 'json',
        timezone: 'UTC',
        batchSize: 500,
        stopAtEnd: true,
        concurrency: 2,
      },
      {
        db: pool,
        log: createLogger('test', 'silent'),
        metrics,
        health: new Health(60),
        signal: new AbortController().signal,
      },
    )
    const applied = () => eventsApplied(db.settings)
    while ((await applied()) === 0) await new Promise((r) => setTimeout(r, 20))
    await proxy.cut()
    const duringOutage = await applied()
    await new Promise((r) => setTimeout(r, 3000))
    expect(await applied()).toBe(duringOutage) // nothing is written, nothing is lost: it waits
    await proxy.restore()
    const summary = await run
    await pool.end()

    expect(duringOutage).toBeLessThan(40_000)
    expect((await metrics.dbRetries.get()).values[0]?.value).toBeGreaterThan(0)
    expect(summary.stoppedBy).toBe('end-of-topics')
    expect(await readRows(db.settings)).toEqual(truth.rows)
  })
})
