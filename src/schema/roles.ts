/**
 * Least privilege: the MySQL roles `mau`'s workloads run as, defined once. Each role is the least its
 * commands need, table by table; `mau db grants` turns a role into CREATE USER / GRANT statements valid on
 * MariaDB 10.11 and MySQL 8, `mau doctor --role` names what a user lacks, and a command refused by MySQL
 * for a privilege points at the role that runs it (core/db.ts).
 */
import type {RowDataPacket} from 'mysql2/promise'
import type {Queryable} from '../core/db.js'

export const ROLE_NAMES = ['consumer', 'server', 'reporter', 'operator', 'auditor'] as const
export type RoleName = (typeof ROLE_NAMES)[number]

/** Privileges on one table, or on every table of the database ('*'). */
export interface Grant {
  privileges: string[]
  table: string
}

export interface Role {
  name: RoleName
  summary: string
  /** The commands it runs, as typed ("deadletter replay"). */
  commands: string[]
  grants: Grant[]
}

const ROWS = ['SELECT', 'INSERT', 'UPDATE']
/** Every role reads the schema version, so that `mau doctor` can say whether the schema is current. */
const VERSION: Grant = {privileges: ['SELECT'], table: 'mau_schema_version'}

/** The table of roles: commands, and the privileges on which tables. The first role naming a command is the one it needs. */
export const ROLES: readonly Role[] = [
  {
    name: 'consumer',
    summary: 'the long-running consumer: writes rows, counters, offsets and dead letters; no DDL',
    commands: ['consume', 'deadletter replay', 'deadletter purge'],
    grants: [
      {privileges: ROWS, table: 'mau'},
      {privileges: ['SELECT', 'INSERT'], table: 'mau_user_month'},
      {privileges: ROWS, table: 'mau_summary'},
      // SELECT ... FOR UPDATE wants UPDATE beside SELECT on MySQL 8.
      {privileges: ROWS, table: 'mau_consumer_offset'},
      {privileges: ['SELECT', 'INSERT', 'DELETE'], table: 'mau_dead_letter'},
      // Messages Kafka deleted before they were applied, recorded where the consumer finds them.
      {privileges: ['SELECT', 'INSERT'], table: 'mau_offset_loss'},
      // The retention it obeys, and which months were reported (late events to those are counted).
      {privileges: ['SELECT'], table: 'mau_setting'},
      {privileges: ['SELECT'], table: 'mau_report_delivery'},
      VERSION,
    ],
  },
  {
    name: 'server',
    summary: 'mau serve, public-facing: reads the summary counters only',
    commands: ['serve'],
    grants: [{privileges: ['SELECT'], table: 'mau_summary'}, {privileges: ['SELECT'], table: 'mau_month_total'}, VERSION],
  },
  {
    name: 'reporter',
    summary: 'the monthly report: reads counters, records what it delivered',
    commands: ['report send', 'report show'],
    grants: [
      {privileges: ['SELECT'], table: 'mau_summary'},
      {privileges: ['SELECT'], table: 'mau_month_total'},
      {privileges: ROWS, table: 'mau_report_delivery'},
      {privileges: ['SELECT', 'INSERT', 'DELETE'], table: 'mau_report_figure'},
      VERSION,
    ],
  },
  {
    name: 'operator',
    summary: 'schema, partitions and table-level work (DDL): migrations, rotate, rebuilds, backfill',
    commands: ['db migrate', 'partitions rotate', 'summary rebuild', 'backfill', 'offsets reset', 'offsets ack-loss'],
    grants: [{privileges: ['ALL PRIVILEGES'], table: '*'}],
  },
  {
    name: 'auditor',
    summary: 'read-only checks: counts, parity with Druid, health, the schema and partitions',
    commands: ['count', 'verify-migration', 'doctor', 'summary check', 'db status', 'partitions list', 'deadletter list', 'offsets list'],
    grants: [{privileges: ['SELECT'], table: '*'}],
  },
]

export const role = (name: RoleName): Role => ROLES.find((r) => r.name === name)!

/** Pure: the role a command needs, by its oclif id ("deadletter:replay") or as typed. */
export function roleOf(commandId: string | undefined): RoleName | undefined {
  const typed = commandId?.replace(/:/g, ' ')
  return ROLES.find((r) => r.commands.includes(typed ?? ''))?.name
}

