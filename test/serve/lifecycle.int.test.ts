/**
 * `mau serve` under the conditions a Deployment meets: MySQL going away, a request in flight at SIGTERM,
 * more requests than it takes, slow MySQL, TLS, and the standard health and reflection services.
 */
import * as grpc from '@grpc/grpc-js'
import * as protoLoader from '@grpc/proto-loader'
import {service as healthService} from 'grpc-health-check'
import {execFileSync} from 'node:child_process'
import {mkdtempSync, readFileSync} from 'node:fs'
import {request} from 'node:https'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {afterAll, beforeAll, describe, expect, it} from 'vitest'
import {openDb} from '../../src/core/db.js'
import {query} from '../fixtures/mau.js'
import {createTestDatabase, type TestDatabase} from '../fixtures/services.js'
import {CuttableProxy} from '../helpers/proxy.js'
import {startServe} from '../fixtures/serve.js'
import {call, grpcClients} from '../helpers/serve.js'

let db: TestDatabase
beforeAll(async () => {
  db = await createTestDatabase({migrated: true})
  await query(
    db.settings,
    "INSERT INTO mau_summary VALUES ('202212', 'prod', '', 2, 5), ('202212', 'prod', 'IOS', 2, 5)",
  )
})
afterAll(async () => {
  await db.drop()
})

/** Holds a write lock on mau_summary, so that every count waits until release(). */
async function lockSummary() {
  const pool = openDb(db.settings, {connectionLimit: 1})
  const conn = await pool.getConnection()
  await conn.query('LOCK TABLES mau_summary WRITE')
  return {
    release: async () => {
      await conn.query('UNLOCK TABLES')
      conn.release()
      await pool.end()
    },
  }
}
const get = {environment_namespace: 'prod', year_month: '202212'}

