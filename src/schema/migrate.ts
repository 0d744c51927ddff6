/**
 * The schema in migrations/, applied by postgrator (ordering, version table, md5 checksums of applied
 * files) under a MySQL named lock, so that pods starting together apply each file exactly once.
 */
import Postgrator from 'postgrator'
import {fileURLToPath} from 'node:url'
import type {PoolConnection, RowDataPacket} from 'mysql2/promise'
import {type Db, type OpenOptions, type Queryable, withNamedLock} from '../core/db.js'
import {ExitCode, MauError} from '../core/errors.js'
import {currentMonth} from '../core/month.js'
import {followRoles, type RolesFollowed} from './role-accounts.js'
import {applyPlans, planTables} from './rotate.js'

export const MIGRATIONS_DIR = fileURLToPath(new URL('../../migrations/', import.meta.url))
/** Migration files hold several statements each. */
export const MIGRATE_POOL: OpenOptions = {connectionLimit: 2, multipleStatements: true}
const SCHEMA_TABLE = 'mau_schema_version'

export interface MigrationInfo {
  version: number
  name: string
}

export interface MigrateResult {
  database: string
  applied: MigrationInfo[]
  version: number
  latest: number
  /** Monthly partitions added so that the current and coming months have their own. */
  partitionsCreated: string[]
  /** What the migrations applied in this run want their operator to know (mau_schema_note), e.g. data they could not convert. */
  notes: MigrationNote[]
  /** The role accounts given exactly their role's rights in this version (schema/role-accounts.ts). */
  roles: RolesFollowed
}

export interface MigrationNote {
  version: number
  note: string
}

export interface StatusResult {
  database: string
  version: number
  latest: number
  pending: MigrationInfo[]
  /** Applied migrations whose file changed since it was applied. */
  edited: MigrationInfo[]
}

export interface MigrateOptions {
  migrationsDir?: string
  lockWaitSeconds?: number
  timezone?: string
  aheadMonths?: number
}

/**
 * Postgrator over the caller's connection and the migration files in dir. A folder without migration files
 * is a broken install (an image that forgot them), never "nothing to do".
 */
async function postgrator(conn: Queryable, database: string, dir = MIGRATIONS_DIR): Promise<Postgrator> {
  const pg = new Postgrator({
    migrationPattern: `${dir.replace(/\/$/, '')}/*.sql`,
    driver: 'mysql',
    database,
    schemaTable: SCHEMA_TABLE,
    newline: 'LF',
    execQuery: async (sql: string) => {
      const [rows] = await conn.query(sql)
      return {rows: Array.isArray(rows) ? (rows as RowDataPacket[]) : []}
    },
  })
  if ((await pg.getMigrations()).length === 0) {
    throw new MauError(`No migration files in ${dir}: expected the NNN.do.name.sql files shipped with mau.`, {
      exit: ExitCode.CONFIG,
      code: 'NO_MIGRATIONS',
      suggestions: ['Check that the migrations/ folder is installed beside mau, or point MAU_MIGRATIONS_DIR at it.'],
    })
  }
  return pg
}

const info = (m: {version: number; name: string}): MigrationInfo => ({version: Number(m.version), name: m.name})

const databaseOf = async (conn: Queryable): Promise<string> =>
  String((await conn.query<RowDataPacket[]>('SELECT DATABASE() AS db'))[0][0]?.db)

/**
 * Applies what is pending under a named lock (pods starting together apply each file once), gives the
 * coming months partitions, and each role's recorded account exactly its role's rights in this version.
 */
export function migrate(db: Db, opts: MigrateOptions = {}): Promise<MigrateResult> {
  return withNamedLock(db, {kind: 'migrate'}, opts.lockWaitSeconds ?? 60, async (conn: PoolConnection) => {
    const database = await databaseOf(conn)
    const pg = await postgrator(conn, database, opts.migrationsDir)
    let applied
    try {
      applied = await pg.migrate()
    } catch (error) {
      throw migrationError(error, database)
    }
    const latest = await pg.getMaxVersion()
    const partitionsCreated = await ensureMonthPartitions(conn, opts.timezone ?? 'UTC', opts.aheadMonths ?? 3)
    const notes = await notesOf(
      conn,
      applied.map((m) => Number(m.version)),
    )
    const version = await pg.getDatabaseVersion()
    const roles = await followRoles(conn, database, {
      version,
      latest,
      migrationsDir: opts.migrationsDir ?? MIGRATIONS_DIR,
    })
    return {database, applied: applied.map(info), version, latest, partitionsCreated, notes, roles}
  })
}

export async function status(db: Db, opts: Pick<MigrateOptions, 'migrationsDir'> = {}): Promise<StatusResult> {
  const database = await databaseOf(db)
  const pg = await postgrator(db, database, opts.migrationsDir)
  const migrations = (await pg.getMigrations()).filter((m) => m.action === 'do')
  const version = await pg.getDatabaseVersion()
  const recorded = version > 0 ? await appliedChecksums(db) : new Map<number, string>()
  return {
    database,
    version,
    latest: Math.max(0, ...migrations.map((m) => Number(m.version))),
    pending: migrations.filter((m) => Number(m.version) > version).map(info),
    edited: migrations
      .filter((m) => recorded.has(Number(m.version)) && recorded.get(Number(m.version)) !== m.md5)
      .map(info),
  }
}

/** Migration 006 created mau_schema_note: a run that applied nothing from 006 on has no notes to read. */
const NOTES_FROM = 6

async function notesOf(conn: Queryable, versions: number[]): Promise<MigrationNote[]> {
  if (!versions.some((v) => v >= NOTES_FROM)) return []
  const [rows] = await conn.query<RowDataPacket[]>(
    'SELECT version, note FROM mau_schema_note WHERE version IN (?) ORDER BY version',
    [versions],
  )
  return rows.map((r) => ({version: Number(r.version), note: String(r.note)}))
}

async function appliedChecksums(conn: Queryable): Promise<Map<number, string>> {
  const [rows] = await conn.query<RowDataPacket[]>(`SELECT version, md5 FROM ${SCHEMA_TABLE}`)
  return new Map(rows.map((r) => [Number(r.version), String(r.md5)]))
}

/** Gives the current month and `ahead` following months their own partition, if they lack one; drops nothing. */
async function ensureMonthPartitions(conn: Queryable, zone: string, ahead: number): Promise<string[]> {
  const plans = await planTables(conn, {current: currentMonth(zone), aheadMonths: ahead, retainMonths: null})
  await applyPlans(conn, plans)
  return plans[0]!.create.map((m) => `p${m}`)
}

function migrationError(error: unknown, database: string): unknown {
  const message = error instanceof Error ? error.message : String(error)
  if (/checksum/i.test(message)) {
    return new MauError(`An applied migration was edited: ${message} (database ${database}).`, {
      exit: ExitCode.SCHEMA,
      code: 'MIGRATION_EDITED',
      suggestions: [
        'Restore the applied file as it was (git checkout migrations/) and put the change in a new migration file.',
      ],
    })
  }
  return error
}
