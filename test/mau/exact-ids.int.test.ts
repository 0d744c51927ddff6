/** Ids that differ only by trailing spaces, case, accents or width are different users, end to end. */
import {afterAll, beforeAll, describe, expect, it} from 'vitest'
import {openDb, type Db} from '../../src/core/db.js'
import {backfill} from '../../src/druid/backfill.js'
import {druidReader} from '../../src/druid/settings.js'
import {verifyMigration} from '../../src/druid/verify.js'
import {count, countByScan, userIds} from '../../src/mau/count.js'
import {writerPool} from '../../src/mau/rows.js'
import {checkSummary} from '../../src/mau/summary.js'
import {DRUID_DEFAULTS} from '../fixtures/druid-events.js'
import {DISTINCT_IDS, exactIdEvents} from '../fixtures/exact-ids.js'
import {consumeAll, produce} from '../fixtures/mau.js'
import {createTestDatabase, createTopic, type TestDatabase} from '../fixtures/services.js'
import {mauAsync} from '../helpers/cli.js'
import {druidStandin} from '../helpers/druid-standin.js'

const events = [
  ...exactIdEvents('prod'),
  {environment_namespace: 'prod ', user_id: 'a', source_id: 'IOS', last_seen: Date.UTC(2022, 11, 20) / 1000},
]
let consumed: TestDatabase
let filled: TestDatabase
let pools: Db[]
let standin: Awaited<ReturnType<typeof druidStandin>>

beforeAll(async () => {
  ;[consumed, filled] = await Promise.all([createTestDatabase({migrated: true}), createTestDatabase({migrated: true})])
  pools = [openDb(consumed.settings, writerPool(4)), openDb(filled.settings, writerPool(2))]
  const topic = await createTopic(2)
  await produce(
    topic.topic,
    events.map((e) => JSON.stringify(e)),
    2,
  )
  await consumeAll(pools[0]!, topic.topic)
  await topic.drop()
  standin = await druidStandin({user_events: events.map((e) => ({...e, __time: e.last_seen * 1000}))})
})
afterAll(async () => {
  await standin.close()
  for (const p of pools) await p.end()
  await Promise.all([consumed.drop(), filled.drop()])
})

const reader = () =>
  druidReader({...DRUID_DEFAULTS, 'druid-url': standin.url}, {useApproximateCountDistinct: false, sqlTimeZone: 'UTC'})
const expected = {
  month: '202212',
  environments: [
    {
      environment_namespace: 'prod',
      users: 15,
      events: 30,
      sources: [
        {source_id: 'IOS', users: 15, events: 15},
        {source_id: 'WEB', users: 15, events: 15},
      ],
    },
    {environment_namespace: 'prod ', users: 1, events: 1, sources: [{source_id: 'IOS', users: 1, events: 1}]},
  ],
  total: {users: 16, events: 31},
}

describe('exact ids', () => {
  it('the consumer keeps every id apart: the summary and a scan both count 15 users, and keep "prod " apart from "prod"', async () => {
    expect(await count(pools[0]!, {month: '202212'})).toEqual(expected)
    expect(await countByScan(pools[0]!, {month: '202212'})).toEqual(expected)
    expect(await checkSummary(pools[0]!, '202212')).toMatchObject({ok: true})
    expect((await userIds(pools[0]!, {month: '202212', namespaces: ['prod']})).sort()).toEqual([...DISTINCT_IDS].sort())
    expect(await count(pools[0]!, {month: '202212', namespaces: ['prod ']})).toMatchObject({
      total: {users: 1, events: 1},
    })
  })

  it('backfill from Druid writes the same users, and verify-migration passes on both databases', async () => {
    const result = await backfill(pools[1]!, reader(), {
      month: '202212',
      timezone: 'UTC',
      now: new Date('2023-01-02T00:00:00Z'),
      pageSize: 4,
    })
    expect(result.total).toEqual({rows: 31, events: 31, rejected: 0})
    expect(await count(pools[1]!, {month: '202212'})).toEqual(expected)
    for (const pool of pools) {
      const verdict = await verifyMigration(pool, reader(), {
        month: '202212',
        timezone: 'UTC',
        approximate: false,
        tolerancePercent: 0,
        users: 20,
      })
      expect(verdict.rows.filter((r) => r.verdict !== 'match')).toEqual([])
      expect(verdict.ok).toBe(true)
    }
  })

  it("mau count --json prints the ids' environments as text, and --scan agrees", async () => {
    for (const args of [[], ['--scan']]) {
      const r = await mauAsync(['count', '--month', '202212', '--by', 'source', '--json', ...args], {
        MAU_MYSQL_URL: consumed.url,
      })
      expect(r.code).toBe(0)
      expect(JSON.parse(r.stdout)).toEqual(expected)
    }
  })
})
