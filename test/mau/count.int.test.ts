import {afterEach, beforeEach, describe, expect, it} from 'vitest'
import {writerPool} from '../../src/mau/rows.js'
import {checkSummary, rebuildSummary} from '../../src/mau/summary.js'
import {count, countByScan} from '../../src/mau/count.js'
import {decodeJson} from '../../src/ingest/decode.js'
import {MonthResolver} from '../../src/core/month.js'
import {persistWindow} from '../../src/ingest/writer.js'
import {prepareBatch} from '../../src/ingest/batch.js'
import {openDb, type Db} from '../../src/core/db.js'
import {query, startPartitions} from '../fixtures/mau.js'
import {createTestDatabase, type TestDatabase} from '../fixtures/services.js'

let db: TestDatabase
let pool: Db
beforeEach(async () => {
  db = await createTestDatabase({migrated: true})
  pool = openDb(db.settings)
  const rows = [
    ['prod', '202212', 'IOS', 'alice', 3],
    ['prod', '202212', 'ANDROID', 'alice', 2],
    ['prod', '202212', 'IOS', 'bob', 1],
    ['dev', '202212', 'WEB', 'alice', 7],
    ['prod', '202301', 'IOS', 'carol', 1],
  ]
  for (const [ns, ym, src, user, n] of rows) {
    await query(
      db.settings,
      'INSERT INTO mau (environment_namespace, yearmonth, source_id, user_id, event_count, created_at, updated_at) VALUES (?, ?, ?, ?, ?, 0, 0)',
      [ns, ym, src, user, n],
    )
  }
})
afterEach(async () => {
  await pool.end()
  await db.drop()
})

describe('countByScan', () => {
  it('counts a user on two sources once in users and once in each source', async () => {
    const c = await countByScan(pool, {month: '202212'})
    expect(c).toEqual({
      month: '202212',
      environments: [
        {environment_namespace: 'dev', users: 1, events: 7, sources: [{source_id: 'WEB', users: 1, events: 7}]},
        {
          environment_namespace: 'prod',
          users: 2,
          events: 6,
          sources: [
            {source_id: 'ANDROID', users: 1, events: 2},
            {source_id: 'IOS', users: 2, events: 4},
          ],
        },
      ],
      // alice in dev and in prod is two users: environments are separate products
      total: {users: 3, events: 13},
    })
  })

  it('filters by environment and source', async () => {
    const c = await countByScan(pool, {month: '202212', namespaces: ['prod'], sources: ['IOS']})
    expect(c.environments).toEqual([
      {environment_namespace: 'prod', users: 2, events: 4, sources: [{source_id: 'IOS', users: 2, events: 4}]},
    ])
  })

  it('names an environment that has no events in the month', async () => {
    await expect(countByScan(pool, {month: '202212', namespaces: ['prod', 'staging']})).rejects.toMatchObject({
      exitCode: 2,
      message: 'No events in 202212 for environment "staging": expected one of the month\'s environments.',
    })
  })
})

describe('summary counters kept by the consumer', () => {
  const ref = {group: 'g', topic: 't', partition: 0}
  const now = Math.floor(Date.now() / 1000)
  const event = (user: string, source: string, ns = 'prod') =>
    JSON.stringify({
      environment_namespace: ns,
      user_id: user,
      source_id: source,
      last_seen: Date.UTC(2022, 11, 5) / 1000,
    })
  const apply = async (values: string[], first = 0) => {
    const writer = openDb(db.settings, writerPool(2))
    const messages = values.map((v, i) => ({offset: String(first + i), value: Buffer.from(v)}))
    const chunks = [{ref, from: first, batch: prepareBatch(messages, decodeJson, now)}]
    await startPartitions(writer, chunks)
    await persistWindow(writer, chunks, new MonthResolver('UTC'), now)
    await writer.end()
  }

  it('count a user on two sources once in users and once in each source, across batches', async () => {
    await apply([event('zoe', 'IOS'), event('zoe', 'IOS')])
    await apply([event('zoe', 'ANDROID'), event('yan', 'WEB')], 2)
    const c = await count(pool, {month: '202212', namespaces: ['prod']})
    // prod already had alice and bob from the scan fixture, but only consumed rows reach the summary
    expect(c.environments).toEqual([
      {
        environment_namespace: 'prod',
        users: 2,
        events: 4,
        sources: [
          {source_id: 'ANDROID', users: 1, events: 1},
          {source_id: 'IOS', users: 1, events: 2},
          {source_id: 'WEB', users: 1, events: 1},
        ],
      },
    ])
    expect(
      (await count(pool, {month: '202212', namespaces: ['prod'], sources: ['IOS']})).environments[0],
    ).toMatchObject({users: 1, events: 2})
  })

  it('are repaired by rebuild after being corrupted, and check names every difference', async () => {
    await apply([event('zoe', 'IOS'), event('yan', 'WEB', 'dev')])
    await rebuildSummary(pool, '202212') // the fixture's rows were inserted behind the consumer's back
    expect((await checkSummary(pool, '202212')).ok).toBe(true)
    await query(
      db.settings,
      "UPDATE mau_summary SET users = users + 5 WHERE environment_namespace = 'prod' AND source_id = ''",
    )
    await query(db.settings, "DELETE FROM mau_summary WHERE environment_namespace = 'dev' AND source_id = 'WEB'")
    const broken = await checkSummary(pool, '202212')
    expect(broken.ok).toBe(false)
    expect(broken.differences).toEqual([
      {environment_namespace: 'dev', source_id: 'WEB', summary: null, scan: {users: 2, events: 8}},
      {environment_namespace: 'prod', source_id: '', summary: {users: 8, events: 7}, scan: {users: 3, events: 7}},
    ])
    expect(await rebuildSummary(pool, '202212')).toEqual({month: '202212', rows: 5}) // dev: all, WEB; prod: all, ANDROID, IOS
    expect((await checkSummary(pool, '202212')).ok).toBe(true)
  })
})
