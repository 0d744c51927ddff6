/**
 * Rights follow the upgrade. MySQL grants are per table, so a release that adds a table would leave every
 * role's account without rights on it. `mau db grants` records the accounts it makes a role's
 * (mau_role_account); `mau db migrate`, after the migrations, gives each recorded account exactly its role's
 * rights in the version migrating: what the role gains is granted before anything is revoked, so running
 * pods never lack a right they had. Only the version that knows the database's schema does it: a previous
 * version rolled back onto a newer schema leaves the newer version's rights (a superset) as they are.
 */
import {readdirSync, readFileSync} from 'node:fs'
import type {RowDataPacket} from 'mysql2/promise'
import type {Queryable} from '../core/db.js'
import {ExitCode, MauError} from '../core/errors.js'
import {ROLES, role as roleNamed, type Role, type RoleName} from '../core/roles.js'
import {account, type Account, dbIdent, grantOf, tableIdent} from './roles.js'

export interface RoleAccount extends Account {
  role: RoleName
}

export interface RolesFollowed {
  /** Recorded accounts given exactly their role's rights in this version. */
  granted: RoleAccount[]
  /** Accounts found holding exactly a role's rights of an earlier schema (granted before accounts were recorded): recorded, then granted. */
  adopted: RoleAccount[]
  /** Recorded accounts that no longer exist: left alone. */
  gone: RoleAccount[]
  /** Why no account was touched, when none was. */
  skipped?: string
}

/** Privileges each level takes on both MariaDB 10.11 and MySQL 8; GRANT OPTION apart. */
const TABLE_PRIVILEGES = [
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
]
const DB_PRIVILEGES = [
  ...TABLE_PRIVILEGES,
  'CREATE TEMPORARY TABLES',
  'LOCK TABLES',
  'EXECUTE',
  'CREATE ROUTINE',
  'ALTER ROUTINE',
  'EVENT',
]

const expand = (privileges: string[], all: string[]) => privileges.flatMap((p) => (p === 'ALL PRIVILEGES' ? all : [p]))
const whole = (r: Role) => r.grants.filter((g) => g.table === '*')

/**
 * Pure: the statements that leave `a` exactly role `r` on the database's tables: the role's grants, then a
 * REVOKE of whatever else it could hold at the database's level and on each table (a REVOKE of what an
 * account lacks is a no-op where it holds something at that level, and refused, harmlessly, where it holds nothing).
 */
export function followStatements(
  r: Role,
  a: Account,
  database: string,
  tables: string[],
): {grants: string[]; revokes: string[]} {
  const who = account(a)
  const grants = r.grants.map((g) => grantOf(g, a, database))
  const onDb = new Set(whole(r).flatMap((g) => expand(g.privileges, DB_PRIVILEGES)))
  const optionOnDb = whole(r).some((g) => g.grantOption)
  const extra = (all: string[], allowed: Set<string>, option: boolean) => [
    ...all.filter((p) => !allowed.has(p)),
    ...(option ? [] : ['GRANT OPTION']),
  ]
  const revokes: string[] = []
  const dbExtra = extra(DB_PRIVILEGES, onDb, optionOnDb)
  if (dbExtra.length > 0) revokes.push(`REVOKE ${dbExtra.join(', ')} ON ${dbIdent(database)}.* FROM ${who}`)
  for (const t of tables) {
    const own = r.grants.filter((g) => g.table === t)
    const allowed = new Set([...onDb, ...own.flatMap((g) => expand(g.privileges, TABLE_PRIVILEGES))])
    const tableExtra = extra(TABLE_PRIVILEGES, allowed, optionOnDb || own.some((g) => g.grantOption))
    if (tableExtra.length > 0) revokes.push(`REVOKE ${tableExtra.join(', ')} ON ${tableIdent(database, t)} FROM ${who}`)
  }
  return {grants, revokes}
}

/** Pure: the version of the migration that creates each table (CREATE TABLE [IF NOT EXISTS] name). */
export function tablesCreated(migrations: {version: number; sql: string}[]): Map<string, number> {
  const since = new Map<string, number>()
  for (const m of [...migrations].sort((x, y) => x.version - y.version)) {
    for (const [, name] of m.sql.matchAll(/CREATE\s+TABLE\s+(?:IF\s+NOT\s+EXISTS\s+)?`?(\w+)`?/gi))
      if (!since.has(name!)) since.set(name!, m.version)
  }
  return since
}

