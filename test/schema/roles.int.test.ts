/**
 * Least privilege against the real MariaDB with real users, one per role, made by `mau db grants --apply`:
 * each command works under its role, a lesser role is refused with the privilege named and the role to
 * grant, the consumer and the server cannot change the schema, and no password appears in any output.
 */
import {randomBytes} from 'node:crypto'
import {tmpdir} from 'node:os'
import mysql from 'mysql2/promise'
import {afterAll, beforeAll, describe, expect, it} from 'vitest'
import {role, ROLE_NAMES, type RoleName} from '../../src/core/roles.js'
import {DECEMBER_2022, produce, query} from '../fixtures/mau.js'
import {startServe} from '../fixtures/serve.js'
import {createTestDatabase, createTopic, groupOf, type TestDatabase} from '../fixtures/services.js'
import {mauAsync} from '../helpers/cli.js'

let db: TestDatabase
let topic: {topic: string; drop: () => Promise<void>}
const suffix = randomBytes(3).toString('hex')
const users = Object.fromEntries(
  ROLE_NAMES.map((r) => [r, {user: `mau_${r}_${suffix}`, password: `pw-${r}-${randomBytes(8).toString('hex')}`}]),
) as Record<RoleName, {user: string; password: string}>
const passwords = Object.values(users).map((u) => u.password)
const outputs: string[] = []
const oldOperator = `mau_op010_${suffix}`

/** The CLI as one role's user: its URL has no password; the password comes from the environment, as in a pod. */
async function as(r: RoleName, args: string[], extra: Record<string, string> = {}) {
  const url = db.url.replace('//root@', `//${users[r].user}@`)
  const out = await mauAsync(args, {MAU_MYSQL_URL: url, MAU_MYSQL_PASSWORD: users[r].password, ...extra})
  outputs.push(out.stdout, out.stderr)
  return out
}

beforeAll(async () => {
  db = await createTestDatabase({migrated: true})
  for (const r of ROLE_NAMES) {
    const out = await mauAsync(['db', 'grants', '--role', r, '--user', users[r].user, '--apply', '--json'], {
      MAU_MYSQL_URL: db.url,
      MAU_GRANTS_PASSWORD: users[r].password,
    })
    outputs.push(out.stdout, out.stderr)
    expect(out.code).toBe(0)
  }
  topic = await createTopic(1)
  await produce(
    topic.topic,
    [1, 2, 3]
      .map((i) =>
        JSON.stringify({environment_id: 'prod', user_id: `u${i}`, source_id: 'IOS', last_seen: DECEMBER_2022.from + i}),
      )
      .concat(['{broken']),
  )
})
afterAll(async () => {
  await topic?.drop()
  const conn = await mysql.createConnection({host: db.settings.host, port: db.settings.port, user: 'root'})
  for (const user of [...Object.values(users).map((u) => u.user), oldOperator])
    await conn.query(`DROP USER IF EXISTS '${user}'@'%'`)
  await conn.end()
  await db.drop()
})

describe('each command under its role', () => {
  it('consumer: consume, deadletter replay and purge', async () => {
    const consumed = await as('consumer', [
      'consume',
      '--topic',
      topic.topic,
      '--group',
      groupOf(topic.topic),
      '--stop-at-end',
      '--json',
    ])
    expect(consumed.code).toBe(0)
    expect(JSON.parse(consumed.stdout)).toMatchObject({consumed: 4, deadLettered: 1})
    expect((await as('consumer', ['deadletter', 'replay', '--json'])).code).toBe(0)
    expect((await as('consumer', ['deadletter', 'purge', '--before', '2000-01-01', '--json'])).code).toBe(0)
  })

  it('server: serve answers from the counters', async () => {
    const url = db.url.replace('//root@', `//${users.server.user}@`)
    const served = await startServe({MAU_MYSQL_URL: url, MAU_MYSQL_PASSWORD: users.server.password})
    try {
      expect(await (await served.http('/v1/mau_count?environment_id=prod&year_month=202212')).json()).toEqual({
        eventCount: '3',
        userCount: '3',
      })
    } finally {
      await served.stop()
      outputs.push(served.stderr())
    }
  })

  it('reporter: report send and show', async () => {
    expect((await as('reporter', ['report', 'send', '--month', '202212', '--to', 'stdout', '--json'])).code).toBe(0)
    expect((await as('reporter', ['report', 'show', '--month', '202212', '--json'])).code).toBe(0)
  })

  it('operator: db migrate, partitions rotate, summary rebuild', async () => {
    for (const args of [
      ['db', 'migrate'],
      ['partitions', 'rotate', '--retain-months', '120'],
      ['summary', 'rebuild', '--month', '202212'],
    ]) {
      const r = await as('operator', [...args, '--json'])
      expect([args.join(' '), r.code]).toEqual([args.join(' '), 0])
    }
  })

  it('auditor: count, summary check, db status, partitions list, deadletter list, doctor --role auditor', async () => {
    for (const args of [
      ['count', '--month', '202212'],
      ['count', '--month', '202212', '--scan'],
      ['summary', 'check', '--month', '202212'],
      ['db', 'status'],
      ['partitions', 'list'],
      ['deadletter', 'list'],
      ['doctor', '--role', 'auditor', '--topic', topic.topic],
    ]) {
      const r = await as('auditor', [...args, '--json'])
      expect([args.join(' '), r.code, r.stderr]).toEqual([args.join(' '), 0, ''])
    }
  })
})

