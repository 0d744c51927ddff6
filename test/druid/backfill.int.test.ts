/** Backfill from the Druid stand-in into MariaDB, checked against ground truth and against verify. */
import {afterEach, beforeEach, describe, expect, it} from 'vitest'
import {writerPool} from '../../src/mau/rows.js'
import {encode, Truth} from '../fixtures/events.js'
import {backfill, type BackfillOptions} from '../../src/druid/backfill.js'
import {checkSummary} from '../../src/mau/summary.js'
import {DruidClient} from '../../src/druid/client.js'
import {DruidUserEvents} from '../../src/druid/events.js'
import {monthBounds} from '../../src/core/month.js'
import {openDb} from '../../src/core/db.js'
import type {Db} from '../../src/core/db.js'
import {verifyMigration} from '../../src/druid/verify.js'
import {consumeAll, produce, query, readRows} from '../fixtures/mau.js'
import {sample, SCHEMA} from '../fixtures/druid-events.js'
import {druidStandin} from '../helpers/druid-standin.js'
import type {Event} from '../helpers/druid-sql.js'
import {createTestDatabase, createTopic, type TestDatabase} from '../fixtures/services.js'

let db: TestDatabase
let pool: Db
let standin: Awaited<ReturnType<typeof druidStandin>>

beforeEach(async () => {
  db = await createTestDatabase({migrated: true})
  pool = openDb(db.settings, writerPool(4))
})
afterEach(async () => {
  await standin?.close()
  await pool.end()
  await db.drop()
})

const NOVEMBER = monthBounds('202211', 'UTC')
const NOW = new Date('2022-12-14T12:00:00Z')

async function druidWith(rows: Event[]): Promise<DruidUserEvents> {
  standin = await druidStandin({user_events: rows})
  return new DruidUserEvents(new DruidClient({url: standin.url, timeoutMs: 10_000}), SCHEMA, {
    useApproximateCountDistinct: false,
  })
}
const run = (druid: DruidUserEvents, o: Partial<BackfillOptions> = {}) =>
  backfill(pool, druid, {month: '202211', timezone: 'UTC', now: NOW, pageSize: 100, ...o})
const verify = (druid: DruidUserEvents, month = '202211') =>
  verifyMigration(pool, druid, {month, timezone: 'UTC', approximate: false, tolerancePercent: 0})

describe('backfill from Druid', () => {
  it('writes the month exactly as the consumer would have, with the summary, and verify then passes', async () => {
    const {events, rows} = sample({events: 5_000, from: NOVEMBER.start, to: NOVEMBER.end})
    const druid = await druidWith(rows)
    const result = await run(druid)
    const truth = new Truth('UTC')
    for (const e of events) truth.add(e)
    expect(await readRows(db.settings)).toEqual(truth.rows)
    expect(result).toMatchObject({mode: 'replace', total: {rows: truth.rows.size, events: 5_000, rejected: 0}})
    expect(result.environments.every((e) => e.outcome === 'replaced')).toBe(true)
    expect(await checkSummary(pool, '202211')).toMatchObject({ok: true})
    expect((await verify(druid)).ok).toBe(true)
    // Pages of 100 users: many queries, each after the last user of the one before.
    expect(standin.queries.filter((q) => q.query.includes('TIMESTAMP_TO_MILLIS')).length).toBeGreaterThan(
      truth.rows.size / 100,
    )
  })

  it('running it twice changes nothing', async () => {
    const {rows} = sample({events: 2_000, from: NOVEMBER.start, to: NOVEMBER.end})
    const druid = await druidWith(rows)
    await run(druid)
    const once = await readRows(db.settings)
    const summaryOnce = await query(
      db.settings,
      'SELECT * FROM mau_summary ORDER BY yearmonth, environment_namespace, source_id',
    )
    await run(druid)
    expect(await readRows(db.settings)).toEqual(once)
    expect(
      await query(db.settings, 'SELECT * FROM mau_summary ORDER BY yearmonth, environment_namespace, source_id'),
    ).toEqual(summaryOnce)
  })

  it('replaces only the environments named, and refuses one Druid does not have', async () => {
    const {rows} = sample({events: 1_000, from: NOVEMBER.start, to: NOVEMBER.end})
    const druid = await druidWith(rows)
    await query(
      db.settings,
      "INSERT INTO mau VALUES ('stale', '202211', 'IOS', 7, 0, 0, 'env-1'), ('kept', '202211', 'IOS', 7, 0, 0, 'env-2')",
    )
    await run(druid, {namespaces: ['env-1']})
    const users = await query(
      db.settings,
      "SELECT environment_namespace, user_id FROM mau WHERE user_id IN ('stale', 'kept')",
    )
    expect(users.map((u) => [u.environment_namespace, u.user_id])).toEqual([['env-2', 'kept']])
    await expect(run(druid, {namespaces: ['env-nope']})).rejects.toThrow(
      /Druid has no events in 202211 for environment "env-nope"/,
    )
  })

  it('sets aside what the consumer would reject, and counts it', async () => {
    const at = (NOVEMBER.start + 3600) * 1000
    const druid = await druidWith([
      {__time: at, environment_namespace: 'prod', user_id: 'alice', source_id: 'IOS'},
      {__time: at, environment_namespace: 'prod', user_id: null, source_id: 'IOS'},
      {__time: at + 1, environment_namespace: 'prod', user_id: null, source_id: 'IOS'},
      {__time: at, environment_namespace: 'prod', user_id: 'bob', source_id: '3'},
    ])
    const result = await run(druid)
    expect(result.environments[0]).toMatchObject({
      rows: 2,
      events: 2,
      rejected: 2,
      firstRejection: 'user_id is "": expected a non-empty string',
    })
    expect([...(await readRows(db.settings)).keys()].sort()).toEqual(['prod|202211|IOS|alice', 'prod|202211|WEB|bob'])
  })

  it("refuses the current month without --until, and merges Druid's events before the cut-over once", async () => {
    const DECEMBER = monthBounds('202212', 'UTC')
    const cut = Date.UTC(2022, 11, 5) / 1000
    const {events, rows} = sample({events: 3_000, from: DECEMBER.start, to: cut + 8 * 86_400})
    const druid = await druidWith(rows)
    // The consumer took over at the cut: it saw only the later events.
    const topic = await createTopic(1)
    await produce(
      topic.topic,
      events.filter((e) => e.last_seen >= cut).map((e) => encode(e, 'json')),
    )
    await consumeAll(pool, topic.topic)
    await topic.drop()
    await expect(run(druid, {month: '202212'})).rejects.toThrow(/Month 202212 is not over in UTC/)
    const merged = await run(druid, {month: '202212', until: cut})
    expect(merged).toMatchObject({mode: 'merge', total: {events: events.filter((e) => e.last_seen < cut).length}})
    const truth = new Truth('UTC')
    for (const e of events) truth.add(e)
    expect(await readRows(db.settings)).toEqual(truth.rows)
    expect((await verify(druid, '202212')).ok).toBe(true)
    expect(await checkSummary(pool, '202212')).toMatchObject({ok: true})
    const again = await run(druid, {month: '202212', until: cut})
    expect(again.environments.every((e) => e.outcome === 'already-merged')).toBe(true)
    expect(await readRows(db.settings)).toEqual(truth.rows)
    await expect(run(druid, {month: '202212', until: cut + 3600})).rejects.toThrow(
      /was already backfilled \(merge, up to 2022-12-05T00:00:00.000Z\): merging again up to 2022-12-05T01:00:00.000Z would count events twice/,
    )
  })
})
