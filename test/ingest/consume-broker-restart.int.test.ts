import {execFileSync} from 'node:child_process'
import {Kafka, logLevel} from 'kafkajs'
import {afterAll, beforeAll, describe, expect, it} from 'vitest'
import {writerPool} from '../../src/mau/rows.js'
import {encode} from '../fixtures/events.js'
import {consume} from '../../src/ingest/consume.js'
import {openDb} from '../../src/core/db.js'
import {createLogger} from '../../src/core/log.js'
import {ConsumerMetrics, Health} from '../../src/ingest/metrics.js'
import {eventsApplied, generate, readRows} from '../fixtures/mau.js'
import {createTestDatabase, groupOf, uniqueName, type TestDatabase} from '../fixtures/services.js'

// A broker of this test's own (same script, another port), so that restarting it disturbs no other test.
const PORT = 19_192
const BROKERS = `127.0.0.1:${PORT}`
const broker = (action: 'start' | 'stop') =>
  execFileSync('bash', ['scripts/kafka.sh', action], {
    env: {...process.env, MAU_KAFKA_PORT: String(PORT)},
    stdio: 'ignore',
    timeout: 120_000,
  })

let db: TestDatabase
beforeAll(async () => {
  broker('start')
  db = await createTestDatabase({migrated: true})
})
afterAll(async () => {
  broker('stop')
  await db.drop()
})

describe('mau consume across a Kafka broker restart', () => {
  it('reconnects by itself and ends with exactly the ground truth', async () => {
    const topic = uniqueName('mau-restart').replace(/_/g, '-')
    const client = new Kafka({brokers: [BROKERS], logLevel: logLevel.NOTHING})
    const admin = client.admin()
    await admin.connect()
    await admin.createTopics({topics: [{topic, numPartitions: 2}], waitForLeaders: true})
    await admin.disconnect()
    const {events, truth} = generate({events: 30_000, users: 3_000, namespaces: 3, seed: 5})
    const producer = client.producer()
    await producer.connect()
    for (let i = 0; i < events.length; i += 5000) {
      await producer.send({
        topic,
        acks: -1,
        messages: events.slice(i, i + 5000).map((e, j) => ({value: encode(e, 'json'), partition: (i + j) % 2})),
      })
    }
    await producer.disconnect()

    const pool = openDb(db.settings, writerPool(4))
    const run = consume(
      {
        brokers: BROKERS,
        topics: [topic],
        group: groupOf(topic),
        format: 'json',
        timezone: 'UTC',
        batchSize: 200,
        stopAtEnd: true,
        concurrency: 1,
      },
      {
        db: pool,
        log: createLogger('test', 'silent'),
        metrics: new ConsumerMetrics(),
        health: new Health(60),
        signal: new AbortController().signal,
      },
    )
    const applied = () => eventsApplied(db.settings)
    while ((await applied()) === 0) await new Promise((r) => setTimeout(r, 20))
    broker('stop')
    const whileDown = await applied()
    broker('start')
    const summary = await run
    await pool.end()

    expect(whileDown).toBeLessThan(30_000)
    expect(summary.stoppedBy).toBe('end-of-topics')
    expect(await readRows(db.settings)).toEqual(truth.rows)
  })
})
