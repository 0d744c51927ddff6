import {describe, expect, it} from 'vitest'
import {mayRead, role, roleOf, ROLES} from '../../src/core/roles.js'
import {grantStatements} from '../../src/schema/roles.js'

describe('roleOf', () => {
  it('names the role each command needs, by oclif id or as typed', () => {
    expect(roleOf('consume')).toBe('consumer')
    expect(roleOf('deadletter:replay')).toBe('consumer')
    expect(roleOf('serve')).toBe('server')
    expect(roleOf('report send')).toBe('reporter')
    expect(roleOf('partitions:rotate')).toBe('operator')
    expect(roleOf('verify-migration')).toBe('auditor')
    expect(roleOf('db:grants')).toBeUndefined()
  })

  it('covers every command that touches MySQL, each in one role', () => {
    const commands = ROLES.flatMap((r) => r.commands)
    expect(new Set(commands).size).toBe(commands.length)
    expect(commands.sort()).toEqual([
      'backfill',
      'consume',
      'count',
      'db migrate',
      'db status',
      'db timezone',
      'deadletter list',
      'deadletter purge',
      'deadletter replay',
      'doctor',
      'offsets ack-loss',
      'offsets list',
      'offsets reset',
      'partitions list',
      'partitions rotate',
      'report send',
      'report show',
      'serve',
      'summary check',
      'summary rebuild',
      'verify-migration',
    ])
  })

  it('gives the consumer and the server no privilege that changes the schema', () => {
    for (const name of ['consumer', 'server'] as const) {
      const privileges = role(name).grants.flatMap((g) => g.privileges)
      expect(privileges.filter((p) => /ALL|DROP|ALTER|CREATE|INDEX|LOCK|TRUNCATE/.test(p))).toEqual([])
      expect(role(name).grants.every((g) => g.table !== '*')).toBe(true)
    }
    expect(role('server').grants.flatMap((g) => g.privileges)).toEqual(['SELECT', 'SELECT', 'SELECT', 'SELECT'])
    expect(ROLES.filter((r) => r.grants.some((g) => g.grantOption)).map((r) => r.name)).toEqual(['operator'])
  })

  it('says which roles read the recorded losses and which talk to Kafka: what doctor --role checks', () => {
    expect(ROLES.filter((r) => mayRead(r, 'mau_offset_loss')).map((r) => r.name)).toEqual([
      'consumer',
      'operator',
      'auditor',
    ])
    expect(ROLES.filter((r) => !r.kafka).map((r) => r.name)).toEqual(['server', 'reporter'])
  })
})

describe('grantStatements', () => {
  it("creates the account locked, revokes what it had, grants table by table, records it as the role's, with names quoted", () => {
    const lines = grantStatements(role('reporter'), {user: "o'brien", host: '10.0.%'}, 'mau`prod')
    expect(lines.filter((l) => !l.startsWith('--'))).toEqual([
      "CREATE USER IF NOT EXISTS 'o\\'brien'@'10.0.%' ACCOUNT LOCK;",
      "REVOKE ALL PRIVILEGES, GRANT OPTION FROM 'o\\'brien'@'10.0.%';",
      "GRANT SELECT ON `mau``prod`.`mau_summary` TO 'o\\'brien'@'10.0.%';",
      "GRANT SELECT ON `mau``prod`.`mau_month_total` TO 'o\\'brien'@'10.0.%';",
      "GRANT SELECT, INSERT, UPDATE ON `mau``prod`.`mau_report_delivery` TO 'o\\'brien'@'10.0.%';",
      "GRANT SELECT, INSERT, DELETE ON `mau``prod`.`mau_report_figure` TO 'o\\'brien'@'10.0.%';",
      "GRANT SELECT ON `mau``prod`.`mau_setting` TO 'o\\'brien'@'10.0.%';",
      "GRANT SELECT ON `mau``prod`.`mau_schema_version` TO 'o\\'brien'@'10.0.%';",
      "REPLACE INTO `mau``prod`.`mau_role_account` (user_name, host, role, granted_at) VALUES ('o\\'brien', '10.0.%', 'reporter', UNIX_TIMESTAMP());",
    ])
    expect(lines[0]).toMatch(/^-- role reporter: /)
  })

  it('grants the operator and the auditor the whole database, the operator with GRANT OPTION there only', () => {
    expect(grantStatements(role('operator'), {user: 'op', host: '%'}, 'mau')).toContain(
      "GRANT ALL PRIVILEGES ON `mau`.* TO 'op'@'%' WITH GRANT OPTION;",
    )
    expect(grantStatements(role('auditor'), {user: 'au', host: '%'}, 'mau')).toContain(
      "GRANT SELECT ON `mau`.* TO 'au'@'%';",
    )
  })
})
