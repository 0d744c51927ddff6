/** MySQL connections for every command: one pool per process, errors mapped to exit codes, named locks. */
import mysql, {type Pool, type PoolConnection, type Connection, type RowDataPacket} from 'mysql2/promise'
import {ExitCode, MauError, isTransient, unavailable} from './errors.js'
import type {MysqlSettings} from './config.js'

export type Db = Pool

export interface OpenOptions {
  connectionLimit?: number
  /** Only migrations need several statements per query; everything else keeps it off. */
  multipleStatements?: boolean
}

function connectionOptions(settings: MysqlSettings, opts: OpenOptions) {
  return {
    host: settings.host,
    port: settings.port,
    user: settings.user,
    password: settings.password,
    database: settings.database,
    charset: 'utf8mb4_bin',
    // BIGINT columns hold unix seconds and Kafka offsets: both fit a JS number exactly.
    supportBigNumbers: true,
    bigNumberStrings: false,
    connectTimeout: 10_000,
    multipleStatements: opts.multipleStatements ?? false,
  }
}

export function openPool(settings: MysqlSettings, opts: OpenOptions = {}): Db {
  return mysql.createPool({...connectionOptions(settings, opts), connectionLimit: opts.connectionLimit ?? 4, enableKeepAlive: true})
}

export async function openConnection(settings: MysqlSettings, opts: OpenOptions = {}): Promise<Connection> {
  try {
    return await mysql.createConnection(connectionOptions(settings, opts))
  } catch (error) {
    throw asServiceError(error, settings)
  }
}

/** Turns a driver error into a MauError with the right exit code, never leaking the password. */
export function asServiceError(error: unknown, settings: MysqlSettings): Error {
  if (error instanceof MauError) return error
  // kafkajs errors are retriable too, but they are Kafka's to name, never MySQL's.
  if (error instanceof Error && error.name.startsWith('KafkaJS')) return error
  const code = (error as {code?: string}).code
  if (code === 'ER_ACCESS_DENIED_ERROR' || code === 'ER_DBACCESS_DENIED_ERROR') {
    return new MauError(`MySQL refused the credentials for ${settings.display}: ${(error as Error).message}`, {
      exit: ExitCode.CONFIG,
      code: 'MYSQL_ACCESS_DENIED',
      suggestions: ['Check MAU_MYSQL_URL and MAU_MYSQL_PASSWORD or MAU_MYSQL_PASSWORD_FILE.'],
    })
  }
  if (code === 'ER_BAD_DB_ERROR') {
    return new MauError(`MySQL database "${settings.database}" does not exist at ${settings.display}.`, {
      exit: ExitCode.CONFIG,
      code: 'MYSQL_NO_DATABASE',
      suggestions: [`Create it (CREATE DATABASE \`${settings.database}\`) or point MAU_MYSQL_URL at an existing one.`],
    })
  }
  if (code === 'ER_NO_SUCH_TABLE') {
    return new MauError(`The mau schema is missing at ${settings.display}: ${(error as Error).message}`, {
      exit: ExitCode.SCHEMA,
      code: 'SCHEMA_MISSING',
      suggestions: ['Run `mau db migrate`.'],
    })
  }
  if (isTransient(error)) return unavailable('MySQL', settings.display, error)
  return error instanceof Error ? error : new Error(String(error))
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
 * Holds a MySQL named lock (GET_LOCK) around fn. The lock lives as long as `conn`'s session, so a
 * killed pod releases it by itself. Waits up to waitSeconds, then fails with the LOCKED exit code.
 */
export async function withNamedLock<T>(conn: Connection, name: string, waitSeconds: number, fn: () => Promise<T>): Promise<T> {
  const [rows] = await conn.query<RowDataPacket[]>('SELECT GET_LOCK(?, ?) AS got', [name, waitSeconds])
  if (rows[0]?.got !== 1) {
    throw new MauError(`Another run holds the lock "${name}" (waited ${waitSeconds}s).`, {
      exit: ExitCode.LOCKED,
      code: 'LOCK_HELD',
      suggestions: ['Wait for the other run to finish; it releases the lock when it ends or its connection drops.'],
    })
  }
  try {
    return await fn()
  } finally {
    await conn.query('SELECT RELEASE_LOCK(?)', [name]).catch(() => undefined)
  }
}
