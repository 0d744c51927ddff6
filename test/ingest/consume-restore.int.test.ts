/**
 * A backup restored under a running consumer, as a managed MySQL restores one: the instance is unavailable
 * while its data is replaced (here: the proxy refuses connections while a mariadb-dump taken earlier is
 * loaded), then it answers with the backup's data. Restoring must cost nothing but catching up from Kafka:
 * the consumer, never restarted, reads again what the backup lacks and ends exactly at the ground truth.
 */
import {execFileSync} from 'node:child_process'
import {afterEach, beforeEach, describe, expect, it} from 'vitest'
import {openDb} from '../../src/core/db.js'
import {createLogger} from '../../src/core/log.js'
import {resolveMysql} from '../../src/core/settings.js'
import {consume} from '../../src/ingest/consume.js'
import {ConsumerMetrics, Health} from '../../src/ingest/metrics.js'
import {checkSummary} from '../../src/mau/summary.js'
import {writerPool} from '../../src/mau/rows.js'
import {encode} from '../fixtures/events.js'
import {eventsApplied, generate, produce, readRows, thisMonthSoFar} from '../fixtures/mau.js'
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

const until = async (what: () => Promise<boolean>, ms = 90_000) => {
  for (const end = Date.now() + ms; !(await what());) {
    if (Date.now() > end) throw new Error('timed out waiting')
    await new Promise((r) => setTimeout(r, 100))
  }
}
const connection = (s: TestDatabase['settings']) => [
  '--no-defaults',
  '--protocol=tcp',
  `-h${s.host}`,
  `-P${s.port}`,
  `-u${s.user}`,
]
const dump = (s: TestDatabase['settings']) =>
  execFileSync('mariadb-dump', [...connection(s), '--single-transaction', s.database], {maxBuffer: 512 * 1024 * 1024})
const load = (s: TestDatabase['settings'], sql: Buffer) =>
  execFileSync('mariadb', [...connection(s), s.database], {input: sql, maxBuffer: 64 * 1024 * 1024})

describe('mau consume when a backup is restored under it', () => {
  it.each([
    ['taken mid-run', 30_000],
    ['taken before anything was consumed (no offsets at all)', 0],
  ])('reads again what a backup %s lacks and ends exactly at the ground truth', async (_, backupAt) => {
    topic = await createTopic(3)
    const {events, truth} = generate({events: 80_000, users: 5_000, namespaces: 4, seed: 29, ...thisMonthSoFar()})
    const values = events.map((e) => encode(e, 'json'))
    const beforeRestore = 60_000
    const pool = openDb(resolveMysql(proxy.urlFor(db.url)), writerPool(4))
    const metrics = new ConsumerMetrics()
    const stop = new AbortController()
    const run = consume(
      {
        brokers: '127.0.0.1:9092',
        topics: [topic.topic],
        group: groupOf(topic.topic),
        format: 'json',
        timezone: 'UTC',
        batchSize: 2_000,
        stopAtEnd: false,
        concurrency: 2,
      },
      {db: pool, log: createLogger('test', 'silent'), metrics, health: new Health(60), signal: stop.signal},
    )

    let backup = dump(db.settings)
    if (backupAt > 0) {
      await produce(topic.topic, values.slice(0, backupAt), 3)
      await until(async () => (await eventsApplied(db.settings)) === backupAt)
      backup = dump(db.settings)
    }
    await produce(topic.topic, values.slice(backupAt, beforeRestore), 3)
    await until(async () => (await eventsApplied(db.settings)) === beforeRestore)

    await proxy.cut()
    load(db.settings, backup)
    expect(await eventsApplied(db.settings)).toBe(backupAt)
    await proxy.restore()

    await produce(topic.topic, values.slice(beforeRestore), 3)
    await until(async () => (await eventsApplied(db.settings)) >= values.length)
    await new Promise((r) => setTimeout(r, 1_500))
    stop.abort()
    const summary = await run
    await pool.end()

    expect(await eventsApplied(db.settings)).toBe(values.length)
    expect(await readRows(db.settings)).toEqual(truth.rows)
    const check = openDb(db.settings)
    for (const month of new Set([...truth.rows.keys()].map((k) => k.split('|')[1]!)))
      expect(await checkSummary(check, month)).toMatchObject({ok: true})
    await check.end()
    expect(summary.rewinds).toBeGreaterThanOrEqual(3)
    expect((await metrics.rewinds.get()).values.reduce((x, v) => x + v.value, 0)).toBe(summary.rewinds)
  })
})
