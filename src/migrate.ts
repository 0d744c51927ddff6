/**
 * The schema in migrations/, applied by postgrator (ordering, version table, md5 checksums of applied
 * files) under a MySQL named lock, so that pods starting together apply each file exactly once.
 */
import Postgrator from 'postgrator'
import {fileURLToPath} from 'node:url'
import type {Connection, RowDataPacket} from 'mysql2/promise'
import type {MysqlSettings} from './config.js'
import {ExitCode, MauError} from './errors.js'
import {currentMonth} from './month.js'
import {applyPlans, planTables} from './rotate.js'
import {asServiceError, openConnection, withNamedLock} from './store.js'

export const MIGRATIONS_DIR = fileURLToPath(new URL('../migrations/', import.meta.url))
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

function postgrator(conn: Connection, database: string, dir: string): Postgrator {
  return new Postgrator({
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
}

const info = (m: {version: number; name: string}): MigrationInfo => ({version: Number(m.version), name: m.name})

export async function migrate(settings: MysqlSettings, opts: MigrateOptions = {}): Promise<MigrateResult> {
  const conn = await openConnection(settings, {multipleStatements: true})
  try {
    return await withNamedLock(conn, `mau.migrate.${settings.database}`, opts.lockWaitSeconds ?? 60, async () => {
      const pg = postgrator(conn, settings.database, opts.migrationsDir ?? MIGRATIONS_DIR)
      let applied
      try {
        applied = await pg.migrate()
      } catch (error) {
        throw migrationError(error, settings)
      }
      const latest = await pg.getMaxVersion()
      const partitionsCreated = await ensureMonthPartitions(conn, settings, opts.timezone ?? 'UTC', opts.aheadMonths ?? 3)
      return {database: settings.database, applied: applied.map(info), version: await pg.getDatabaseVersion(), latest, partitionsCreated}
    })
  } catch (error) {
    throw asServiceError(error, settings)
  } finally {
    await conn.end().catch(() => undefined)
  }
}

export async function status(settings: MysqlSettings, opts: Pick<MigrateOptions, 'migrationsDir'> = {}): Promise<StatusResult> {
  const conn = await openConnection(settings)
  try {
    const pg = postgrator(conn, settings.database, opts.migrationsDir ?? MIGRATIONS_DIR)
    const migrations = (await pg.getMigrations()).filter((m) => m.action === 'do')
    const version = await pg.getDatabaseVersion()
    const recorded = version > 0 ? await appliedChecksums(conn) : new Map<number, string>()
    return {
      database: settings.database,
      version,
      latest: Math.max(0, ...migrations.map((m) => Number(m.version))),
      pending: migrations.filter((m) => Number(m.version) > version).map(info),
      edited: migrations.filter((m) => recorded.has(Number(m.version)) && recorded.get(Number(m.version)) !== m.md5).map(info),
    }
  } catch (error) {
    throw asServiceError(error, settings)
  } finally {
    await conn.end().catch(() => undefined)
  }
}

async function appliedChecksums(conn: Connection): Promise<Map<number, string>> {
  const [rows] = await conn.query<RowDataPacket[]>(`SELECT version, md5 FROM ${SCHEMA_TABLE}`)
  return new Map(rows.map((r) => [Number(r.version), String(r.md5)]))
}

/** Gives the current month and `ahead` following months their own partition, if they lack one; drops nothing. */
async function ensureMonthPartitions(conn: Connection, settings: MysqlSettings, zone: string, ahead: number): Promise<string[]> {
  const plans = await planTables(conn, settings, {current: currentMonth(zone), aheadMonths: ahead, retainMonths: null})
  await applyPlans(conn, plans)
  return plans[0]!.create.map((m) => `p${m}`)
}

function migrationError(error: unknown, settings: MysqlSettings): Error {
  const message = error instanceof Error ? error.message : String(error)
  if (/checksum/i.test(message)) {
    return new MauError(`An applied migration was edited: ${message} (database ${settings.database}).`, {
      exit: ExitCode.SCHEMA,
      code: 'MIGRATION_EDITED',
      suggestions: ['Restore the applied file as it was (git checkout migrations/) and put the change in a new migration file.'],
    })
  }
  return asServiceError(error, settings)
}
