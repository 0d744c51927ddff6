/** The fifteen ids that only exact bytes tell apart, through a real Druid: verify passes, backfill keeps them apart. */
import {afterAll, beforeAll, describe, expect, it} from 'vitest'
import {openDb} from '../../src/core/db.js'
import {writerPool} from '../../src/mau/rows.js'
import {DRUID_BROKER_URL, ingest} from '../fixtures/druid-real.js'
import {exactIdEvents} from '../fixtures/exact-ids.js'
import {consumeAll, produce, readRows} from '../fixtures/mau.js'
import {createTestDatabase, createTopic, uniqueName, type TestDatabase} from '../fixtures/services.js'
import {mauAsync} from '../helpers/cli.js'

const datasource = uniqueName('exact')
const events = exactIdEvents('prod')
let consumed: TestDatabase
let backfilled: TestDatabase

beforeAll(async () => {
  ;[consumed, backfilled] = [await createTestDatabase({migrated: true}), await createTestDatabase({migrated: true})]
  const topic = await createTopic(1)
  await produce(
    topic.topic,
    events.map((e) => JSON.stringify(e)),
  )
  const pool = openDb(consumed.settings, writerPool(2))
  await consumeAll(pool, topic.topic)
  await pool.end()
  await topic.drop()
  await ingest(
    datasource,
    events.map(({last_seen, ...e}) => ({...e, __time: last_seen * 1000})),
  )
})
afterAll(async () => {
  await consumed?.drop()
  await backfilled?.drop()
})

const env = (db: TestDatabase) => ({
  MAU_MYSQL_URL: db.url,
  MAU_DRUID_URL: DRUID_BROKER_URL,
  MAU_DRUID_DATASOURCE: datasource,
  MAU_VERIFY_IN_FLIGHT: 'false',
})

describe('exact ids against a real Druid', () => {
  it('verify-migration passes: Druid and MySQL both count 15 users of 30 events', async () => {
    const r = await mauAsync(['verify-migration', '--month', '202212', '--json'], env(consumed))
    expect(r.code).toBe(0)
    const all = JSON.parse(r.stdout).rows.find((x: {source_id: string}) => x.source_id === '')
    expect(all).toMatchObject({druid: {users: 15, events: 30}, mysql: {users: 15, events: 30}, verdict: 'match'})
  })

  it('backfill from Druid writes the 30 rows the consumer wrote', async () => {
    expect((await mauAsync(['backfill', '--month', '202212'], env(backfilled))).code).toBe(0)
    const fromConsumer = await readRows(consumed.settings)
    expect(fromConsumer.size).toBe(30)
    expect(await readRows(backfilled.settings)).toEqual(fromConsumer)
  })
})
