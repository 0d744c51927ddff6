/** mau backfill as an operator runs it: JSON result, the same rows on a second run, exit codes a Job acts on. */
import {afterAll, beforeAll, describe, expect, it} from 'vitest'
import {openDb} from '../../src/core/db.js'
import {currentMonth} from '../../src/core/month.js'
import {query} from '../fixtures/mau.js'
import {createTestDatabase, type TestDatabase} from '../fixtures/services.js'
import {mauAsync} from '../helpers/cli.js'
import {druidStandin} from '../helpers/druid-standin.js'

let db: TestDatabase
let standin: Awaited<ReturnType<typeof druidStandin>>
const at = (day: number) => Date.UTC(2022, 10, day)

beforeAll(async () => {
  db = await createTestDatabase({migrated: true})
  standin = await druidStandin({
    user_events: [
      {__time: at(1), environment_namespace: 'prod', user_id: 'alice', source_id: 'IOS'},
      {__time: at(2), environment_namespace: 'prod', user_id: 'alice', source_id: 'IOS'},
      {__time: at(3), environment_namespace: 'prod', user_id: 'bob', source_id: '1'},
      {__time: at(4), environment_namespace: 'dev', user_id: '', source_id: 'WEB'},
    ],
  })
})
afterAll(async () => {
  await standin.close()
  await db.drop()
})

const backfill = (args: string[]) =>
  mauAsync(['backfill', '--from', 'druid', ...args], {
    MAU_MYSQL_URL: db.url,
    MAU_DRUID_URL: standin.url,
    MAU_DRUID_TIMEOUT_SECONDS: '5',
  })

describe('mau backfill', () => {
  it('fills a month from Druid, counts what it could not use, and writes the same rows when run again', async () => {
    const first = await backfill(['--month', '202211', '--json'])
    expect(first.code).toBe(0)
    expect(JSON.parse(first.stdout)).toMatchObject({
      month: '202211',
      mode: 'replace',
      environments: [
        {environment_namespace: 'dev', outcome: 'replaced', rows: 0, events: 0, rejected: 1},
        {environment_namespace: 'prod', outcome: 'replaced', rows: 2, events: 3, rejected: 0},
      ],
      total: {rows: 2, events: 3, rejected: 1},
    })
    const rows = () =>
      query(db.settings, 'SELECT environment_namespace, source_id, user_id, event_count FROM mau ORDER BY user_id')
    const before = await rows()
    expect(before.map((r) => [r.user_id, r.source_id, Number(r.event_count)])).toEqual([
      ['alice', 'IOS', 2],
      ['bob', 'ANDROID', 1],
    ])
    const second = await backfill(['--month', '202211'])
    expect(second.code).toBe(0)
    expect(second.stdout).toMatch(/rejected in dev: user_id is "": expected a non-empty string/)
    expect(await rows()).toEqual(before)
    const counted = await mauAsync(['count', '--month', '202211', '--json'], {MAU_MYSQL_URL: db.url})
    expect(JSON.parse(counted.stdout).total).toEqual({users: 2, events: 3})
  })

  it('exits 2 for the current month without --until, and for an environment Druid does not have', async () => {
    const current = await backfill(['--month', currentMonth('UTC'), '--json'])
    expect(current.code).toBe(2)
    expect(JSON.parse(current.stdout).error.message).toMatch(
      /is not over in UTC: replacing it would erase what the consumer is writing/,
    )
    const missing = await backfill(['--month', '202211', '--namespace', 'staging'])
    expect(missing.code).toBe(2)
    expect(missing.stderr).toMatch(/Druid has no events in 202211 for environment "staging"/)
  })

  it('exits 3 while another backfill of the month holds the lock', async () => {
    const pool = openDb(db.settings, {connectionLimit: 1})
    const conn = await pool.getConnection()
    try {
      await conn.query("SELECT GET_LOCK(CONCAT('mau.backfill.', DATABASE(), '.202211'), 0)")
      const r = await backfill(['--month', '202211', '--lock-wait', '1', '--json'])
      expect(r.code).toBe(3)
      expect(JSON.parse(r.stdout).error).toMatchObject({
        code: 'LOCK_HELD',
        message: expect.stringMatching(/Another run holds the lock "mau\.backfill\.mau_test_\w+\.202211"/),
      })
    } finally {
      conn.release()
      await pool.end()
    }
  })
})
