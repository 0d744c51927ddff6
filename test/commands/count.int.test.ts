import {afterAll, beforeAll, describe, expect, it} from 'vitest'
import {rebuildSummary} from '../../src/mau/summary.js'
import {openDb} from '../../src/core/db.js'
import {mau} from '../helpers/cli.js'
import {query} from '../fixtures/mau.js'
import {createTestDatabase, type TestDatabase} from '../fixtures/services.js'

let db: TestDatabase
beforeAll(async () => {
  db = await createTestDatabase({migrated: true})
  const insert =
    'INSERT INTO mau (environment_namespace, yearmonth, source_id, user_id, event_count, created_at, updated_at) VALUES (?, ?, ?, ?, ?, 0, 0)'
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
      environments: [
        {
          environment_namespace: 'prod',
          users: 1,
          events: 5,
          sources: [
            {source_id: 'ANDROID', users: 1, events: 2},
            {source_id: 'IOS', users: 1, events: 3},
          ],
        },
      ],
      total: {users: 1, events: 5},
    })
  })

  it('prints CSV with --csv --by source', () => {
    const r = mau(['count', '--month', '202212', '--csv', '--by', 'source'], {MAU_MYSQL_URL: db.url})
    expect(r.stdout).toBe(
      'month,environment_namespace,source_id,users,events\n202212,prod,,1,5\n202212,prod,ANDROID,1,2\n202212,prod,IOS,1,3\n202212,,,1,5\n',
    )
  })

  it('exits 2 naming an invalid month or an unknown environment', () => {
    const bad = mau(['count', '--month', '2022-13'], {MAU_MYSQL_URL: db.url})
    expect(bad.code).toBe(2)
    expect(bad.stderr).toContain('Invalid month "2022-13": expected YYYYMM or YYYY-MM')
    const unknown = mau(['count', '--month', '202212', '--namespace', 'nope', '--json'], {MAU_MYSQL_URL: db.url})
    expect(unknown.code).toBe(2)
    expect(JSON.parse(unknown.stdout).error.message).toContain('No events in 202212 for environment "nope"')
  })

  it("reads --source by name or by the platform's SourceId number, as the consumer stores it", () => {
    const byNumber = mau(['count', '--month', '202212', '--source', '2', '--json'], {MAU_MYSQL_URL: db.url})
    expect(byNumber.code).toBe(0)
    expect(JSON.parse(byNumber.stdout).total).toEqual({users: 1, events: 3})
    expect(
      JSON.parse(mau(['count', '--month', '202212', '--source', 'ios', '--json'], {MAU_MYSQL_URL: db.url}).stdout),
    ).toEqual(JSON.parse(byNumber.stdout))
  })

  it('exits 2 naming a source without events in the month, or a source number not known, as for an environment', () => {
    const none = mau(['count', '--month', '202212', '--source', 'WEB', '--json'], {MAU_MYSQL_URL: db.url})
    expect(none.code).toBe(2)
    expect(JSON.parse(none.stdout).error.message).toBe(
      'No events in 202212 for source "WEB": expected one of the month\'s sources.',
    )
    const unknown = mau(['count', '--month', '202212', '--source', '42'], {MAU_MYSQL_URL: db.url})
    expect(unknown.code).toBe(2)
    expect(unknown.stderr).toContain('--source: source_id 42 is not a known source number')
  })
})

describe('mau count over several months', () => {
  const env = () => ({MAU_MYSQL_URL: db.url})
  beforeAll(async () => {
    const insert =
      'INSERT INTO mau_summary (yearmonth, environment_namespace, source_id, users, events) VALUES (?, ?, ?, ?, ?)'
    for (const [month, ns, users, events] of [
      ['202210', 'prod', 4, 40],
      ['202211', 'prod', 2, 10],
      ['202211', 'dev', 7, 7],
    ] as const)
      await query(db.settings, insert, [month, ns, '', users, events])
  })

  it('gives one line per month and environment with the change from the month before, as JSON', () => {
    const r = mau(['count', '--from', '202211', '--to', '2022-12', '--json'], env())
    expect(r.code).toBe(0)
    const doc = JSON.parse(r.stdout)
    expect(doc).toMatchObject({from: '202211', to: '202212'})
    expect(doc.months.map((m: {month: string}) => m.month)).toEqual(['202211', '202212'])
    expect(doc.months[0].environments).toEqual([
      {environment_namespace: 'dev', users: 7, events: 7, users_change_percent: null, events_change_percent: null},
      {environment_namespace: 'prod', users: 2, events: 10, users_change_percent: -50, events_change_percent: -75},
    ])
    expect(doc.months[1].total).toEqual({
      users: 1,
      events: 5,
      users_change_percent: -88.9,
      events_change_percent: -70.6,
    })
  })

  it('gives the same lines as CSV, and --last counts back from --to', () => {
    const r = mau(['count', '--last', '2', '--to', '202212', '--namespace', 'prod', '--csv'], env())
    expect(r.stdout).toBe(
      'month,environment_namespace,users,events,users_change_percent,events_change_percent\n202211,prod,2,10,-50,-75\n202211,,2,10,-50,-75\n202212,prod,1,5,-50,-50\n202212,,1,5,-50,-50\n',
    )
  })

  it('draws a chart of users per month with --chart, and none for a pipe without it', () => {
    const chart = mau(['count', '--from', '202210', '--to', '202212', '--chart'], env())
    expect(chart.stdout).toMatch(/Users per month\n[\s\S]*┤[\s\S]*2022-10 +2022-11 +2022-12/)
    expect(mau(['count', '--from', '202210', '--to', '202212'], env()).stdout).not.toContain('Users per month')
  })

  it('refuses a range that runs backwards, and --scan with a range', () => {
    const backwards = mau(['count', '--from', '202212', '--to', '202210', '--json'], env())
    expect(backwards.code).toBe(2)
    expect(JSON.parse(backwards.stdout).error.message).toBe(
      '--from 202212 is after --to 202210: expected the earlier month first.',
    )
    expect(mau(['count', '--last', '3', '--scan'], env()).code).toBe(2)
  })
})

describe('mau count tables', () => {
  it('right-align numbers with separators, and leave out the source column without --by source', async () => {
    await query(
      db.settings,
      "INSERT INTO mau_summary (yearmonth, environment_namespace, source_id, users, events) VALUES ('202101', 'big', '', 1234567, 98765432)",
    )
    const r = mau(['count', '--month', '202101'], {MAU_MYSQL_URL: db.url})
    expect(r.stdout).toContain('│ big         │ 1,234,567 │ 98,765,432 │')
    expect(r.stdout).not.toContain('source')
  })
})
