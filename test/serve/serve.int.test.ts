/** `mau serve` over MariaDB with consumed events: the platform's gRPC contract and the HTTP API, as clients call them. */
import * as grpc from '@grpc/grpc-js'
import {request, type RequestOptions} from 'node:http'
import {afterAll, beforeAll, describe, expect, it} from 'vitest'
import {openDb} from '../../src/core/db.js'
import {writerPool} from '../../src/mau/rows.js'
import {consumeAll, produceSample, query} from '../fixtures/mau.js'
import {createTestDatabase, createTopic, type TestDatabase} from '../fixtures/services.js'
import {mauAsync} from '../helpers/cli.js'
import {startServe, type Running} from '../fixtures/serve.js'
import {call, grpcClients} from '../helpers/serve.js'

const TOKEN = 'a-serve-token-of-32-characters!!'
let db: TestDatabase
let served: Running
let clients: ReturnType<typeof grpcClients>

beforeAll(async () => {
  db = await createTestDatabase({migrated: true})
  const topic = await createTopic(2)
  await produceSample(topic.topic, 2, {events: 3_000, namespaces: 4})
  const pool = openDb(db.settings, writerPool(2))
  await consumeAll(pool, topic.topic)
  await pool.end()
  await topic.drop()
  served = await startServe({MAU_MYSQL_URL: db.url, MAU_SERVE_TOKEN: TOKEN})
  clients = grpcClients(served.grpcPort)
})
afterAll(async () => {
  clients?.eventCounter.close()
  clients?.mau.close()
  await served?.stop()
  await db.drop()
})

/** A request fetch would not send (a GET announcing a body), straight through node:http. */
const statusOf = (port: number, o: RequestOptions) =>
  new Promise<number | undefined>((resolve, reject) => {
    const req = request({...o, host: '127.0.0.1', port}, (res) => resolve(res.statusCode))
    req.on('error', reject)
    req.end()
  })
const bearer = {headers: {Authorization: `Bearer ${TOKEN}`}}
const countJson = async (args: string[] = []) =>
  JSON.parse((await mauAsync(['count', '--month', '202212', '--json', ...args], {MAU_MYSQL_URL: db.url})).stdout)

describe('GetMAUCount over gRPC', () => {
  it('answers each environment with the numbers of mau count, and the staleness bound in its metadata', async () => {
    const expected = await countJson()
    expect(expected.environments.length).toBe(4)
    for (const e of expected.environments) {
      const r = await call(
        clients.eventCounter.GetMAUCount,
        clients.eventCounter,
        {environment_namespace: e.environment_namespace, year_month: '202212'},
        TOKEN,
      )
      expect(r.error).toBeUndefined()
      expect(r.response).toEqual({event_count: String(e.events), user_count: String(e.users)})
      expect(r.metadata.get('x-mau-max-staleness-seconds')).toEqual(['5'])
    }
  })

  it('answers zeros for an environment without data, as the platform does', async () => {
    const r = await call(
      clients.eventCounter.GetMAUCount,
      clients.eventCounter,
      {environment_namespace: 'no-such-env', year_month: '202212'},
      TOKEN,
    )
    expect(r.response).toEqual({event_count: '0', user_count: '0'})
  })

  it.each([
    [{environment_namespace: 'env-0'}, /year_month is required: expected YYYYMM/],
    [{environment_namespace: 'env-0', year_month: '2022-12'}, /year_month "2022-12" is invalid: expected YYYYMM/],
    [{environment_namespace: 'env-0', year_month: '202213'}, /year_month "202213" is invalid/],
    [{year_month: '202212'}, /environment_id \(or environment_namespace\) is required/],
  ])('refuses %j with INVALID_ARGUMENT naming the field', async (request, message) => {
    const r = await call(clients.eventCounter.GetMAUCount, clients.eventCounter, request, TOKEN)
    expect(r.error?.code).toBe(grpc.status.INVALID_ARGUMENT)
    expect(r.error?.details).toMatch(message)
  })

  it('wants the token', async () => {
    for (const token of [undefined, 'wrong-token-wrong-token-wrong-token']) {
      const r = await call(
        clients.eventCounter.GetMAUCount,
        clients.eventCounter,
        {environment_namespace: 'env-0', year_month: '202212'},
        token,
      )
      expect(r.error?.code).toBe(grpc.status.UNAUTHENTICATED)
    }
  })

  it('lists every environment of a month in one call (mau.v1.MAUService/ListMAUCounts)', async () => {
    const expected = await countJson()
    const r = await call(clients.mau.ListMAUCounts, clients.mau, {year_month: '202212'}, TOKEN)
    expect(r.response).toMatchObject({
      year_month: '202212',
      user_count: String(expected.total.users),
      event_count: String(expected.total.events),
    })
    expect(
      (r.response!.environments as {environment_namespace: string; user_count: string}[]).map((e) => [
        e.environment_namespace,
        Number(e.user_count),
      ]),
    ).toEqual(
      expected.environments.map((e: {environment_namespace: string; users: number}) => [
        e.environment_namespace,
        e.users,
      ]),
    )
  })
})

