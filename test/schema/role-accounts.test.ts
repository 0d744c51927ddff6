import {readdirSync, readFileSync} from 'node:fs'
import {describe, expect, it} from 'vitest'
import {role, ROLES} from '../../src/core/roles.js'
import {MIGRATIONS_DIR} from '../../src/schema/migrate.js'
import {adoptable, followStatements, tablesCreated, type HeldPrivilege} from '../../src/schema/role-accounts.js'

const migrations = readdirSync(MIGRATIONS_DIR)
  .filter((f) => /^\d+\.do\..*\.sql$/.test(f))
  .map((f) => ({version: Number(f.split('.')[0]), sql: readFileSync(`${MIGRATIONS_DIR}/${f}`, 'utf8')}))
const since = tablesCreated(migrations)

describe('tablesCreated', () => {
  it('names the migration that creates each table a role is granted on', () => {
    expect(since.get('mau')).toBe(1)
    expect(since.get('mau_offset_loss')).toBe(9)
    expect(since.get('mau_role_account')).toBe(10)
    // Every table of a role but postgrator's own version table is created by some migration.
    const tables = ROLES.flatMap((r) => r.grants.map((g) => g.table)).filter(
      (t) => t !== '*' && t !== 'mau_schema_version',
    )
    expect(tables.filter((t) => !since.has(t))).toEqual([])
  })
})

describe('followStatements', () => {
  it('grants the role table by table, then revokes at each level whatever else an account could hold', () => {
    const {grants, revokes} = followStatements(role('server'), {user: 's', host: '%'}, 'mau', ['mau', 'mau_summary'])
    expect(grants).toEqual([
      "GRANT SELECT ON `mau`.`mau_summary` TO 's'@'%'",
      "GRANT SELECT ON `mau`.`mau_month_total` TO 's'@'%'",
      "GRANT SELECT ON `mau`.`mau_setting` TO 's'@'%'",
      "GRANT SELECT ON `mau`.`mau_schema_version` TO 's'@'%'",
    ])
    expect(revokes[0]).toMatch(/^REVOKE SELECT, INSERT, .*, EVENT, GRANT OPTION ON `mau`\.\* FROM 's'@'%'$/)
    expect(revokes[1]).toMatch(
      /^REVOKE SELECT, INSERT, UPDATE, .*, TRIGGER, GRANT OPTION ON `mau`\.`mau` FROM 's'@'%'$/,
    )
    // On a table it reads, everything but SELECT.
    expect(revokes[2]).toMatch(/^REVOKE INSERT, UPDATE, .*, GRANT OPTION ON `mau`\.`mau_summary` FROM 's'@'%'$/)
    expect(revokes).toHaveLength(3)
  })

  it('leaves the operator all of the database with GRANT OPTION, and the auditor SELECT on it and nothing more', () => {
    expect(followStatements(role('operator'), {user: 'o', host: '%'}, 'mau', ['mau'])).toEqual({
      grants: ["GRANT ALL PRIVILEGES ON `mau`.* TO 'o'@'%' WITH GRANT OPTION"],
      revokes: [],
    })
    const auditor = followStatements(role('auditor'), {user: 'a', host: '%'}, 'mau', ['mau'])
    expect(auditor.grants).toEqual(["GRANT SELECT ON `mau`.* TO 'a'@'%'"])
    expect(
      auditor.revokes.every((s) => /^REVOKE INSERT, /.test(s) && s.includes('GRANT OPTION') && !s.includes('SELECT')),
    ).toBe(true)
  })
})

describe('adoptable', () => {
  const held = (grantee: string, grants: [string, string[]][]): HeldPrivilege[] =>
    grants.flatMap(([table, ps]) => ps.map((privilege) => ({grantee, table, privilege})))
  const asOf = (name: 'consumer' | 'server' | 'reporter', version: number): [string, string[]][] =>
    role(name)
      .grants.filter((g) => Math.max(since.get(g.table) ?? 0, g.since ?? 0) <= version)
      .map((g) => [g.table, g.privileges])
  const ALL = [
    'SELECT',
    'INSERT',
    'UPDATE',
    'DELETE',
    'CREATE',
    'DROP',
    'REFERENCES',
    'INDEX',
    'ALTER',
    'CREATE VIEW',
    'SHOW VIEW',
    'TRIGGER',
    'CREATE TEMPORARY TABLES',
    'LOCK TABLES',
    'EXECUTE',
    'CREATE ROUTINE',
    'ALTER ROUTINE',
    'EVENT',
    'DELETE HISTORY',
  ]

  it('recognises the rights 0.1.0 gave, before a role gained a grant on a table it already had (the zone in mau_setting)', () => {
    const found = adoptable(
      [
        ...held("'s'@'%'", [
          ['mau_summary', ['SELECT']],
          ['mau_month_total', ['SELECT']],
          ['mau_schema_version', ['SELECT']],
        ]),
        ...held("'c'@'%'", [
          ['mau', ['SELECT', 'INSERT', 'UPDATE']],
          ['mau_user_month', ['SELECT', 'INSERT']],
          ['mau_summary', ['SELECT', 'INSERT', 'UPDATE']],
          ['mau_consumer_offset', ['SELECT', 'INSERT', 'UPDATE']],
          ['mau_dead_letter', ['SELECT', 'INSERT', 'DELETE']],
          ['mau_setting', ['SELECT']],
          ['mau_report_delivery', ['SELECT']],
          ['mau_schema_version', ['SELECT']],
        ]),
      ],
      since,
    )
    expect(found).toEqual([
      {user: 's', host: '%', role: 'server'},
      {user: 'c', host: '%', role: 'consumer'},
    ])
  })

  it("recognises the accounts an earlier version's db grants made, each as its role", () => {
    const found = adoptable(
      [
        ...held("'c'@'%'", asOf('consumer', 8)),
        ...held("'s'@'10.%'", asOf('server', 8)),
        ...held("'r'@'%'", asOf('reporter', 10)),
        ...held("'o'@'%'", [['*', ALL]]),
        ...held("'a'@'%'", [['*', ['SELECT']]]),
      ],
      since,
    )
    expect(found).toEqual([
      {user: 'c', host: '%', role: 'consumer'},
      {user: 's', host: '10.%', role: 'server'},
      {user: 'r', host: '%', role: 'reporter'},
      {user: 'o', host: '%', role: 'operator'},
      {user: 'a', host: '%', role: 'auditor'},
    ])
  })

  it('leaves alone an account holding less or more than a role, or rights of its own', () => {
    const consumer = asOf('consumer', 8)
    const found = adoptable(
      [
        ...held("'less'@'%'", consumer.slice(1)),
        ...held("'more'@'%'", [...consumer, ['mau_month_total', ['SELECT']]]),
        ...held("'wider'@'%'", [...consumer, ['*', ['SELECT']]]),
        ...held("'dashboard'@'%'", [['mau_summary', ['SELECT']]]),
        ...held("'ddl'@'%'", [['*', ['SELECT', 'CREATE', 'DROP']]]),
      ],
      since,
    )
    expect(found).toEqual([])
  })
})
