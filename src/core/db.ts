/**
 * The one owner of MySQL connections: every command gets its pool from `withDb`, which also turns driver
 * errors into MauErrors with the right exit code (never leaking the password). Domain code takes the
 * handle, never connection settings. Also the two primitives everything shares: transactions and named locks.
 */
import mysql, {type Pool, type PoolConnection, type RowDataPacket, type SqlValue, type Timezone} from 'mysql2/promise'
import {ExitCode, MauError, isTransient, unavailable} from './errors.js'
import type {MysqlSettings} from './settings.js'
import {perConnection, tlsMismatch} from './db-tls.js'
import {roleOf} from './roles.js'

export type Db = Pool
/** What a read needs: a pool, or a connection inside a transaction. */
export type Queryable = Pick<Db, 'query'>

export interface OpenOptions {
  connectionLimit?: number
  /** Only migrations and the consumer's one-round-trip batches need several statements per query. */
  multipleStatements?: boolean
}

/**
 * Ids are VARBINARY (exact bytes, no padding: migration 006), which the driver would hand back as Buffers;
 * every reader gets them as the UTF-8 text the consumer wrote. Other binary columns (payloads) stay Buffers.
 */
const ID_COLUMNS = new Set(['user_id', 'environment_namespace', 'source_id'])
const typeCast: NonNullable<Parameters<typeof mysql.createPool>[0]['typeCast']> = (field, next) =>
  ID_COLUMNS.has(field.name) && (field.type === 'VAR_STRING' || field.type === 'STRING') ? field.string('utf8') : next()

export function openDb(settings: MysqlSettings, opts: OpenOptions = {}): Db {
  const pool = mysql.createPool({
    host: settings.host,
    port: settings.port,
    user: settings.user,
    database: settings.database,
    charset: 'utf8mb4_bin',
    // BIGINT columns hold unix seconds and Kafka offsets: both fit a JS number exactly.
    supportBigNumbers: true,
    bigNumberStrings: false,
    connectTimeout: 10_000,
    multipleStatements: opts.multipleStatements ?? false,
    connectionLimit: opts.connectionLimit ?? 2,
    enableKeepAlive: true,
    typeCast,
    // A statement without values goes as it is: the driver would scan a whole window's text (mau/rows.ts)
    // for placeholders to replace none, 3% of the consumer's time. With values, the driver's own format.
    queryFormat: (sql: string, values: unknown, timezone?: Timezone) =>
      Array.isArray(values) && values.length === 0 ? sql : mysql.format(sql, values as SqlValue[], false, timezone),
  })
  perConnection(pool, settings)
  return pool
}

/**
 * Opens a pool, runs fn with it, maps any error (for the command `commandId`), and closes the pool whatever
 * happened. The first connection is made at once: a refused certificate or TLS mismatch ends the command
 * with exit 2 before it starts; an outage is left to the command, which may wait it out.
 */
export async function withDb<T>(
  settings: MysqlSettings,
  opts: OpenOptions,
  fn: (db: Db) => Promise<T>,
  commandId?: string,
): Promise<T> {
  const db = openDb(settings, opts)
  try {
    await db.getConnection().then(
      (c) => c.release(),
      (error) => {
        if (!isTransient(error)) throw error
      },
    )
    return await fn(db)
  } catch (error) {
    throw asServiceError(error, settings, commandId)
  } finally {
    await db.end().catch(() => undefined)
  }
}

