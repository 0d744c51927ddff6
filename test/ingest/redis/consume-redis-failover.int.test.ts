/**
 * MySQL goes back in time under a running Redis consumer: the primary dies and an asynchronous replica that
 * had stopped thousands of entries earlier is promoted behind the same address (a TCP proxy standing in for
 * the Service). The consumers are never restarted: they find MySQL behind (a window refused, or the stream
 * locks lost with the connection and positioned again), read the streams again from MySQL's positions, and
 * end exactly at the ground truth.
 */
import {afterEach, describe, expect, it} from 'vitest'
import {openDb} from '../../../src/core/db.js'
import {createLogger} from '../../../src/core/log.js'
import {resolveRedis} from '../../../src/core/redis.js'
import {resolveMysql} from '../../../src/core/settings.js'
import {ConsumerMetrics, Health} from '../../../src/ingest/metrics.js'
import {consumeRedis} from '../../../src/ingest/redis/run.js'
import {writerPool} from '../../../src/mau/rows.js'
import {DECEMBER_2022, eventsApplied, query} from '../../fixtures/mau.js'
import {platformStream} from '../../fixtures/platform.js'
import {publish} from '../../fixtures/redis-streams.js'
import {schemaAt} from '../../fixtures/services.js'
import {ReplicatedPair} from '../../helpers/mariadb-pair.js'
import {CuttableProxy} from '../../helpers/proxy.js'
import {type RedisServer, startRedis} from '../../helpers/redis-server.js'
import type {RowDataPacket} from 'mysql2/promise'

let pair: ReplicatedPair | undefined
let proxy: CuttableProxy | undefined
let redis: RedisServer | undefined
afterEach(async () => {
  await proxy?.stop()
  pair?.stop()
  await redis?.stop()
})

const until = async (what: () => Promise<boolean>, ms = 90_000) => {
  for (const end = Date.now() + ms; !(await what());) {
    if (Date.now() > end) throw new Error('timed out waiting')
    await new Promise((r) => setTimeout(r, 100))
  }
}
const total = (t: Map<string, number>) => [...t.values()].reduce((a, b) => a + b, 0)

describe('mau consume --source redis through a MySQL failover to a replica that was behind', () => {
  it.each([1, 2])(
    'reads again what the promoted replica lost and ends exactly at the ground truth (%i consumer replicas)',
    async (replicas) => {
      pair = await ReplicatedPair.start(`failover-redis-${replicas}`, 3344 + 2 * replicas, 3345 + 2 * replicas)
      const primary = resolveMysql(pair.url(pair.primaryPort, 'mau'))
      const replica = resolveMysql(pair.url(pair.replicaPort, 'mau'))
      await pair.createDatabase('mau')
      await schemaAt(primary).migrate()
      const setup = openDb(primary)
      await setup.query("UPDATE mau_setting SET value = '120' WHERE name = 'retain_months'")
      await setup.end()
      redis = await startRedis()
      const c = redis.client()
      const parts = [1, 2, 3].map((seed) =>
        platformStream({events: 20_000, seed: 60 + seed, format: 'protobuf', ...DECEMBER_2022}),
      )

      proxy = new CuttableProxy({host: '127.0.0.1', port: pair.primaryPort})
      await proxy.start()
      const viaProxy = resolveMysql(proxy.urlFor(pair.url(pair.primaryPort, 'mau')))
      const stop = new AbortController()
      const members = Array.from({length: replicas}, () => {
        const pool = openDb(viaProxy, writerPool(5))
        const metrics = new ConsumerMetrics()
        const run = consumeRedis(
          {
            redis: resolveRedis({'redis-url': redis!.url}, {}),
            topics: ['evaluation'],
            partitions: 16,
            group: 'g',
            format: 'protobuf',
            timezone: 'UTC',
            batchSize: 2_000,
            stopAtEnd: false,
            concurrency: 2,
            rebalanceMs: 300,
          },
          {
            db: pool,
            log: createLogger('test', process.env.DEBUG_REDIS ? 'info' : 'silent', false),
            metrics,
            health: new Health(60),
            signal: stop.signal,
          },
        )
        return {pool, metrics, run}
      })

      // The replica has everything up to A, then stops; the primary goes on to B and dies.
      await publish(c, 'evaluation', parts[0]!.messages, 16, 'a')
      const a = total(parts[0]!.truth)
      await until(async () => (await eventsApplied(primary)) === a)
      await pair.caughtUp()
      await pair.stopReplication()
      await publish(c, 'evaluation', parts[1]!.messages, 16, 'b')
      const b = a + total(parts[1]!.truth)
      await until(async () => (await eventsApplied(primary)) === b)
      pair.killPrimary()
      await pair.promote()
      await proxy.switchTo({host: '127.0.0.1', port: pair.replicaPort})
      expect(await eventsApplied(replica)).toBe(a)

      // The consumers run on, not restarted; more entries arrive meanwhile.
      await publish(c, 'evaluation', parts[2]!.messages, 16, 'c')
      c.disconnect()
      const all = b + total(parts[2]!.truth)
      await until(async () => (await eventsApplied(replica)) >= all)
      // A moment more: anything applied twice would show now.
      await new Promise((r) => setTimeout(r, 1_500))
      stop.abort()
      await Promise.all(members.map((m) => m.run))
      await Promise.all(members.map((m) => m.pool.end()))

      expect(await eventsApplied(replica)).toBe(all)
      const rows = await query<RowDataPacket>(
        replica,
        'SELECT environment_namespace, yearmonth, source_id, user_id, event_count FROM mau',
      )
      const truth = new Map<string, number>()
      for (const p of parts) for (const [k, n] of p.truth) truth.set(k, (truth.get(k) ?? 0) + n)
      expect(
        new Map(
          rows.map((x) => [
            [x.environment_namespace, x.yearmonth, x.source_id, x.user_id].join('|'),
            Number(x.event_count),
          ]),
        ),
      ).toEqual(truth)
    },
  )
})
