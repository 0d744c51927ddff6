import {afterEach, beforeEach, describe, expect, it} from 'vitest'
import {countByScan, toCsv} from '../src/count.js'
import {openPool, type Db} from '../src/store.js'
import {query} from './helpers/consume.js'
import {createTestDatabase, type TestDatabase} from './helpers/services.js'

let db: TestDatabase
let pool: Db
beforeEach(async () => {
  db = await createTestDatabase({migrated: true})
  pool = openPool(db.settings)
  const rows = [
    ['prod', '202212', 'IOS', 'alice', 3],
    ['prod', '202212', 'ANDROID', 'alice', 2],
    ['prod', '202212', 'IOS', 'bob', 1],
    ['dev', '202212', 'WEB', 'alice', 7],
    ['prod', '202301', 'IOS', 'carol', 1],
  ]
  for (const [ns, ym, src, user, n] of rows) {
    await query(db.settings, 'INSERT INTO mau (environment_namespace, yearmonth, source_id, user_id, event_count, created_at, updated_at) VALUES (?, ?, ?, ?, ?, 0, 0)', [ns, ym, src, user, n])
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
    expect(c.environments).toEqual([{environment_namespace: 'prod', users: 2, events: 4, sources: [{source_id: 'IOS', users: 2, events: 4}]}])
  })

  it('names an environment that has no events in the month', async () => {
    await expect(countByScan(pool, {month: '202212', namespaces: ['prod', 'staging']})).rejects.toMatchObject({
      exitCode: 2,
      message: 'No events in 202212 for environment "staging": expected one of the month\'s environments.',
    })
  })

  it('renders CSV with per-source lines on request', async () => {
    const csv = toCsv(await countByScan(pool, {month: '202212', namespaces: ['dev']}), true)
    expect(csv).toBe('month,environment_namespace,source_id,users,events\n202212,dev,,1,7\n202212,dev,WEB,1,7\n202212,,,1,7\n')
  })
})
