/**
 * `mau serve` to the platform's callers as they are today and as they were: GetMAUCount of both request
 * generations, InsightsService/GetInsightsMonthlySummary, and their HTTP paths as grpc-gateway serves
 * them, all compared with `mau count --json` over data consumed from the platform's current messages.
 */
import * as grpc from '@grpc/grpc-js'
import {afterAll, beforeAll, describe, expect, it} from 'vitest'
import {openDb} from '../../src/core/db.js'
import {writerPool} from '../../src/mau/rows.js'
import {consumeAll, DECEMBER_2022, produce} from '../fixtures/mau.js'
import {platformStream} from '../fixtures/platform.js'
import {startServe, type Running} from '../fixtures/serve.js'
import {createTestDatabase, createTopic, type TestDatabase} from '../fixtures/services.js'
import {mauAsync} from '../helpers/cli.js'
import {call, grpcClients} from '../helpers/serve.js'

const TOKEN = 'a-serve-token-of-32-characters!!'
let db: TestDatabase
let served: Running
let clients: ReturnType<typeof grpcClients>
const counts = new Map<
  string,
  {
    environments: {
      environment_namespace: string
      users: number
      events: number
      sources: {source_id: string; users: number; events: number}[]
    }[]
  }
>()

beforeAll(async () => {
  db = await createTestDatabase({migrated: true})
  const topic = await createTopic(1)
  await produce(
    topic.topic,
    platformStream({
      events: 4_000,
      seed: 11,
      format: 'protobuf',
      from: DECEMBER_2022.from,
      to: DECEMBER_2022.to + 31 * 86_400,
    }).messages,
  )
  const pool = openDb(db.settings, writerPool(2))
  await consumeAll(pool, topic.topic, {format: 'protobuf'})
  await pool.end()
  await topic.drop()
  for (const month of ['202212', '202301'])
    counts.set(
      month,
      JSON.parse(
        (await mauAsync(['count', '--month', month, '--by', 'source', '--json'], {MAU_MYSQL_URL: db.url})).stdout,
      ),
    )
  served = await startServe({MAU_MYSQL_URL: db.url, MAU_SERVE_TOKEN: TOKEN})
  clients = grpcClients(served.grpcPort)
})
afterAll(async () => {
  for (const c of Object.values(clients ?? {})) c.close()
  await served?.stop()
  await db.drop()
})

const get = (path: string, token = TOKEN) => served.http(path, {headers: {authorization: `Bearer ${token}`}})

describe('GetMAUCount of both request generations', () => {
  it('answers environment_id (field 3, since November 2024) and environment_namespace (field 1) with the numbers of mau count', async () => {
    for (const [month, c] of counts) {
      for (const e of c.environments) {
        const expected = {event_count: String(e.events), user_count: String(e.users)}
        expect(
          (
            await call(
              clients.eventCounter.GetMAUCount,
              clients.eventCounter,
              {environment_id: e.environment_namespace, year_month: month},
              TOKEN,
            )
          ).response,
        ).toEqual(expected)
        expect(
          (
            await call(
              clients.eventCounter.GetMAUCount,
              clients.eventCounter,
              {environment_namespace: e.environment_namespace, year_month: month},
              TOKEN,
            )
          ).response,
        ).toEqual(expected)
      }
    }
  })

  it('refuses both fields set and different with INVALID_ARGUMENT, naming them', async () => {
    const r = await call(
      clients.eventCounter.GetMAUCount,
      clients.eventCounter,
      {environment_id: 'env-1', environment_namespace: 'env-2', year_month: '202212'},
      TOKEN,
    )
    expect(r.error?.code).toBe(grpc.status.INVALID_ARGUMENT)
    expect(r.error?.details).toBe(
      'environment_id "env-1" and environment_namespace "env-2" differ: expected one of them, or both the same.',
    )
  })

  it('serves GET /v1/mau_count as grpc-gateway does: int64 as strings, errors as google.rpc.Status', async () => {
    const e = counts.get('202212')!.environments[0]!
    const ok = await get(`/v1/mau_count?environment_id=${e.environment_namespace}&year_month=202212`)
    expect(ok.status).toBe(200)
    expect(await ok.json()).toEqual({eventCount: String(e.events), userCount: String(e.users)})
    expect(
      await (await get(`/v1/mau_count?environmentNamespace=${e.environment_namespace}&yearMonth=202212`)).json(),
    ).toEqual({eventCount: String(e.events), userCount: String(e.users)})
    const bad = await get('/v1/mau_count?environment_id=env-1&year_month=2022-12')
    expect(bad.status).toBe(400)
    expect(await bad.json()).toEqual({
      code: 3,
      message: 'year_month "2022-12" is invalid: expected YYYYMM, such as 202212.',
      details: [],
    })
    const anonymous = await get('/v1/mau_count?environment_id=env-1&year_month=202212', 'wrong-token-of-enough-length')
    expect(anonymous.status).toBe(401)
    expect((await anonymous.json()).code).toBe(16)
    expect(anonymous.headers.get('www-authenticate')).toBe('Bearer')
  })
})