/** MySQL's quoting of a name in an account ('u'@'h') or a string: backslashes and quotes escaped. */
const quote = (s: string) => `'${s.replace(/\\/g, '\\\\').replace(/'/g, "\\'")}'`
const ident = (s: string) => `\`${s.replace(/`/g, '``')}\``

export interface Account {
  user: string
  host: string
}

export const account = (a: Account): string => `${quote(a.user)}@${quote(a.host)}`

/**
 * Pure: the statements that make `a` exactly the role, one per line, comments starting with "--", to pipe
 * into the mysql client. The account is created locked, since no password is ever printed; `--apply` (or the
 * ALTER USER the comment shows) sets one and unlocks it. Every earlier grant is revoked first, so that a
 * user moved to a lesser role keeps nothing of the old one.
 */
export function grantStatements(r: Role, a: Account, database: string): string[] {
  const who = account(a)
  return [
    `-- role ${r.name}: ${r.summary}`,
    `-- runs: ${r.commands.map((c) => `mau ${c}`).join(', ')}`,
    `CREATE USER IF NOT EXISTS ${who} ACCOUNT LOCK;`,
    `REVOKE ALL PRIVILEGES, GRANT OPTION FROM ${who};`,
    ...r.grants.map((g) => `GRANT ${g.privileges.join(', ')} ON ${ident(database)}.${g.table === '*' ? '*' : ident(g.table)} TO ${who};`),
    `-- then, with its password: ALTER USER ${who} IDENTIFIED BY '...' ACCOUNT UNLOCK;  (or mau db grants --apply)`,
  ]
}

/** Runs the statements with the operator's handle, then sets the password and unlocks the account; the password goes only as a parameter. */
export async function applyGrants(db: Queryable, r: Role, a: Account, database: string, password: string): Promise<string[]> {
  const statements = grantStatements(r, a, database).filter((s) => !s.startsWith('--'))
  for (const s of statements) await db.query(s)
  await db.query(`ALTER USER ${account(a)} IDENTIFIED BY ? ACCOUNT UNLOCK`, [password])
  return [...statements, `ALTER USER ${account(a)} IDENTIFIED BY '***' ACCOUNT UNLOCK;`]
}

export interface Missing {
  privilege: string
  table: string
}

/**
 * What the connected user lacks of a role, from information_schema (which shows a user its own privileges):
 * global, database and table grants all count. ALL PRIVILEGES is checked as the DDL the operator runs.
 */
export async function missingPrivileges(db: Queryable, r: Role, database: string): Promise<Missing[]> {
  const [rows] = await db.query<RowDataPacket[]>(
    `SELECT PRIVILEGE_TYPE AS p, '*' AS t FROM information_schema.USER_PRIVILEGES WHERE GRANTEE = CURRENT_GRANTEE()
     UNION ALL SELECT PRIVILEGE_TYPE, '*' FROM information_schema.SCHEMA_PRIVILEGES WHERE GRANTEE = CURRENT_GRANTEE() AND TABLE_SCHEMA = ?
     UNION ALL SELECT PRIVILEGE_TYPE, TABLE_NAME FROM information_schema.TABLE_PRIVILEGES WHERE GRANTEE = CURRENT_GRANTEE() AND TABLE_SCHEMA = ?`.replace(/CURRENT_GRANTEE\(\)/g, GRANTEE),
    [database, database],
  )
  const held = new Set(rows.map((row) => `${String(row.p)}\u0000${String(row.t)}`))
  const has = (p: string, table: string) => held.has(`${p}\u0000*`) || held.has(`${p}\u0000${table}`)
  const missing: Missing[] = []
  for (const g of r.grants) {
    for (const p of g.privileges.flatMap((x) => (x === 'ALL PRIVILEGES' ? OPERATOR_NEEDS : [x]))) if (!has(p, g.table)) missing.push({privilege: p, table: g.table})
  }
  return missing
}

/** What ALL PRIVILEGES stands for when checking: the statements migrations and rotate run. */
const OPERATOR_NEEDS = ['SELECT', 'INSERT', 'UPDATE', 'DELETE', 'CREATE', 'DROP', 'ALTER', 'INDEX', 'CREATE TEMPORARY TABLES', 'LOCK TABLES']

/** The grantee as information_schema writes it ('user'@'host'), for the account this connection authenticated as. */
const GRANTEE = "CONCAT('''', SUBSTRING_INDEX(CURRENT_USER(), '@', 1), '''@''', SUBSTRING_INDEX(CURRENT_USER(), '@', -1), '''')"
