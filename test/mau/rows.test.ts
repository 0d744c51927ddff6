import {describe, expect, it} from 'vitest'
import {ALL_SOURCES, type KnownUserMonths, planRows, type Row} from '../../src/mau/rows.js'

const row = (environmentNamespace: string, sourceId: string, userId: string, count = 1): Row => ({
  environmentNamespace,
  yearmonth: '202612',
  sourceId,
  userId,
  count,
  firstSeen: 1_764_547_200,
  lastSeen: 1_764_547_260,
})
const knowing = (...users: string[]): KnownUserMonths => ({
  has: (ns, ym, u) => users.includes(`${ns}/${ym}/${u}`),
})
const statements = (rows: Row[], maxBytes = 4 * 1024 * 1024, known?: KnownUserMonths) =>
  planRows(rows, maxBytes, known).trips.flatMap((t) => t.statements)

describe('planRows', () => {
  it('upserts one statement per environment, month and source, and records users once per environment and month', () => {
    const rows = [row('prod', 'IOS', 'alice', 3), row('prod', 'IOS', 'bob'), row('prod', 'WEB', 'alice', 2)]
    const sql = statements(rows).map((s) => s.sql)
    expect(sql).toHaveLength(3)
    expect(sql[0]).toContain(
      "VALUES ('prod','202612','IOS','alice',3,1764547200,1764547260),('prod','202612','IOS','bob',",
    )
    expect(sql[1]).toContain("('prod','202612','WEB','alice',2,")
    expect(sql[2]).toBe(
      "INSERT IGNORE INTO mau_user_month (environment_namespace, yearmonth, user_id) VALUES ('prod','202612','alice'),('prod','202612','bob')",
    )
  })

  it('sends all statements of a window in one round trip when the bytes allow', () => {
    const plan = planRows([row('prod', 'IOS', 'alice'), row('dev', 'WEB', 'bob')], 4 * 1024 * 1024)
    expect(plan.trips).toHaveLength(1)
    expect(plan.trips[0]!.sql.split(';\n')).toHaveLength(4)
  })

  it('escapes ids as MySQL literals, so a quote or backslash in an id stays part of it', () => {
    const [upsert] = statements([row("it's", 'IOS', 'a\\b\n\u0000"')])
    expect(upsert!.sql).toContain(`('it\\'s','202612','IOS','a\\\\b\\n\\0\\"',1,`)
  })

  it('leaves out users known present, and still counts the events of an environment-month whose users are all known', () => {
    const rows = [row('prod', 'IOS', 'alice', 3), row('prod', 'IOS', 'bob'), row('dev', 'IOS', 'carol', 4)]
    const plan = planRows(rows, 4 * 1024 * 1024, knowing('prod/202612/alice', 'dev/202612/carol'))
    const sql = plan.trips.flatMap((t) => t.statements.map((s) => s.sql))
    expect(sql.filter((s) => s.startsWith('INSERT IGNORE'))).toEqual([
      "INSERT IGNORE INTO mau_user_month (environment_namespace, yearmonth, user_id) VALUES ('prod','202612','bob')",
    ])
    expect(plan.inserted).toEqual([{environmentNamespace: 'prod', yearmonth: '202612', users: ['bob']}])
    expect(plan.known).toEqual([
      {environmentNamespace: 'dev', yearmonth: '202612', sourceId: ALL_SOURCES, users: 0, events: 4},
    ])
  })

  it('turns affected rows into summary deltas: new users of a source, and new users of the month with its events once', () => {
    const rows = [row('prod', 'IOS', 'alice', 3), row('prod', 'IOS', 'bob', 2)]
    const [upsert, users] = statements(rows)
    // alice inserted (1), bob updated (2)
    expect(upsert!.delta(3)).toEqual({
      environmentNamespace: 'prod',
      yearmonth: '202612',
      sourceId: 'IOS',
      users: 1,
      events: 5,
    })
    expect(users!.delta(1)).toMatchObject({sourceId: ALL_SOURCES, users: 1, events: 5})
  })

  it('cuts a statement that would outgrow the byte limit, the month events going with its first piece only', () => {
    const rows = Array.from({length: 40}, (_, i) => row('prod', 'IOS', `user-${String(i).padStart(3, '0')}`))
    const all = statements(rows, 2_000)
    const upserts = all.filter((s) => s.sql.startsWith('INSERT INTO mau '))
    const users = all.filter((s) => s.sql.startsWith('INSERT IGNORE'))
    expect(upserts.length).toBeGreaterThan(1)
    expect(upserts.reduce((a, s) => a + s.rows, 0)).toBe(40)
    expect(users.length).toBeGreaterThan(1)
    expect(users.map((s) => s.delta(0).events)).toEqual([40, ...users.slice(1).map(() => 0)])
    for (const s of all) expect(s.sql.length).toBeLessThanOrEqual(2_000)
  })
})