describe('InsightsService/GetInsightsMonthlySummary', () => {
  /** The series mau count gives: per environment and source, the months with data, ascending. */
  const expected = (environments: string[] = [], sources: string[] = []) => {
    const series = new Map<string, {yearmonth: string; mau: number; requests: number}[]>()
    for (const [month, c] of [...counts].sort()) {
      for (const e of c.environments) {
        if (environments.length && !environments.includes(e.environment_namespace)) continue
        for (const s of e.sources) {
          if (sources.length && !sources.includes(s.source_id)) continue
          const k = `${e.environment_namespace}|${s.source_id}`
          series.set(k, [...(series.get(k) ?? []), {yearmonth: month, mau: s.users, requests: s.events}])
        }
      }
    }
    return [...series]
      .sort(([a], [b]) => (a < b ? -1 : 1))
      .map(([k, data]) => {
        const [environmentId, sourceId] = k.split('|') as [string, string]
        return {
          environmentId,
          sourceId,
          environmentName: '',
          projectName: '',
          data: data.map((d) => ({...d, mau: String(d.mau), requests: String(d.requests)})),
        }
      })
  }

  it('answers one series per environment and source with every month of mau count, over HTTP', async () => {
    const r = await get('/v1/insights/monthly_summary')
    expect(r.status).toBe(200)
    const body = await r.json()
    expect(body.series).toEqual(expected())
    expect(body.series.length).toBeGreaterThan(20)
  })

  it('filters by repeated environment_ids and source_ids, sources by name or number', async () => {
    const r = await get(
      '/v1/insights/monthly_summary?environment_ids=env-1&environment_ids=env-2&source_ids=FLUTTER&source_ids=3',
    )
    expect((await r.json()).series).toEqual(expected(['env-1', 'env-2'], ['FLUTTER', 'WEB']))
    const bad = await get('/v1/insights/monthly_summary?source_ids=107')
    expect(bad.status).toBe(400)
    expect((await bad.json()).message).toMatch(/^source_id 107 is not a known source number/)
  })

  it('answers the same over gRPC, sources as SourceId numbers', async () => {
    const r = await call(
      clients.insights.GetInsightsMonthlySummary,
      clients.insights,
      {environment_ids: ['env-0'], source_ids: [1, 8]},
      TOKEN,
    )
    const numbers: Record<string, number> = {ANDROID: 1, FLUTTER: 8}
    const want = expected(['env-0'], ['ANDROID', 'FLUTTER']).map((s) => ({
      environment_id: s.environmentId,
      source_id: numbers[s.sourceId],
      environment_name: '',
      project_name: '',
      data: s.data,
    }))
    expect(r.response).toEqual({series: want})
  })
})