export interface HeldPrivilege {
  grantee: string
  /** '*' for the database's level. */
  table: string
  privilege: string
}

/**
 * Pure: the accounts that hold exactly what some version's `mau db grants` gave a role, when the schema was
 * at some version: a role's grants on the tables that existed then, less those it gained later (`since`).
 * Whole-database roles are recognised by their database-level privileges alone (the operator's ALL, the
 * auditor's SELECT). An account matching anything less or more, or two roles, is not a role's and is left alone.
 */
export function adoptable(held: HeldPrivilege[], since: Map<string, number>): RoleAccount[] {
  const byGrantee = new Map<string, Set<string>>()
  // Privileges one server has and the other not (MariaDB's DELETE HISTORY) say nothing about a role.
  for (const h of held.filter((x) => DB_PRIVILEGES.includes(x.privilege)))
    byGrantee.set(h.grantee, (byGrantee.get(h.grantee) ?? new Set()).add(`${h.table}\u0000${h.privilege}`))
  const versions = [...new Set(since.values())]
  const shapes = ROLES.map((r) => {
    const at = (v: number) =>
      new Set(
        r.grants
          .filter((g) => Math.max(since.get(g.table) ?? 0, g.since ?? 0) <= v)
          .flatMap((g) => expand(g.privileges, DB_PRIVILEGES).map((p) => `${g.table}\u0000${p}`)),
      )
    return {r, sets: whole(r).length > 0 ? [at(Infinity)] : versions.map(at)}
  })
  const adopted: RoleAccount[] = []
  for (const [grantee, privileges] of byGrantee) {
    const parsed = /^'(.+)'@'(.*)'$/.exec(grantee)
    if (!parsed) continue
    const matches = shapes.filter(({sets}) =>
      sets.some((s) => s.size === privileges.size && [...s].every((p) => privileges.has(p))),
    )
    if (matches.length === 1) adopted.push({user: parsed[1]!, host: parsed[2]!, role: matches[0]!.r.name})
  }
  return adopted
}

const ER_NO_SUCH_TABLE = 1146
const ER_NONEXISTING_GRANT = 1141
const ER_NONEXISTING_TABLE_GRANT = 1147
/** The account does not exist (MariaDB with NO_AUTO_CREATE_USER; MySQL 8 never creates one by GRANT). */
const ACCOUNT_GONE = new Set([1133, 1410])
const PRIVILEGE_REFUSED = new Set([1044, 1142, 1227])

const errno = (error: unknown) => (error as {errno?: number}).errno

/**
 * Gives every recorded account (and every account found holding exactly an earlier version's role) exactly
 * its role's rights on the database. Runs on the migration's connection, under its lock.
 */
export async function followRoles(
  conn: Queryable,
  database: string,
  schema: {version: number; latest: number; migrationsDir: string},
): Promise<RolesFollowed> {
  const followed: RolesFollowed = {granted: [], adopted: [], gone: []}
  if (schema.version > schema.latest)
    return {
      ...followed,
      skipped: `the schema (version ${schema.version}) is newer than this version knows (${schema.latest}): its rights are left as the newer version gave them`,
    }
  // MariaDB creates an account a GRANT names when the mode allows it: never here (MySQL 8 has no such mode).
  await conn.query("SET SESSION sql_mode = CONCAT(@@SESSION.sql_mode, ',NO_AUTO_CREATE_USER')").catch(() => undefined)
  const recorded = await recordedAccounts(conn)
  if (!recorded) return {...followed, skipped: 'the schema has no record of role accounts yet (mau_role_account)'}
  const known = new Set(recorded.map((a) => account(a)))
  followed.adopted = adoptable(
    await heldByOthers(conn, database, known),
    tablesCreated(migrationFiles(schema.migrationsDir)),
  )
  for (const a of followed.adopted)
    await conn.query(
      'INSERT IGNORE INTO mau_role_account (user_name, host, role, granted_at) VALUES (?, ?, ?, UNIX_TIMESTAMP())',
      [a.user, a.host, a.role],
    )
  const [tables] = await conn.query<RowDataPacket[]>(
    "SELECT TABLE_NAME AS t FROM information_schema.TABLES WHERE TABLE_SCHEMA = ? AND TABLE_TYPE = 'BASE TABLE' ORDER BY TABLE_NAME",
    [database],
  )
  const names = tables.map((row) => String(row.t))
  for (const a of [...recorded, ...followed.adopted]) {
    const {grants, revokes} = followStatements(roleNamed(a.role), a, database, names)
    try {
      for (const s of grants) await conn.query(s)
    } catch (error) {
      if (ACCOUNT_GONE.has(errno(error) ?? 0)) {
        followed.gone.push(a)
        continue
      }
      throw cannotGrant(error, database)
    }
    for (const s of revokes) {
      await conn.query(s).catch((error: unknown) => {
        if (errno(error) !== ER_NONEXISTING_GRANT && errno(error) !== ER_NONEXISTING_TABLE_GRANT)
          throw cannotGrant(error, database)
      })
    }
    followed.granted.push(a)
  }
  return followed
}

