/**
 * MySQL goes back in time under a running consumer: a primary dies and an asynchronous replica that had
 * stopped tens of thousands of messages earlier is promoted behind the same address (a TCP proxy standing in
 * for the Service). The consumer is never restarted: it must find MySQL behind its windows, read those
 * partitions again from MySQL's offsets, and end exactly at the ground truth, one replica of it or two.
 */
import {afterEach, describe, expect, it} from 'vitest'
import {openDb} from '../../src/core/db.js'
import {createLogger} from '../../src/core/log.js'
import {resolveMysql} from '../../src/core/settings.js'
import {consume, type ConsumeOptions} from '../../src/ingest/consume.js'
import {ConsumerMetrics, Health} from '../../src/ingest/metrics.js'
import {checkSummary} from '../../src/mau/summary.js'
import {writerPool} from '../../src/mau/rows.js'
import {encode} from '../fixtures/events.js'
import {eventsApplied, generate, produce, readRows, thisMonthSoFar} from '../fixtures/mau.js'
import {createTopic, groupOf, schemaAt} from '../fixtures/services.js'
import {ReplicatedPair} from '../helpers/mariadb-pair.js'
import {CuttableProxy} from '../helpers/proxy.js'

let pair: ReplicatedPair | undefined
let proxy: CuttableProxy | undefined
let topic: {topic: string; drop: () => Promise<void>} | undefined

afterEach(async () => {
  await proxy?.stop()
  pair?.stop()
  await topic?.drop()
})

const until = async (what: () => Promise<boolean>, ms = 90_000) => {
  for (const end = Date.now() + ms; !(await what());) {
    if (Date.now() > end) throw new Error('timed out waiting')
    await new Promise((r) => setTimeout(r, 100))
  }
}

describe('mau consume through a MySQL failover to a replica that was behind', () => {
  it.each([1, 2])(
    'reads again what the promoted replica lost and ends exactly at the ground truth (%i consumer replicas)',
    async (replicas) => {
      pair = await ReplicatedPair.start(`failover-${replicas}`, 3340 + 2 * replicas, 3341 + 2 * replicas)
      const primary = resolveMysql(pair.url(pair.primaryPort, 'mau'))
      const replica = resolveMysql(pair.url(pair.replicaPort, 'mau'))
      await pair.createDatabase('mau')
      await schemaAt(primary).migrate()
      const setup = openDb(primary)
      await setup.query("UPDATE mau_setting SET value = '120' WHERE name = 'retain_months'")
      await setup.end()

      topic = await createTopic(4)
      const {events, truth} = generate({events: 90_000, users: 6_000, namespaces: 4, seed: 28, ...thisMonthSoFar()})
      const values = events.map((e) => encode(e, 'json'))
      const [a, b] = [30_000, 70_000]

      proxy = new CuttableProxy({host: '127.0.0.1', port: pair.primaryPort})
      await proxy.start()
      const viaProxy = resolveMysql(proxy.urlFor(pair.url(pair.primaryPort, 'mau')))
      const options: ConsumeOptions = {
        brokers: '127.0.0.1:9092',
        topics: [topic.topic],
        group: groupOf(topic.topic),
        format: 'json',
        timezone: 'UTC',
        batchSize: 2_000,
        stopAtEnd: false,
        concurrency: 2,
        sessionTimeoutMs: 10_000,
      }
      const stop = new AbortController()
      const members = Array.from({length: replicas}, () => {
        const pool = openDb(viaProxy, writerPool(4))
        const metrics = new ConsumerMetrics()
        const run = consume(options, {
          db: pool,
          log: createLogger('test', 'silent'),
          metrics,
          health: new Health(60),
          signal: stop.signal,
        })
        return {pool, metrics, run}
      })

      // The replica has everything up to A, then stops; the primary goes on to B and dies.
      await produce(topic.topic, values.slice(0, a), 4)
      await until(async () => (await eventsApplied(primary)) === a)
      await pair.caughtUp()
      await pair.stopReplication()
      await produce(topic.topic, values.slice(a, b), 4)
      await until(async () => (await eventsApplied(primary)) === b)
      pair.killPrimary()
      await pair.promote()
      await proxy.switchTo({host: '127.0.0.1', port: pair.replicaPort})
      expect(await eventsApplied(replica)).toBe(a)

      // The consumer runs on, not restarted; more events arrive meanwhile.
      await produce(topic.topic, values.slice(b), 4)
      await until(async () => (await eventsApplied(replica)) >= values.length)
      // A moment more: anything applied twice would show now.
      await new Promise((r) => setTimeout(r, 1_500))
      stop.abort()
      const summaries = await Promise.all(members.map((m) => m.run))
      const rewinds = await Promise.all(
        members.map(async (m) => (await m.metrics.rewinds.get()).values.reduce((x, v) => x + v.value, 0)),
      )
      await Promise.all(members.map((m) => m.pool.end()))

      expect(await eventsApplied(replica)).toBe(values.length)
      expect(await readRows(replica)).toEqual(truth.rows)
      const check = openDb(replica)
      for (const month of new Set([...truth.rows.keys()].map((k) => k.split('|')[1]!)))
        expect(await checkSummary(check, month)).toMatchObject({ok: true})
      await check.end()
      // Every partition had moved past what the replica held: each was read again. One member finds it in its
      // next window (a rewind, said so); with two, a member whose window waited out the outage may be dropped
      // from the group first and rejoin, and positioning reads MySQL's offsets before any window (no rewind to
      // count). Either way the truth above is reached exactly.
      if (replicas === 1) expect(rewinds.reduce((x, y) => x + y, 0)).toBeGreaterThanOrEqual(4)
      expect(summaries.reduce((x, s) => x + s.rewinds, 0)).toBe(rewinds.reduce((x, y) => x + y, 0))
    },
  )
})
