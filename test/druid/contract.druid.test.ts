/**
 * The stand-in's contract, checked against a real Druid: the same events loaded into both, the same
 * queries (mau's own, and ones both must refuse), the same answers. This is what lets the default suite
 * trust the stand-in.
 */
import {afterAll, beforeAll, describe, expect, it} from 'vitest'
import {DruidClient, bigint, varchar} from '../../src/druid/client.js'
import {DruidUserEvents} from '../../src/druid/events.js'
import {sourceName} from '../../src/core/platform.js'
import {monthBounds} from '../../src/core/month.js'
import {ingest, DRUID_BROKER_URL} from '../fixtures/druid-real.js'
import {druidStandin} from '../helpers/druid-standin.js'
import {sample, SCHEMA} from '../fixtures/druid-events.js'
import {uniqueName} from '../fixtures/services.js'

const datasource = uniqueName('contract')
const december = monthBounds('202212', 'Asia/Tokyo')
// Events from late November to early January UTC, so Tokyo's month cut matters.
const {rows} = sample({events: 3_000, users: 400, from: december.start - 3 * 86400, to: december.end + 3 * 86400})
rows.push({__time: december.start * 1000, environment_namespace: 'env-0', user_id: 'edge-user', source_id: '2'})
rows.push({__time: december.end * 1000 - 1, environment_namespace: 'env-0', user_id: 'edge-user', source_id: 'ios'})
rows.push({__time: december.end * 1000, environment_namespace: 'env-0', user_id: 'next-month', source_id: 'WEB'})
rows.push({__time: december.start * 1000 + 5, environment_namespace: 'env-1', user_id: null, source_id: 'WEB'})
rows.push({__time: december.start * 1000 + 6, environment_namespace: 'env-1', user_id: 'no-source', source_id: null})
// Since the platform's rename: an environment id beside (or instead of) the namespace, and the newest SDK sources.
rows.push({
  __time: december.start * 1000 + 7,
  environment_id: 'env-1',
  environment_namespace: '',
  user_id: 'renamed',
  source_id: '8',
})
rows.push({
  __time: december.start * 1000 + 8,
  environment_id: 'env-9',
  environment_namespace: null,
  user_id: 'renamed',
  source_id: '106',
})
rows.push({
  __time: december.start * 1000 + 9,
  environment_id: '',
  environment_namespace: 'env-9',
  user_id: 'old',
  source_id: 'open_feature_go',
})
// A newer SDK's name is kept as sent, by the consumer and by the query alike.
rows.push({
  __time: december.start * 1000 + 10,
  environment_id: 'env-9',
  environment_namespace: null,
  user_id: 'newer',
  source_id: 'Flutter_Web2',
})

let standin: Awaited<ReturnType<typeof druidStandin>>
const real = new DruidClient({url: DRUID_BROKER_URL, timeoutMs: 60_000})
let fake: DruidClient
const window = {from: december.start * 1000, to: december.end * 1000}

beforeAll(async () => {
  standin = await druidStandin({[datasource]: rows})
  fake = new DruidClient({url: standin.url, timeoutMs: 60_000})
  await ingest(datasource, rows)
})
afterAll(() => standin?.close())

const sorted = <T>(list: T[]) => [...list].sort((a, b) => (JSON.stringify(a) < JSON.stringify(b) ? -1 : 1))

