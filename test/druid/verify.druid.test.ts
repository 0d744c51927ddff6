/**
 * End to end on a real Druid: the same events ingested into Druid (native batch) and consumed from the
 * real Kafka broker into MariaDB, then `mau verify-migration` and `mau backfill` as an operator runs them.
 */
import {afterAll, beforeAll, describe, expect, it} from 'vitest'
import {writerPool} from '../../src/mau/rows.js'
import {encode} from '../fixtures/events.js'
import {monthBounds} from '../../src/core/month.js'
import {openDb} from '../../src/core/db.js'
import {mauAsync} from '../helpers/cli.js'
import {consumeAll, produce, readRows} from '../fixtures/mau.js'
import {DRUID_BROKER_URL, ingest} from '../fixtures/druid-real.js'
import {sample} from '../fixtures/druid-events.js'
import {createTestDatabase, createTopic, uniqueName, type TestDatabase} from '../fixtures/services.js'

const datasource = uniqueName('e2e')
const tokyo = monthBounds('202212', 'Asia/Tokyo')
// Around December in Tokyo, so that the month cut is exercised on both sides.
const {events, rows} = sample({
  events: 20_000,
  users: 5_000,
  from: tokyo.start - 2 * 86_400,
  to: tokyo.end + 2 * 86_400,
})
let consumed: TestDatabase
let backfilled: TestDatabase

beforeAll(async () => {
  ;[consumed, backfilled] = [await createTestDatabase({migrated: true}), await createTestDatabase({migrated: true})]
  const topic = await createTopic(2)
  await produce(
    topic.topic,
    events.map((e) => encode(e, 'json')),
    2,
  )
  const pool = openDb(consumed.settings, writerPool(4))
  await consumeAll(pool, topic.topic, {timezone: 'Asia/Tokyo'})
  await pool.end()
  await topic.drop()
  await ingest(datasource, rows)
})
afterAll(async () => {
  await consumed?.drop()
  await backfilled?.drop()
})

// Druid loaded by one batch task stands still: any difference is a mismatch (--no-in-flight).
const env = (db: TestDatabase) => ({
  MAU_MYSQL_URL: db.url,
  MAU_DRUID_URL: DRUID_BROKER_URL,
  MAU_DRUID_DATASOURCE: datasource,
  MAU_TIMEZONE: 'Asia/Tokyo',
  MAU_VERIFY_IN_FLIGHT: 'false',
})

describe('verify-migration and backfill against a real Druid', () => {
  it('passes with exact distinct counts when both paths got the same events', async () => {
    const r = await mauAsync(['verify-migration', '--month', '202212', '--json'], env(consumed))
    expect(r.stderr).toBe('')
    expect(r.code).toBe(0)
    const doc = JSON.parse(r.stdout)
    expect(doc).toMatchObject({ok: true, window: {from: '2022-11-30T15:00:00.000Z', to: '2022-12-31T15:00:00.000Z'}})
    const inMonth = events.filter((e) => e.last_seen >= tokyo.start && e.last_seen < tokyo.end).length
    expect(
      doc.rows
        .filter((x: {source_id: string}) => x.source_id === '')
        .reduce((a: number, x: {druid: {events: number}}) => a + x.druid.events, 0),
    ).toBe(inMonth)
  })

  it("judges Druid's approximate distinct counts by the tolerance", async () => {
    const r = await mauAsync(
      ['verify-migration', '--month', '202212', '--approximate', '--tolerance', '5', '--json'],
      env(consumed),
    )
    expect(r.code).toBe(0)
    const verdicts = JSON.parse(r.stdout).rows.map((x: {verdict: string}) => x.verdict)
    expect(verdicts.every((v: string) => v === 'match' || v === 'within-tolerance')).toBe(true)
    // Sketches over thousands of users are rarely exact: some lines pass only by the tolerance.
    expect(verdicts).toContain('within-tolerance')
  })

  it('backfills a database from Druid to the same rows the consumer wrote, twice without change', async () => {
    const first = await mauAsync(['backfill', '--month', '202212', '--json'], env(backfilled))
    expect(first.code).toBe(0)
    const fromConsumer = new Map([...(await readRows(consumed.settings))].filter(([k]) => k.split('|')[1] === '202212'))
    expect(await readRows(backfilled.settings)).toEqual(fromConsumer)
    const second = await mauAsync(['backfill', '--month', '202212'], env(backfilled))
    expect(second.code).toBe(0)
    expect(await readRows(backfilled.settings)).toEqual(fromConsumer)
    expect((await mauAsync(['verify-migration', '--month', '202212'], env(backfilled))).code).toBe(0)
  })
})
