/**
 * The Redis connection against real redis-servers: an ACL user whose password file is rotated (read again
 * at the next connection), a refused login (exit 2), and TLS (rediss://) with scripts/certs.sh's
 * certificates: trusted, untrusted and a name the certificate does not hold, each told apart; then the
 * platform's entries consumed over TLS as the ACL user, exactly.
 */
import {mkdtempSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import type {RowDataPacket} from 'mysql2/promise'
import {afterEach, describe, expect, it} from 'vitest'
import {openDb} from '../../src/core/db.js'
import {createLogger} from '../../src/core/log.js'
import {connectRedis, createRedis, resolveRedis} from '../../src/core/redis.js'
import {ConsumerMetrics, Health} from '../../src/ingest/metrics.js'
import {readAfter} from '../../src/ingest/redis/io.js'
import {consumeRedis} from '../../src/ingest/redis/run.js'
import {writerPool} from '../../src/mau/rows.js'
import {DECEMBER_2022, query} from '../fixtures/mau.js'
import {platformStream} from '../fixtures/platform.js'
import {publish} from '../fixtures/redis-streams.js'
import {createTestDatabase} from '../fixtures/services.js'
import {CuttableProxy} from '../helpers/proxy.js'
import {REDIS_CERTS, type RedisServer, startRedis} from '../helpers/redis-server.js'

let server: RedisServer | undefined
afterEach(async () => {
  await server?.stop()
  server = undefined
})

const ADMIN = 'admin-secret'
const passwordFile = (value: string) => {
  const file = join(mkdtempSync(join(tmpdir(), 'mau-redis-')), 'password')
  writeFileSync(file, `${value}\n`)
  return file
}

describe('Redis logins', () => {
  it('logs in as an ACL user with the password file, and reads the file again when it reconnects', async () => {
    server = await startRedis({
      requirepass: ADMIN,
      users: ['mau on >first-secret ~*{stream} +@read +@stream +ping +client +info'],
    })
    const file = passwordFile('first-secret')
    const s = resolveRedis({'redis-url': server.url, 'redis-username': 'mau'}, {MAU_REDIS_PASSWORD_FILE: file})
    const redis = createRedis(s, 'test')
    await connectRedis(redis, s)
    const admin = server.client()
    expect(String(await admin.call('CLIENT', 'LIST'))).toMatch(/name=test .*user=mau/)
    // The Secret rotated: the server's password changes, then the mounted file; the server drops the client.
    await admin.call('ACL', 'SETUSER', 'mau', 'resetpass', '>second-secret')
    writeFileSync(file, 'second-secret\n')
    await admin.call('CLIENT', 'KILL', 'USER', 'mau')
    let answer: unknown
    for (let i = 0; i < 50 && answer !== 'PONG'; i++) {
      answer = await redis.ping().catch((e: Error) => e.message)
      await new Promise((r) => setTimeout(r, 100))
    }
    expect(answer).toBe('PONG')
    redis.disconnect()
    admin.disconnect()
  })

  it('refuses a wrong password with exit 2, naming the user', async () => {
    server = await startRedis({requirepass: ADMIN, users: ['mau on >right ~* +@all']})
    const s = resolveRedis({'redis-url': server.url, 'redis-username': 'mau'}, {MAU_REDIS_PASSWORD: 'wrong-one'})
    await expect(connectRedis(createRedis(s, 'test'), s)).rejects.toMatchObject({
      code: 'REDIS_AUTH_REFUSED',
      exitCode: 2,
      message: expect.stringContaining('"mau"'),
    })
    const none = resolveRedis({'redis-url': server.url}, {})
    await expect(connectRedis(createRedis(none, 'test'), none)).rejects.toMatchObject({
      code: 'REDIS_AUTH_REFUSED',
      exitCode: 2,
    })
  })
})

describe('Redis over TLS', () => {
  it('connects with the CA, and tells an untrusted certificate and a wrong name apart (exit 2)', async () => {
    server = await startRedis({tls: true})
    const ca = join(REDIS_CERTS, 'ca.pem')
    const good = resolveRedis({'redis-url': `rediss://localhost:${server.tlsPort}`, 'redis-tls-ca-file': ca}, {})
    const redis = createRedis(good, 'test')
    await connectRedis(redis, good)
    expect(await redis.ping()).toBe('PONG')
    redis.disconnect()
    const untrusted = resolveRedis(
      {'redis-url': `rediss://localhost:${server.tlsPort}`, 'redis-tls-ca-file': join(REDIS_CERTS, 'other-ca.pem')},
      {},
    )
    await expect(connectRedis(createRedis(untrusted, 'test'), untrusted)).rejects.toMatchObject({
      code: 'TLS_UNTRUSTED',
      exitCode: 2,
    })
    const wrongName = resolveRedis({'redis-url': `rediss://127.0.0.1:${server.tlsPort}`, 'redis-tls-ca-file': ca}, {})
    await expect(connectRedis(createRedis(wrongName, 'test'), wrongName)).rejects.toMatchObject({
      code: 'TLS_NAME_MISMATCH',
      exitCode: 2,
    })
  })

  it("consumes the platform's entries over TLS as an ACL user, exactly", async () => {
    server = await startRedis({
      tls: true,
      requirepass: ADMIN,
      users: ['mau on >tls-secret ~*{stream} +@read +@stream +ping +client +info'],
    })
    const admin = server.client()
    const stream = platformStream({
      events: 3_000,
      seed: 12,
      format: 'protobuf',
      from: DECEMBER_2022.from,
      to: DECEMBER_2022.to,
    })
    await publish(admin, 'evaluation', stream.messages, 4)
    admin.disconnect()
    const db = await createTestDatabase({migrated: true})
    const pool = openDb(db.settings, writerPool(5))
    try {
      const redis = resolveRedis(
        {
          'redis-url': `rediss://localhost:${server.tlsPort}`,
          'redis-tls-ca-file': join(REDIS_CERTS, 'ca.pem'),
          'redis-username': 'mau',
        },
        {MAU_REDIS_PASSWORD: 'tls-secret'},
      )
      const summary = await consumeRedis(
        {
          redis,
          topics: ['evaluation'],
          partitions: 4,
          group: 'g',
          format: 'protobuf',
          timezone: 'UTC',
          batchSize: 1_000,
          stopAtEnd: true,
          concurrency: 2,
          rebalanceMs: 200,
        },
        {
          db: pool,
          log: createLogger('test', 'silent', false),
          metrics: new ConsumerMetrics(),
          health: new Health(60),
          signal: new AbortController().signal,
        },
      )
      expect(summary.consumed).toBe(3_000)
      const r = await query<RowDataPacket>(
        db.settings,
        'SELECT environment_namespace, yearmonth, source_id, user_id, event_count FROM mau',
      )
      expect(
        new Map(
          r.map((x) => [
            [x.environment_namespace, x.yearmonth, x.source_id, x.user_id].join('|'),
            Number(x.event_count),
          ]),
        ),
      ).toEqual(stream.truth)
    } finally {
      await pool.end()
      await db.drop()
    }
  })
})

describe('a Redis connection that dies silently', () => {
  it('fails a blocking read that gets no answer within its command timeout, rather than wait for ever', async () => {
    server = await startRedis()
    const proxy = new CuttableProxy({host: '127.0.0.1', port: server.port})
    await proxy.start()
    try {
      const s = resolveRedis({'redis-url': `redis://127.0.0.1:${proxy.port}`}, {})
      const redis = createRedis(s, 'test', {commandTimeoutMs: 1_500})
      await connectRedis(redis, s)
      // Nothing passes either way and no socket closes: a node or network lost.
      proxy.freeze()
      const started = Date.now()
      await expect(readAfter(redis, [['goal-0{stream}', '0-0']], 10, 500)).rejects.toThrow(/timed out/i)
      expect(Date.now() - started).toBeLessThan(3_000)
      redis.disconnect()
    } finally {
      await proxy.stop()
    }
  })
})
