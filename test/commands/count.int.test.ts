import {afterAll, beforeAll, describe, expect, it} from 'vitest'
import {rebuildSummary} from '../../src/mau/summary.js'
import {openDb} from '../../src/core/db.js'
import {mau} from '../helpers/cli.js'
import {query} from '../fixtures/mau.js'
import {createTestDatabase, type TestDatabase} from '../fixtures/services.js'

let db: TestDatabase
beforeAll(async () => {
  db = await createTestDatabase({migrated: true})
  const insert = 'INSERT INTO mau (environment_namespace, yearmonth, source_id, user_id, event_count, created_at, updated_at) VALUES (?, ?, ?, ?, ?, 0, 0)'
  await query(db.settings, insert, ['prod', '202212', 'IOS', 'alice', 3])
  await query(db.settings, insert, ['prod', '202212', 'ANDROID', 'alice', 2])
  // Rows written behind the consumer's back: the summary learns of them by a rebuild.
  const pool = openDb(db.settings)
  await rebuildSummary(pool, '202212')
  await pool.end()
})
afterAll(async () => {
  await db.drop()
})

describe('mau count', () => {
  it('prints the documented JSON document, accepting YYYY-MM', () => {
    const r = mau(['count', '--month', '2022-12', '--json'], {MAU_MYSQL_URL: db.url})
    expect(r.code).toBe(0)
    expect(JSON.parse(r.stdout)).toEqual({
      month: '202212',
      environments: [{environment_namespace: 'prod', users: 1, events: 5, sources: [{source_id: 'ANDROID', users: 1, events: 2}, {source_id: 'IOS', users: 1, events: 3}]}],
      total: {users: 1, events: 5},
    })
  })

  it('prints CSV with --csv --by source', () => {
    const r = mau(['count', '--month', '202212', '--csv', '--by', 'source'], {MAU_MYSQL_URL: db.url})
    expect(r.stdout).toBe('month,environment_namespace,source_id,users,events\n202212,prod,,1,5\n202212,prod,ANDROID,1,2\n202212,prod,IOS,1,3\n202212,,,1,5\n')
  })

  it('exits 2 naming an invalid month or an unknown environment', () => {
    const bad = mau(['count', '--month', '2022-13'], {MAU_MYSQL_URL: db.url})
    expect(bad.code).toBe(2)
    expect(bad.stderr).toContain('Invalid month "2022-13": expected YYYYMM or YYYY-MM')
    const unknown = mau(['count', '--month', '202212', '--namespace', 'nope', '--json'], {MAU_MYSQL_URL: db.url})
    expect(unknown.code).toBe(2)
    expect(JSON.parse(unknown.stdout).error.message).toContain('No events in 202212 for environment "nope"')
  })
})