describe('mau serve', () => {
  it('answers UNAVAILABLE and 503 while MySQL is down, without a stack trace, and recovers by itself', async () => {
    const proxy = new CuttableProxy({host: db.settings.host, port: db.settings.port})
    await proxy.start()
    const served = await startServe({MAU_MYSQL_URL: proxy.urlFor(db.url)}, ['--max-staleness', '0'])
    const {eventCounter} = grpcClients(served.grpcPort)
    try {
      await proxy.cut()
      const down = await call(eventCounter.GetMAUCount, eventCounter, get)
      expect(down.error?.code).toBe(grpc.status.UNAVAILABLE)
      // Where the database is (user, host, port, name) is the log's to say, not a client's.
      expect(down.error?.details).toBe('MySQL unavailable: retry shortly.')
      expect(served.stderr()).toMatch(/mysql:\/\/root@127\.0\.0\.1:\d+\/mau_test_\w+ is unavailable/)
      const res = await served.http('/v1/mau?month=202212')
      expect(res.status).toBe(503)
      expect((await res.json()).error.code).toBe('MYSQL_UNAVAILABLE')
      expect((await served.http('/readyz')).status).toBe(503)
      await proxy.restore()
      expect((await call(eventCounter.GetMAUCount, eventCounter, get)).response).toEqual({
        event_count: '5',
        user_count: '2',
      })
    } finally {
      eventCounter.close()
      await served.stop()
      await proxy.stop()
    }
  })

  it('finishes a request in flight when told to stop, then exits 0', async () => {
    const served = await startServe({MAU_MYSQL_URL: db.url}, ['--max-staleness', '0'])
    const lock = await lockSummary()
    const inFlight = served.http('/v1/mau?month=202212')
    await new Promise((r) => setTimeout(r, 300))
    const exit = served.stop('SIGTERM')
    await new Promise((r) => setTimeout(r, 300))
    await expect(served.http('/healthz')).rejects.toThrow()
    await lock.release()
    const res = await inFlight
    expect(res.status).toBe(200)
    expect((await res.json()).total).toEqual({users: 2, events: 5})
    expect(await exit).toBe(0)
  })

  it('refuses requests beyond --max-concurrent and cuts those past --request-timeout', async () => {
    const served = await startServe({MAU_MYSQL_URL: db.url}, [
      '--max-staleness',
      '0',
      '--max-concurrent',
      '1',
      '--request-timeout',
      '1',
    ])
    const {eventCounter} = grpcClients(served.grpcPort)
    const lock = await lockSummary()
    try {
      const first = call(eventCounter.GetMAUCount, eventCounter, get)
      await new Promise((r) => setTimeout(r, 200))
      const second = await call(eventCounter.GetMAUCount, eventCounter, get)
      expect(second.error?.code).toBe(grpc.status.RESOURCE_EXHAUSTED)
      expect((await served.http('/v1/mau?month=202212')).status).toBe(429)
      expect((await first).error?.code).toBe(grpc.status.DEADLINE_EXCEEDED)
    } finally {
      await lock.release()
      eventCounter.close()
      await served.stop()
    }
  })

  it('serves both ports over TLS with a certificate and key, and reports health and its services', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'mau-tls-'))
    execFileSync(
      'openssl',
      [
        'req',
        '-x509',
        '-newkey',
        'rsa:2048',
        '-nodes',
        '-keyout',
        join(dir, 'key.pem'),
        '-out',
        join(dir, 'cert.pem'),
        '-days',
        '1',
        '-subj',
        '/CN=localhost',
        '-addext',
        'subjectAltName=IP:127.0.0.1,DNS:localhost',
      ],
      {stdio: 'ignore'},
    )
    const served = await startServe(
      {MAU_MYSQL_URL: db.url},
      ['--tls-cert', join(dir, 'cert.pem'), '--tls-key', join(dir, 'key.pem')],
      'https',
    )
    const ca = readFileSync(join(dir, 'cert.pem'))
    const credentials = grpc.credentials.createSsl(ca)
    const {eventCounter} = grpcClients(served.grpcPort, credentials)
    const Health = grpc.makeGenericClientConstructor(healthService, 'Health')
    const health = new Health(`127.0.0.1:${served.grpcPort}`, credentials) as unknown as grpc.Client & {
      check: (req: object, cb: (e: grpc.ServiceError | null, r: {status: string}) => void) => void
    }
    try {
      expect((await call(eventCounter.GetMAUCount, eventCounter, get)).response).toEqual({
        event_count: '5',
        user_count: '2',
      })
      expect(await httpsStatus(served.httpPort, ca)).toBe(200)
      for (const name of ['', 'bucketeer.eventcounter.EventCounterService', 'mau.v1.MAUService']) {
        const status = await new Promise<string>((resolve, reject) =>
          health.check({service: name}, (e, r) => (e ? reject(e) : resolve(r.status))),
        )
        expect(status).toBe('SERVING')
      }
      expect(await reflectedServices(served.grpcPort, credentials)).toEqual(
        expect.arrayContaining(['bucketeer.eventcounter.EventCounterService', 'mau.v1.MAUService']),
      )
    } finally {
      eventCounter.close()
      health.close()
      await served.stop()
    }
  })
})

/** GET /healthz over https, trusting only the test's own CA. */
async function httpsStatus(port: number, ca: Buffer): Promise<number | undefined> {
  return new Promise((resolve, reject) => {
    const req = request({host: '127.0.0.1', port, path: '/v1/mau?month=202212', ca}, (res) => {
      res.resume()
      resolve(res.statusCode)
    })
    req.on('error', reject)
    req.end()
  })
}

/** The services a server lists through gRPC server reflection (v1), as grpcurl asks for them. */
async function reflectedServices(port: number, credentials: grpc.ChannelCredentials): Promise<string[]> {
  const proto = join(process.cwd(), 'node_modules/@grpc/reflection/build/proto/grpc/reflection/v1/reflection.proto')
  const loaded = grpc.loadPackageDefinition(protoLoader.loadSync(proto, {keepCase: true})) as unknown as {
    grpc: {reflection: {v1: {ServerReflection: grpc.ServiceClientConstructor}}}
  }
  const client = new loaded.grpc.reflection.v1.ServerReflection(
    `127.0.0.1:${port}`,
    credentials,
  ) as unknown as grpc.Client & {
    ServerReflectionInfo: () => grpc.ClientDuplexStream<object, {list_services_response?: {service: {name: string}[]}}>
  }
  try {
    return await new Promise((resolve, reject) => {
      const stream = client.ServerReflectionInfo()
      stream.on('data', (r) => {
        resolve((r.list_services_response?.service ?? []).map((s: {name: string}) => s.name))
        stream.end()
      })
      stream.on('error', reject)
      stream.write({list_services: '*'})
    })
  } finally {
    client.close()
  }
}
