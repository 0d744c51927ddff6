/**
 * The roles of core/roles.ts as SQL: `mau db grants` turns a role into CREATE USER / GRANT statements valid
 * on MariaDB 10.11 and MySQL 8, and `mau doctor --role` names what a user lacks.
 */
import type {RowDataPacket} from 'mysql2/promise'
import type {Queryable} from '../core/db.js'
import type {Grant, Role} from '../core/roles.js'

/** MySQL's quoting of a name in an account ('u'@'h') or a string: backslashes and quotes escaped. */
const quote = (s: string) => `'${s.replace(/\\/g, '\\\\').replace(/'/g, "\\'")}'`
const ident = (s: string) => `\`${s.replace(/`/g, '``')}\``

export interface Account {
  user: string
  host: string
}

export const account = (a: Account): string => `${quote(a.user)}@${quote(a.host)}`
export const dbIdent = (database: string): string => ident(database)
export const tableIdent = (database: string, table: string): string => `${ident(database)}.${ident(table)}`

/** Pure: one grant of a role as a GRANT statement (without its semicolon). */
export const grantOf = (g: Grant, a: Account, database: string): string =>
  `GRANT ${g.privileges.join(', ')} ON ${g.table === '*' ? `${ident(database)}.*` : tableIdent(database, g.table)} TO ${account(a)}${g.grantOption ? ' WITH GRANT OPTION' : ''}`

/**
 * Pure: the statements that make `a` exactly the role, one per line, comments starting with "--", to pipe
 * into the mysql client. The account is created locked, since no password is ever printed; `--apply` (or the
 * ALTER USER the comment shows) sets one and unlocks it. Every earlier grant is revoked first, so that a
 * user moved to a lesser role keeps nothing of the old one. The account is recorded as the role's
 * (mau_role_account), so that `mau db migrate` gives it the rights a later release's tables need.
 */
export function grantStatements(r: Role, a: Account, database: string): string[] {
  const who = account(a)
  return [
    `-- role ${r.name}: ${r.summary}`,
    `-- runs: ${r.commands.map((c) => `mau ${c}`).join(', ')}`,
    `CREATE USER IF NOT EXISTS ${who} ACCOUNT LOCK;`,
    `REVOKE ALL PRIVILEGES, GRANT OPTION FROM ${who};`,
    ...r.grants.map((g) => `${grantOf(g, a, database)};`),
    `REPLACE INTO ${tableIdent(database, 'mau_role_account')} (user_name, host, role, granted_at) VALUES (${quote(a.user)}, ${quote(a.host)}, ${quote(r.name)}, UNIX_TIMESTAMP());`,
    `-- then, with its password: ALTER USER ${who} IDENTIFIED BY '...' ACCOUNT UNLOCK;  (or mau db grants --apply)`,
  ]
}

/** Runs the statements with the operator's handle, then sets the password and unlocks the account; the password goes only as a parameter. */
export async function applyGrants(
  db: Queryable,
  r: Role,
  a: Account,
  database: string,
  password: string,
): Promise<string[]> {
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
 * global, database and table grants all count. ALL PRIVILEGES is checked as the DDL the operator runs, and
 * its GRANT OPTION (with which `mau db migrate` gives the roles their rights).
 */
export async function missingPrivileges(db: Queryable, r: Role, database: string): Promise<Missing[]> {
  const [rows] = await db.query<RowDataPacket[]>(
    `SELECT PRIVILEGE_TYPE AS p, '*' AS t, IS_GRANTABLE AS o FROM information_schema.USER_PRIVILEGES WHERE GRANTEE = CURRENT_GRANTEE()
     UNION ALL SELECT PRIVILEGE_TYPE, '*', IS_GRANTABLE FROM information_schema.SCHEMA_PRIVILEGES WHERE GRANTEE = CURRENT_GRANTEE() AND TABLE_SCHEMA = ?
     UNION ALL SELECT PRIVILEGE_TYPE, TABLE_NAME, IS_GRANTABLE FROM information_schema.TABLE_PRIVILEGES WHERE GRANTEE = CURRENT_GRANTEE() AND TABLE_SCHEMA = ?`.replace(
      /CURRENT_GRANTEE\(\)/g,
      GRANTEE,
    ),
    [database, database],
  )
  // GRANT OPTION is a column of each privilege in information_schema, not a privilege of its own.
  for (const row of rows.filter((x) => x.o === 'YES')) rows.push({...row, p: 'GRANT OPTION'})
  const held = new Set(rows.map((row) => `${String(row.p)}\u0000${String(row.t)}`))
  const has = (p: string, table: string) => held.has(`${p}\u0000*`) || held.has(`${p}\u0000${table}`)
  const missing: Missing[] = []
  for (const g of r.grants) {
    const needs = [
      ...g.privileges.flatMap((x) => (x === 'ALL PRIVILEGES' ? OPERATOR_NEEDS : [x])),
      ...(g.grantOption ? ['GRANT OPTION'] : []),
    ]
    for (const p of needs) if (!has(p, g.table)) missing.push({privilege: p, table: g.table})
  }
  return missing
}

/** What ALL PRIVILEGES stands for when checking: the statements migrations and rotate run. */
const OPERATOR_NEEDS = [
  'SELECT',
  'INSERT',
  'UPDATE',
  'DELETE',
  'CREATE',
  'DROP',
  'ALTER',
  'INDEX',
  'CREATE TEMPORARY TABLES',
  'LOCK TABLES',
]

/** The grantee as information_schema writes it ('user'@'host'), for the account this connection authenticated as. */
const GRANTEE =
  "CONCAT('''', SUBSTRING_INDEX(CURRENT_USER(), '@', 1), '''@''', SUBSTRING_INDEX(CURRENT_USER(), '@', -1), '''')"