/** Turns a driver error into a MauError with the right exit code, never leaking the password. */
export function asServiceError(error: unknown, settings: MysqlSettings, commandId?: string): Error {
  if (error instanceof MauError) return error
  // kafkajs errors are retriable too, but they are Kafka's to name, never MySQL's.
  if (error instanceof Error && error.name.startsWith('KafkaJS')) return error
  const code = (error as {code?: string}).code
  const refused = privilegeRefused(error, settings, commandId) ?? tlsMismatch(error, settings)
  if (refused) return refused
  if (code === 'ER_ACCESS_DENIED_ERROR') {
    return new MauError(`MySQL refused the credentials for ${settings.display}: ${(error as Error).message}`, {
      exit: ExitCode.CONFIG,
      code: 'MYSQL_ACCESS_DENIED',
      suggestions: [
        settings.tls.mode === 'DISABLED'
          ? 'Check MAU_MYSQL_URL and MAU_MYSQL_PASSWORD(_FILE); a user that REQUIREs SSL is refused this way too: MAU_MYSQL_SSL_MODE is DISABLED.'
          : 'Check MAU_MYSQL_URL and MAU_MYSQL_PASSWORD or MAU_MYSQL_PASSWORD_FILE.',
      ],
    })
  }
  if (code === 'ER_BAD_DB_ERROR') {
    return new MauError(`MySQL database "${settings.database}" does not exist at ${settings.display}.`, {
      exit: ExitCode.CONFIG,
      code: 'MYSQL_NO_DATABASE',
      suggestions: [`Create it (CREATE DATABASE \`${settings.database}\`) or point MAU_MYSQL_URL at an existing one.`],
    })
  }
  if (code === 'ER_NO_SUCH_TABLE') return schemaMissing(`${(error as Error).message} at ${settings.display}`)
  if (isTransient(error)) return unavailable('MySQL', settings.display, error)
  return error instanceof Error ? error : new Error(String(error))
}

const PRIVILEGE_CODES = new Set([
  'ER_TABLEACCESS_DENIED_ERROR',
  'ER_COLUMNACCESS_DENIED_ERROR',
  'ER_DBACCESS_DENIED_ERROR',
  'ER_SPECIFIC_ACCESS_DENIED_ERROR',
])

/**
 * Pure: a statement MySQL refused for a privilege, as "MySQL refused INSERT on mau for mau_server" (exit 2),
 * with the grants of the role this command needs; undefined for any other error. MariaDB names the table
 * `db`.`t`, MySQL 8 't'.
 */
export function privilegeRefused(
  error: unknown,
  settings: Pick<MysqlSettings, 'user' | 'database'>,
  commandId?: string,
): MauError | undefined {
  const e = error as {code?: string; message?: string}
  if (!e?.code || !PRIVILEGE_CODES.has(e.code)) return undefined
  const message = e.message ?? ''
  const table =
    /^(.+?) command denied to user '([^']*)'@'[^']*' for (?:table|column \S+ in table) [`']?(?:[^`'.]+[`']?\.[`']?)?([^`']+)[`']?/.exec(
      message,
    )
  const database = /to database '([^']*)'/.exec(message)
  const needed = /you need \(at least one of\) the (.+?) privilege/.exec(message)
  const what = table
    ? `${table[1]} on ${table[3]}`
    : database
      ? `access to database ${database[1]}`
      : needed
        ? needed[1]
        : message
  const r = roleOf(commandId)
  return new MauError(`MySQL refused ${what} for ${table?.[2] ?? settings.user}.`, {
    exit: ExitCode.CONFIG,
    code: 'MYSQL_PRIVILEGE',
    suggestions: [
      r
        ? `mau db grants --role ${r} --user ${settings.user} (run by an administrator; mau doctor --role ${r} lists what is missing)`
        : 'mau db grants --help lists the roles and what each may do.',
    ],
  })
}

export function schemaMissing(what: string): MauError {
  return new MauError(`The mau schema is missing: ${what}`, {
    exit: ExitCode.SCHEMA,
    code: 'SCHEMA_MISSING',
    suggestions: ['Run `mau db migrate`.'],
  })
}

/** Runs fn inside one transaction on one pooled connection; rolls back on any error. */
export async function inTransaction<T>(db: Db, fn: (conn: PoolConnection) => Promise<T>): Promise<T> {
  const conn = await db.getConnection()
  try {
    await conn.beginTransaction()
    try {
      const result = await fn(conn)
      await conn.commit()
      return result
    } catch (error) {
      await conn.rollback().catch(() => undefined)
      throw error
    }
  } finally {
    conn.release()
  }
}

/**
 * Holds the MySQL named lock "mau.KIND.DATABASE[.SCOPE]" (GET_LOCK) around fn, which gets the connection
 * that holds it; earlier versions used the same names, so old and new pods exclude each other during a
 * rollout. The lock lives as long as that session, so a killed pod releases it by itself. Waits up to
 * waitSeconds, then fails with the LOCKED exit code.
 */