describe("doctor --role, run as the role's own user", () => {
  it.each([
    ['consumer', ['mysql', 'schema', 'role consumer', 'timezone', 'losses', 'kafka', 'topic']],
    ['server', ['mysql', 'schema', 'role server', 'timezone']],
    ['reporter', ['mysql', 'schema', 'role reporter', 'timezone']],
    ['operator', ['mysql', 'schema', 'role operator', 'timezone', 'losses', 'kafka', 'topic']],
    ['auditor', ['mysql', 'schema', 'role auditor', 'timezone', 'losses', 'kafka', 'topic']],
  ] as const)('%s: checks only what the role does, and passes on a correct install', async (r, names) => {
    const out = await as(r, ['doctor', '--role', r, '--topic', topic.topic, '--json'])
    const checks = JSON.parse(out.stdout).checks as {name: string; ok: boolean}[]
    expect([out.code, checks.filter((c) => !c.ok)]).toEqual([0, []])
    expect(checks.map((c) => (c.name.split(' ')[0] === 'topic' ? 'topic' : c.name))).toEqual(names)
  })
})

describe('a lesser role', () => {
  it.each([
    [
      'consumer',
      ['partitions', 'rotate', '--ahead-months', '24'],
      /^MySQL refused [A-Z, ]+ on (mau|mau_user_month|mau_setting) for mau_consumer_\w+\.$/,
      'operator',
    ],
    [
      'auditor',
      ['report', 'send', '--month', '202212', '--to', `file:${tmpdir()}/mau-report-${suffix}.json`],
      /^MySQL refused (INSERT|UPDATE)(, UPDATE)? on mau_report_delivery for mau_auditor_\w+\.$/,
      'reporter',
    ],
    [
      'server',
      ['consume', '--topic', 'x', '--stop-at-end'],
      /^MySQL refused SELECT on mau_consumer_offset for mau_server_\w+\.$/,
      'consumer',
    ],
    [
      'reporter',
      ['summary', 'rebuild', '--month', '202212'],
      /^MySQL refused \w+ on (mau|mau_summary|mau_setting) for mau_reporter_\w+\.$/,
      'operator',
    ],
  ] as const)('%s running %j exits 2 naming the privilege, and the role to grant', async (r, args, message, needed) => {
    const out = await as(r, [...args, '--json'])
    expect(out.code).toBe(2)
    const {error} = JSON.parse(out.stdout)
    expect(error.message).toMatch(message)
    expect(error.suggestions[0]).toMatch(new RegExp(`^mau db grants --role ${needed} --user ${users[r].user}`))
    expect(out.stderr).not.toMatch(/\n\s+at /)
  })

  it('doctor --role names each privilege a user lacks, and exits 2', async () => {
    const out = await as('server', ['doctor', '--role', 'consumer', '--topic', topic.topic, '--json'])
    expect(out.code).toBe(2)
    const check = JSON.parse(out.stdout).checks.find((c: {name: string}) => c.name === 'role consumer')
    expect(check).toMatchObject({ok: false, detail: expect.stringContaining('lacks SELECT on mau, INSERT on mau')})
  })
})

describe('the consumer and the server', () => {
  it.each(['consumer', 'server'] as const)('%s cannot drop, alter or truncate anything', async (r) => {
    const conn = await mysql.createConnection({
      host: db.settings.host,
      port: db.settings.port,
      user: users[r].user,
      password: users[r].password,
      database: db.settings.database,
    })
    try {
      for (const sql of [
        'DROP TABLE mau',
        'TRUNCATE TABLE mau_summary',
        'ALTER TABLE mau DROP PARTITION pmax',
        'ALTER TABLE mau_summary ADD COLUMN x INT',
        'DROP DATABASE `' + db.settings.database + '`',
        'CREATE TABLE evil (x INT)',
      ]) {
        const refused = await conn.query(sql).then(
          () => null,
          (e: {code?: string}) => e.code,
        )
        expect([sql, refused]).toEqual([
          sql,
          expect.stringMatching(/^ER_(TABLEACCESS|DBACCESS|SPECIFIC_ACCESS)_DENIED_ERROR$/),
        ])
      }
    } finally {
      await conn.end()
    }
    expect(await query(db.settings, 'SELECT COUNT(*) AS n FROM mau')).toEqual([{n: 3}])
  })
})