describe('the HTTP API', () => {
  it('GET /v1/mau returns the document mau count --json prints, for a month, an environment and by source', async () => {
    for (const [query, args] of [
      ['month=202212', []],
      ['month=202212&namespace=env-1&by=source', ['--namespace', 'env-1', '--by', 'source']],
      ['month=202212&namespace=env-1,env-2', ['--namespace', 'env-1,env-2']],
    ] as const) {
      const res = await served.http(`/v1/mau?${query}`, bearer)
      expect(res.status).toBe(200)
      expect(res.headers.get('x-mau-max-staleness-seconds')).toBe('5')
      expect(await res.json()).toEqual(await countJson([...args]))
    }
  })

  it('GET /v1/mau/months returns each month of a range', async () => {
    const res = await served.http('/v1/mau/months?from=202211&to=202301', bearer)
    const body = await res.json()
    expect(body.months.map((m: {month: string}) => m.month)).toEqual(['202211', '202212', '202301'])
    expect(body.months[1]).toEqual(await countJson())
  })

  it('answers bad input with 400 and a code, an unknown environment with 404, no token with 401', async () => {
    const bad = await served.http('/v1/mau?month=2022-13', bearer)
    expect([bad.status, await bad.json()]).toEqual([
      400,
      {error: {code: 'BAD_MONTH', message: 'month "2022-13" is invalid: expected YYYYMM, such as 202212.'}},
    ])
    const range = await served.http('/v1/mau/months?from=202301&to=202212', bearer)
    expect(range.status).toBe(400)
    expect((await served.http('/v1/mau?month=202212&namespace=nope', bearer)).status).toBe(404)
    const anonymous = await served.http('/v1/mau?month=202212')
    expect([anonymous.status, anonymous.headers.get('www-authenticate')]).toEqual([401, 'Bearer'])
    expect((await served.http('/v1/mau?month=202212', {method: 'POST', body: 'x', ...bearer})).status).toBe(405)
    expect(
      await statusOf(served.httpPort, {
        method: 'GET',
        path: '/v1/mau?month=202212',
        headers: {...bearer.headers, 'Content-Length': '999999'},
      }),
    ).toBe(413)
  })

  it('keeps /healthz, /readyz and /metrics open for probes and Prometheus', async () => {
    expect((await served.http('/healthz')).status).toBe(200)
    expect((await served.http('/readyz')).status).toBe(200)
    const metrics = await (await served.http('/metrics')).text()
    expect(metrics).toMatch(/mau_serve_requests_total\{api="grpc",method="GetMAUCount",code="OK"\} \d+/)
    expect(metrics).toMatch(/^process_cpu_seconds_total /m)
  })
})

describe('staleness', () => {
  it('never serves a count older than the bound', async () => {
    const fresh = await startServe({MAU_MYSQL_URL: db.url}, ['--max-staleness', '1'])
    try {
      const users = async () =>
        (await (await fresh.http('/v1/mau?month=202212&namespace=env-0')).json()).environments[0].users
      const before = await users()
      await query(
        db.settings,
        "UPDATE mau_summary SET users = users + 1000 WHERE environment_namespace = 'env-0' AND source_id = '' AND yearmonth = '202212'",
      )
      await new Promise((r) => setTimeout(r, 1_100))
      expect(await users()).toBe(before + 1000)
    } finally {
      await query(
        db.settings,
        "UPDATE mau_summary SET users = users - 1000 WHERE environment_namespace = 'env-0' AND source_id = '' AND yearmonth = '202212'",
      )
      await fresh.stop()
    }
  })
})