export async function withNamedLock<T>(
  db: Db,
  lock: {kind: string; scope?: string},
  waitSeconds: number,
  fn: (conn: PoolConnection) => Promise<T>,
): Promise<T> {
  const conn = await db.getConnection()
  const name = "CONCAT('mau.', ?, '.', DATABASE(), ?)"
  const args = [lock.kind, lock.scope === undefined ? '' : `.${lock.scope}`]
  try {
    const [rows] = await conn.query<RowDataPacket[]>(`SELECT GET_LOCK(${name}, ?) AS got, ${name} AS name`, [
      ...args,
      waitSeconds,
      ...args,
    ])
    if (rows[0]?.got !== 1) {
      throw new MauError(`Another run holds the lock "${rows[0]?.name}" (waited ${waitSeconds}s).`, {
        exit: ExitCode.LOCKED,
        code: 'LOCK_HELD',
        suggestions: ['Wait for the other run to finish; it releases the lock when it ends or its connection drops.'],
      })
    }
    try {
      return await fn(conn)
    } finally {
      await conn.query(`SELECT RELEASE_LOCK(${name})`, args).catch(() => undefined)
    }
  } finally {
    conn.release()
  }
}

/**
 * The most bytes one statement (or one round trip of several) may take: half of the server's
 * max_allowed_packet, at most 4 MiB. A larger packet makes MySQL drop the connection (ECONNRESET, not an
 * error the statement can be told from an outage by), so every bulk write is cut to fit this.
 */
export const DEFAULT_STATEMENT_BYTES = 4 * 1024 * 1024

export async function statementBytes(db: Queryable): Promise<number> {
  const [rows] = await db.query<RowDataPacket[]>('SELECT @@max_allowed_packet AS packet')
  return Math.min(DEFAULT_STATEMENT_BYTES, Math.floor(Number(rows[0]?.packet) / 2))
}

/**
 * An upper bound of a row's bytes in a statement: a UTF-16 unit is at most 3 bytes of UTF-8, and an escaped
 * quote or backslash is 2; numbers, quotes and commas fit in the constant. Ids up to 255 characters of
 * anything, so hostile rows are ~6 KB: without the bound a window of them outgrew max_allowed_packet.
 */
export const textBytes = (...texts: string[]): number => {
  let n = 48
  for (const t of texts) n += 3 * t.length
  return n
}

/** Pure: items cut into runs of at most maxItems and maxBytes each (an item larger than maxBytes alone). */
export function pieces<T>(
  items: readonly T[],
  bytesOf: (item: T) => number,
  maxBytes: number,
  maxItems = Infinity,
): T[][] {
  const out: T[][] = []
  let run: T[] = []
  let bytes = 0
  for (const item of items) {
    const b = bytesOf(item)
    if (run.length > 0 && (bytes + b > maxBytes || run.length >= maxItems)) {
      out.push(run)
      run = []
      bytes = 0
    }
    run.push(item)
    bytes += b
  }
  if (run.length > 0) out.push(run)
  return out
}

/** "(?,?),(?,?)" for n rows of width columns; built by repetition because it runs for every group of every batch. */
export const placeholders = (n: number, width: number): string => `,(${'?,'.repeat(width - 1)}?)`.repeat(n).slice(1)

const SPECIAL = /[\0\b\t\n\r\x1a"'\\]/
const SPECIALS = /[\0\b\t\n\r\x1a"'\\]/g
const ESCAPED: Record<string, string> = {
  '\0': '\\0',
  '\b': '\\b',
  '\t': '\\t',
  '\n': '\\n',
  '\r': '\\r',
  '\x1a': '\\Z',
  '"': '\\"',
  "'": "\\'",
  '\\': '\\\\',
}

/**
 * Pure: a string as a MySQL literal, escaped as the driver's own placeholders escape it (backslash escapes).
 * For the bulk writes, which build their text directly: a window's 20,000 rows through placeholders made
 * one values array and a scan of the whole statement for `?`, a fifth of the consumer's CPU.
 */
export const sqlString = (s: string): string =>
  SPECIAL.test(s) ? `'${s.replace(SPECIALS, (c) => ESCAPED[c]!)}'` : `'${s}'`