describe('db migrate as the operator', () => {
  /** What an account holds on the test database, as root sees it: "table privilege" ('*' for the database's level). */
  async function held(user: string): Promise<string[]> {
    const rows = await query(
      db.settings,
      `SELECT '*' AS t, PRIVILEGE_TYPE AS p FROM information_schema.SCHEMA_PRIVILEGES WHERE GRANTEE = ? AND TABLE_SCHEMA = ?
      UNION ALL SELECT TABLE_NAME, PRIVILEGE_TYPE FROM information_schema.TABLE_PRIVILEGES WHERE GRANTEE = ? AND TABLE_SCHEMA = ?`,
      [`'${user}'@'%'`, db.settings.database, `'${user}'@'%'`, db.settings.database],
    )
    return rows.map((r) => `${r.t} ${r.p}`).sort()
  }
  const exactly = (r: RoleName) =>
    role(r)
      .grants.flatMap((g) => g.privileges.map((p) => `${g.table} ${p}`))
      .sort()

  it("gives each recorded account exactly its role's rights: what a release's new table needs, and nothing more", async () => {
    // What a release that adds a table leaves (no rights on it), and rights granted by hand beside the roles.
    const root = {...db.settings}
    await query(
      root,
      `REVOKE SELECT, INSERT ON \`${db.settings.database}\`.mau_offset_loss FROM '${users.consumer.user}'@'%'`,
    )
    await query(root, `GRANT DELETE ON \`${db.settings.database}\`.mau_summary TO '${users.consumer.user}'@'%'`)
    await query(root, `GRANT SELECT, INSERT ON \`${db.settings.database}\`.* TO '${users.server.user}'@'%'`)
    expect((await as('consumer', ['doctor', '--role', 'consumer', '--topic', topic.topic])).code).toBe(2)

    const out = await as('operator', ['db', 'migrate', '--json'])
    expect(out.code).toBe(0)
    expect(
      JSON.parse(out.stdout)
        .roles.granted.map((a: {role: string}) => a.role)
        .sort(),
    ).toEqual([...ROLE_NAMES].sort())
    for (const r of ['consumer', 'server', 'reporter'] as const)
      expect([r, await held(users[r].user)]).toEqual([r, exactly(r)])
    expect(await held(users.auditor.user)).toEqual(['* SELECT'])
    expect((await as('consumer', ['doctor', '--role', 'consumer', '--topic', topic.topic])).code).toBe(0)
  })

  it('refuses, exit 2, when the operator may not grant (as mau 0.1.0 made it), naming GRANT OPTION; nothing is revoked', async () => {
    const before = await held(users.consumer.user)
    await query(db.settings, `CREATE USER '${oldOperator}'@'%' IDENTIFIED BY '${users.operator.password}'`)
    await query(db.settings, `GRANT ALL PRIVILEGES ON \`${db.settings.database}\`.* TO '${oldOperator}'@'%'`)
    const env = {
      MAU_MYSQL_URL: db.url.replace('//root@', `//${oldOperator}@`),
      MAU_MYSQL_PASSWORD: users.operator.password,
    }
    const out = await mauAsync(['db', 'migrate', '--json'], env)
    expect(out.code).toBe(2)
    expect(JSON.parse(out.stdout).error).toMatchObject({
      code: 'MIGRATE_CANNOT_GRANT',
      message: expect.stringContaining('GRANT OPTION'),
    })
    const doctor = await mauAsync(['doctor', '--role', 'operator', '--topic', topic.topic, '--json'], env)
    expect([
      doctor.code,
      JSON.parse(doctor.stdout).checks.find((c: {name: string}) => c.name === 'role operator').detail,
    ]).toEqual([2, `${oldOperator} lacks GRANT OPTION on *`])
    expect(await held(users.consumer.user)).toEqual(before)
  })
})

describe('passwords', () => {
  it('never appear in any output, a failed connection included', async () => {
    await as('auditor', ['count', '--json'], {MAU_MYSQL_PASSWORD: `${users.auditor.password}-wrong`})
    await as('auditor', ['count'], {MAU_MYSQL_PASSWORD: `${users.auditor.password}-wrong`, MAU_LOG_LEVEL: 'debug'})
    const withUrl = await mauAsync(['count', '--json'], {
      MAU_MYSQL_URL: db.url.replace('//root@', `//${users.auditor.user}:${users.auditor.password}x@`),
    })
    outputs.push(withUrl.stdout, withUrl.stderr)
    expect(withUrl.code).toBe(2)
    const all = outputs.join('\n')
    expect(all.length).toBeGreaterThan(1000)
    for (const p of passwords) expect(all).not.toContain(p)
  })
})
