/**
 * Double-write parity on real services: the same events go to Kafka (then through the real consumer into
 * MariaDB) and to the Druid stand-in, as both paths receive them in production; then one is disturbed.
 */
import {afterEach, beforeEach, describe, expect, it} from 'vitest'
import {writerPool} from '../../src/mau/rows.js'
import {encode, type SampleEvent} from '../fixtures/events.js'
import {DruidClient} from '../../src/druid/client.js'
import {DruidUserEvents} from '../../src/druid/events.js'
import {monthBounds} from '../../src/core/month.js'
import {openDb} from '../../src/core/db.js'
import type {Db} from '../../src/core/db.js'
import {verifyMigration, type VerifyOptions} from '../../src/druid/verify.js'
import {consumeAll, produce} from '../fixtures/mau.js'
import {sample, SCHEMA, toDruidRow} from '../fixtures/druid-events.js'
import {druidStandin} from '../helpers/druid-standin.js'
import {createTestDatabase, createTopic, type TestDatabase} from '../fixtures/services.js'

let db: TestDatabase
let pool: Db
let topic: {topic: string; drop: () => Promise<void>}
let standin: Awaited<ReturnType<typeof druidStandin>> | undefined

beforeEach(async () => {
  db = await createTestDatabase({migrated: true})
  pool = openDb(db.settings, writerPool(4))
  topic = await createTopic(2)
})
afterEach(async () => {
  await standin?.close()
  await pool.end()
  await topic.drop()
  await db.drop()
})

const DECEMBER = monthBounds('202212', 'UTC')

/** Kafka gets kafkaEvents (consumed into MariaDB with the zone given), Druid gets druidEvents. */
async function doubleWrite(kafkaEvents: SampleEvent[], druidEvents: SampleEvent[], timezone = 'UTC') {
  await produce(
    topic.topic,
    kafkaEvents.map((e) => encode(e, 'json')),
    2,
  )
  await consumeAll(pool, topic.topic, {timezone})
  standin = await druidStandin({user_events: druidEvents.map(toDruidRow)})
  return new DruidUserEvents(new DruidClient({url: standin.url, timeoutMs: 10_000}), SCHEMA, {
    useApproximateCountDistinct: false,
  })
}

const verify = (druid: DruidUserEvents, o: Partial<VerifyOptions> = {}) =>
  verifyMigration(pool, druid, {month: '202212', timezone: 'UTC', approximate: false, tolerancePercent: 0, ...o})
const line = (r: Awaited<ReturnType<typeof verify>>, ns: string, source = '') =>
  r.rows.find((x) => x.environment_namespace === ns && x.source_id === source)