describe('the Druid stand-in answers as a real Druid does', () => {
  const schema = () => ({...SCHEMA, datasource})

  it('counts users and events per environment and source, exact', async () => {
    const ctx = {useApproximateCountDistinct: false}
    const [a, b] = await Promise.all([
      new DruidUserEvents(real, schema(), ctx).counts(window),
      new DruidUserEvents(fake, schema(), ctx).counts(window),
    ])
    expect(sorted(b.perSource)).toEqual(sorted(a.perSource))
    expect(sorted(b.perEnvironment)).toEqual(sorted(a.perEnvironment))
    expect(a.perSource.find((r) => r.environment_namespace === 'env-0' && r.source_id === 'IOS')).toBeDefined()
  })

  it('filters environments and pages user ids and aggregates in the same order', async () => {
    const ctx = {useApproximateCountDistinct: false}
    const [r, f] = [new DruidUserEvents(real, schema(), ctx), new DruidUserEvents(fake, schema(), ctx)]
    expect(sorted((await f.counts(window, ['env-0', 'env-2'])).perSource)).toEqual(
      sorted((await r.counts(window, ['env-0', 'env-2'])).perSource),
    )
    expect(await f.userIds(window, 'env-0', {limit: 50})).toEqual(await r.userIds(window, 'env-0', {limit: 50}))
    expect(await f.userIds(window, 'env-0', {limit: 50, after: 'user-2', source: 'IOS'})).toEqual(
      await r.userIds(window, 'env-0', {limit: 50, after: 'user-2', source: 'IOS'}),
    )
    expect(await f.environments(window)).toEqual(await r.environments(window))
    expect(await f.environments(window, ['env-1', 'nope'])).toEqual(await r.environments(window, ['env-1', 'nope']))
    expect(await f.recentEvents(window.from + 86_400_000)).toEqual(await r.recentEvents(window.from + 86_400_000))
    const after = {source_id: 'IOS', user_id: 'user-1'}
    expect(await f.userAggregates(window, 'env-0', {limit: 300, after})).toEqual(
      await r.userAggregates(window, 'env-0', {limit: 300, after}),
    )
    expect(await f.userAggregates(window, 'env-1', {limit: 5})).toEqual(
      await r.userAggregates(window, 'env-1', {limit: 5}),
    )
  })

  it('reads the environment id before the namespace, and every SDK source, alike', async () => {
    const ctx = {useApproximateCountDistinct: false}
    const renamed = {...schema(), environmentIdColumn: 'environment_id'}
    const [a, b] = await Promise.all([
      new DruidUserEvents(real, renamed, ctx).counts(window),
      new DruidUserEvents(fake, renamed, ctx).counts(window),
    ])
    expect(sorted(b.perSource)).toEqual(sorted(a.perSource))
    expect(
      a.perSource
        .filter((r) => r.environment_namespace === 'env-9')
        .map((r) => r.source_id)
        .sort(),
    ).toEqual(['Flutter_Web2', 'OPEN_FEATURE_GO', 'OPEN_FEATURE_REACT_NATIVE'])
    expect(sourceName('Flutter_Web2')).toEqual({ok: true, value: 'Flutter_Web2'})
  })

  it('approximates distinct users by default, close to the exact count', async () => {
    const q = `SELECT COUNT(DISTINCT user_id) AS users FROM "${datasource}"`
    const [exact] = await real.query<{users: number}>(q, [], {useApproximateCountDistinct: false})
    const [a] = await real.query<{users: number}>(q)
    const [b] = await fake.query<{users: number}>(q)
    for (const approx of [a!.users, b!.users]) expect(Math.abs(approx - exact!.users) / exact!.users).toBeLessThan(0.05)
  })

  it('renders timestamps and typed parameters alike', async () => {
    const q = `SELECT MIN(__time) AS first, TIMESTAMP_TO_MILLIS(MAX(__time)) AS last_ms, COUNT(*) AS n FROM "${datasource}" WHERE __time >= MILLIS_TO_TIMESTAMP(?) AND environment_namespace = ?`
    const params = [bigint(window.from), varchar('env-0')]
    expect(await fake.query(q, params)).toEqual(await real.query(q, params))
  })

  it.each([
    ['an unknown datasource', 'SELECT COUNT(*) FROM "no_such_table"', []],
    ['an unknown column', `SELECT nope FROM "${datasource}"`, []],
    ['a timestamp compared with a number', `SELECT COUNT(*) FROM "${datasource}" WHERE __time >= ?`, [bigint(1)]],
    ['a parameter left unbound', `SELECT COUNT(*) FROM "${datasource}" WHERE user_id = ?`, []],
  ])('refuses %s with HTTP 400 and exit code 2', async (_what, sql, params) => {
    const a = await real.query(sql, params as never).catch((e: Error & {exitCode: number}) => e)
    const b = await fake.query(sql, params as never).catch((e: Error & {exitCode: number}) => e)
    expect(a).toBeInstanceOf(Error)
    expect(b).toBeInstanceOf(Error)
    expect([(b as {exitCode: number}).exitCode, (b as Error).message.match(/HTTP \d+/)?.[0]]).toEqual([
      (a as {exitCode: number}).exitCode,
      (a as Error).message.match(/HTTP \d+/)?.[0],
    ])
  })
})