/** The accounts `mau db grants` recorded; undefined on a schema older than the record (a migrations folder that stops before it). */
async function recordedAccounts(conn: Queryable): Promise<RoleAccount[] | undefined> {
  const [rows] = await conn
    .query<RowDataPacket[]>('SELECT user_name, host, role FROM mau_role_account ORDER BY role, user_name, host')
    .catch((error: unknown) => {
      if (errno(error) === ER_NO_SUCH_TABLE) return [undefined]
      throw error
    })
  if (!rows) return undefined
  const names = new Set<string>(ROLES.map((r) => r.name))
  // A role this version no longer has is not granted anything.
  return rows
    .filter((row) => names.has(String(row.role)))
    .map((row) => ({user: String(row.user_name), host: String(row.host), role: String(row.role) as RoleName}))
}

/** Other accounts' privileges on the database: information_schema shows them only to a user that may read the grant tables (an administrator). */
async function heldByOthers(conn: Queryable, database: string, recorded: Set<string>): Promise<HeldPrivilege[]> {
  const [rows] = await conn.query<RowDataPacket[]>(
    `SELECT GRANTEE AS g, '*' AS t, PRIVILEGE_TYPE AS p FROM information_schema.SCHEMA_PRIVILEGES WHERE TABLE_SCHEMA = ?
     UNION ALL SELECT GRANTEE, TABLE_NAME, PRIVILEGE_TYPE FROM information_schema.TABLE_PRIVILEGES WHERE TABLE_SCHEMA = ?`,
    [database, database],
  )
  const [[me]] = await conn.query<RowDataPacket[]>(
    "SELECT CONCAT('''', SUBSTRING_INDEX(CURRENT_USER(), '@', 1), '''@''', SUBSTRING_INDEX(CURRENT_USER(), '@', -1), '''') AS g",
  )
  return rows
    .map((row) => ({grantee: String(row.g), table: String(row.t), privilege: String(row.p)}))
    .filter(
      (h) =>
        h.grantee !== String(me?.g) &&
        !recorded.has(h.grantee.replace(/^'(.*)'@'(.*)'$/, (_, u: string, host: string) => account({user: u, host}))),
    )
}

function migrationFiles(dir: string): {version: number; sql: string}[] {
  return readdirSync(dir)
    .filter((f) => /^\d+\.do\..*\.sql$/.test(f))
    .map((f) => ({version: Number(f.split('.')[0]), sql: readFileSync(`${dir.replace(/\/$/, '')}/${f}`, 'utf8')}))
}

function cannotGrant(error: unknown, database: string): unknown {
  if (!PRIVILEGE_REFUSED.has(errno(error) ?? 0)) return error
  return new MauError(
    `The migrating user may not give the roles their rights on ${database}: ${(error as Error).message} (it needs GRANT OPTION there, which mau db grants --role operator gives from mau 0.2.0 on).`,
    {
      exit: ExitCode.CONFIG,
      code: 'MIGRATE_CANNOT_GRANT',
      suggestions: [
        'Have an administrator run mau db grants --role operator --user <this user> --apply once (deploy/setup does), or migrate as an administrator.',
      ],
    },
  )
}
