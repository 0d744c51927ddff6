/**
 * Settings that are not a single flag's business: defaults, lists given in one env var, and the MySQL
 * connection URL resolved with its password (from the URL, MAU_MYSQL_PASSWORD or MAU_MYSQL_PASSWORD_FILE).
 */
import {configError} from './errors.js'
import {redact, registerSecret, secretFromEnv} from './secrets.js'

export const DEFAULTS = {
  mysqlUrl: 'mysql://root@127.0.0.1:3306/test',
  kafkaBrokers: '127.0.0.1:9092',
  kafkaTopic: 'user-events',
  kafkaGroup: 'mau-persister',
  timezone: 'UTC',
  batchSize: 20_000,
  aheadMonths: 3,
  retainMonths: 13,
} as const

/**
 * Environment variables that were renamed, and how an old value reads in the new one. A Deployment that
 * still sets the old name keeps working; the new name wins when both are set.
 */
const RENAMED_ENV: Record<string, {to: string; convert?: (v: string) => string}> = {
  MAU_FROM_TIME: {to: 'MAU_CONSUME_SINCE'},
  MAU_KAFKA_SESSION_TIMEOUT_MS: {to: 'MAU_KAFKA_SESSION_TIMEOUT_SECONDS', convert: (ms) => String(Math.round(Number(ms) / 1000))},
}

export function applyRenamedEnv(env: NodeJS.ProcessEnv = process.env): void {
  for (const [old, {to, convert}] of Object.entries(RENAMED_ENV)) {
    const value = env[old]
    if (value !== undefined && env[to] === undefined) env[to] = convert ? convert(value) : value
  }
}

export function isValidTimezone(zone: string): boolean {
  try {
    new Intl.DateTimeFormat('en-US', {timeZone: zone})
    return true
  } catch {
    return false
  }
}

/** Splits "a,b, c" into ["a","b","c"], dropping empties; used for lists given in one env var. */
export function splitList(value: string): string[] {
  return value.split(',').map((s) => s.trim()).filter(Boolean)
}

/** A repeatable flag is an array when given on the command line but one string when it comes from its env var. */
export function listOf(value: string | string[] | undefined): string[] {
  return (Array.isArray(value) ? value : value === undefined ? [] : [value]).flatMap(splitList)
}

export interface MysqlSettings {
  host: string
  port: number
  user: string
  password?: string
  database: string
  /** The URL with any password replaced by ***, safe to print. */
  display: string
}

const withUser = (url: string, user: string) => url.replace(/^mysql:\/\/(?:[^@/]*@)?/, `mysql://${encodeURIComponent(user)}@`)

export function resolveMysql(url: string, env: NodeJS.ProcessEnv = process.env): MysqlSettings {
  let parsed: URL
  try {
    parsed = new URL(url)
  } catch {
    throw configError(`Invalid MySQL URL "${redact(url)}": expected mysql://user[:password]@host[:port]/database.`)
  }
  if (parsed.protocol !== 'mysql:') {
    throw configError(`Invalid MySQL URL "${redact(url)}": the scheme must be mysql://.`)
  }
  const database = decodeURIComponent(parsed.pathname.replace(/^\//, ''))
  if (!database) {
    throw configError(`MySQL URL "${redact(url)}" names no database: expected mysql://user@host:port/database.`)
  }
  const password = secretFromEnv('MAU_MYSQL_PASSWORD', env) ?? (parsed.password ? decodeURIComponent(parsed.password) : undefined)
  registerSecret(password)
  return {
    host: parsed.hostname || '127.0.0.1',
    port: parsed.port ? Number(parsed.port) : 3306,
    // Each workload its own user (least privilege), all sharing one URL: MAU_MYSQL_USER wins over the URL's.
    user: env.MAU_MYSQL_USER || decodeURIComponent(parsed.username || 'root'),
    password,
    database,
    display: redact(env.MAU_MYSQL_USER ? withUser(url, env.MAU_MYSQL_USER) : url),
  }
}