describe('verifyMigration', () => {
  it('passes when both paths received the same events', async () => {
    const {events} = sample({events: 4_000, from: DECEMBER.start, to: DECEMBER.end})
    const result = await verify(await doubleWrite(events, events))
    expect(result).toMatchObject({
      ok: true,
      mismatches: 0,
      window: {from: '2022-12-01T00:00:00.000Z', to: '2023-01-01T00:00:00.000Z'},
    })
    expect(result.rows.length).toBeGreaterThan(10)
    expect(result.rows.every((r) => r.verdict === 'match' && r.druid!.events > 0)).toBe(true)
    expect(result.rows.filter((r) => r.source_id === '').reduce((a, r) => a + r.mysql!.events, 0)).toBe(4_000)
  })

  it('fails the lines of a lost event, a double-counted event and a missing environment, and names the users', async () => {
    const {events} = sample({events: 3_000, from: DECEMBER.start, to: DECEMBER.end})
    const at = DECEMBER.start + 86_400
    const lost = {environment_namespace: 'env-1', user_id: 'lost-user', source_id: 'IOS', last_seen: at}
    const doubled = {environment_namespace: 'env-2', user_id: 'user-1', source_id: 'WEB', last_seen: at}
    const missingEnv = {environment_namespace: 'env-new', user_id: 'someone', source_id: 'ANDROID', last_seen: at}
    const druid = await doubleWrite([...events, doubled, doubled], [...events, lost, doubled, missingEnv])
    const result = await verify(druid, {users: 10})
    expect(result.ok).toBe(false)
    expect(line(result, 'env-1')).toMatchObject({
      verdict: 'mismatch',
      difference: {users: -1, events: -1},
      onlyInDruid: ['lost-user'],
      onlyInMysql: [],
    })
    expect(line(result, 'env-1', 'IOS')).toMatchObject({
      verdict: 'mismatch',
      difference: {users: -1, events: -1},
      onlyInDruid: ['lost-user'],
    })
    expect(line(result, 'env-2')).toMatchObject({verdict: 'mismatch', difference: {users: 0, events: 1}})
    expect(line(result, 'env-2')!.onlyInDruid).toBeUndefined()
    expect(line(result, 'env-2', 'WEB')).toMatchObject({verdict: 'mismatch', difference: {users: 0, events: 1}})
    expect(line(result, 'env-new')).toMatchObject({
      verdict: 'only-in-druid',
      druid: {users: 1, events: 1},
      mysql: null,
      onlyInDruid: ['someone'],
    })
    expect(line(result, 'env-0')!.verdict).toBe('match')
    expect(result.mismatches).toBe(result.rows.filter((r) => r.verdict !== 'match').length)
    expect(result.mismatches).toBe(6)
  })

  it('cuts the month at the same instant on both sides, and catches a user put in the wrong month', async () => {
    const start = monthBounds('202212', 'Asia/Tokyo').start
    const end = monthBounds('202212', 'Asia/Tokyo').end
    const edge = (ns: string, user: string, last_seen: number) => ({
      environment_namespace: ns,
      user_id: user,
      source_id: 'IOS',
      last_seen,
    })
    // First and last second of December in Tokyo, and the seconds just outside it.
    const events = [
      edge('tokyo', 'first-second', start),
      edge('tokyo', 'last-second', end - 1),
      edge('tokyo', 'november', start - 1),
      edge('tokyo-next', 'january', end),
    ]
    const druid = await doubleWrite(events, events, 'Asia/Tokyo')
    const tokyo = await verify(druid, {timezone: 'Asia/Tokyo', users: 5})
    expect(tokyo).toMatchObject({ok: true, window: {from: '2022-11-30T15:00:00.000Z', to: '2022-12-31T15:00:00.000Z'}})
    expect(tokyo.rows.map((r) => [r.environment_namespace, r.source_id, r.druid, r.mysql])).toEqual([
      ['tokyo', '', {users: 2, events: 2}, {users: 2, events: 2}],
      ['tokyo', 'IOS', {users: 2, events: 2}, {users: 2, events: 2}],
    ])
    // Verified in UTC, MariaDB's rows (cut in Tokyo) hold a user Druid counts in November, and miss one it counts in December.
    const utc = await verify(druid, {timezone: 'UTC', users: 5})
    expect(utc.ok).toBe(false)
    expect(line(utc, 'tokyo')).toMatchObject({
      verdict: 'mismatch',
      druid: {users: 1, events: 1},
      mysql: {users: 2, events: 2},
      onlyInMysql: ['first-second'],
      onlyInDruid: [],
    })
    expect(line(utc, 'tokyo-next')).toMatchObject({verdict: 'only-in-druid', onlyInDruid: ['january']})
  })

  it('with --since, compares only what both paths saw after the double write started', async () => {
    const {events} = sample({events: 2_000, from: DECEMBER.start, to: DECEMBER.end})
    const since = DECEMBER.start + 10 * 86_400
    // The consumer started at `since`: only later events reached MariaDB; Druid has the whole month.
    const druid = await doubleWrite(
      events.filter((e) => e.last_seen >= since),
      events,
    )
    expect((await verify(druid)).ok).toBe(false)
    const result = await verify(druid, {since})
    expect(result).toMatchObject({ok: true, caveats: [], window: {from: new Date(since * 1000).toISOString()}})
  })

  it('judges users within the tolerance when Druid approximates distinct counts', async () => {
    const {events} = sample({events: 6_000, users: 3_000, namespaces: 1, from: DECEMBER.start, to: DECEMBER.end})
    const druid = await doubleWrite(events, events)
    const approximate = new DruidUserEvents(new DruidClient({url: standin!.url, timeoutMs: 10_000}), SCHEMA, {
      useApproximateCountDistinct: true,
    })
    const strict = await verify(approximate, {approximate: true, tolerancePercent: 0})
    const tolerant = await verify(approximate, {approximate: true, tolerancePercent: 5})
    const all = line(tolerant, 'env-0')!
    expect(all.druid!.users).not.toBe(all.mysql!.users)
    expect(all.druid!.events).toBe(all.mysql!.events)
    expect(line(strict, 'env-0')!.verdict).toBe('mismatch')
    expect(all.verdict).toBe('within-tolerance')
    expect(tolerant.ok).toBe(true)
    expect((await verify(druid)).ok).toBe(true)
  })
})
