/**
 * Settings that are not a single flag's business: defaults, lists given in one env var, and the MySQL
 * connection URL resolved with its password (MAU_MYSQL_PASSWORD_FILE or MAU_MYSQL_PASSWORD; never the URL's).
 */
import {configError} from './errors.js'
import {redact, refusePasswordInUrl, secretFromEnv} from './secrets.js'
import {readPem} from './tls.js'

export const DEFAULTS = {
  mysqlUrl: 'mysql://root@127.0.0.1:3306/test',
  kafkaBrokers: '127.0.0.1:9092',
  kafkaTopic: 'user-events',
  kafkaGroup: 'mau-persister',
  timezone: 'UTC',
  batchSize: 20_000,
  knownUsers: 1_000_000,
  aheadMonths: 3,
  retainMonths: 13,
} as const

/**
 * Environment variables that were renamed, and how an old value reads in the new one. A Deployment that
 * still sets the old name keeps working; the new name wins when both are set.
 */
const RENAMED_ENV: Record<string, {to: string; convert?: (v: string) => string}> = {
  MAU_FROM_TIME: {to: 'MAU_CONSUME_SINCE'},
  MAU_KAFKA_SESSION_TIMEOUT_MS: {
    to: 'MAU_KAFKA_SESSION_TIMEOUT_SECONDS',
    convert: (ms) => String(Math.round(Number(ms) / 1000)),
  },
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
  return value
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean)
}

/** A repeatable flag is an array when given on the command line but one string when it comes from its env var. */
export function listOf(value: string | string[] | undefined): string[] {
  return (Array.isArray(value) ? value : value === undefined ? [] : [value]).flatMap(splitList)
}

export const SSL_MODES = ['DISABLED', 'PREFERRED', 'REQUIRED', 'VERIFY_CA', 'VERIFY_IDENTITY'] as const
export type SslMode = (typeof SSL_MODES)[number]

/** The --mysql-ssl-* flags (or their MAU_MYSQL_SSL_* variables); each wins over the URL's parameter. */
export interface MysqlTlsFlags {
  'mysql-ssl-mode'?: SslMode
  'mysql-ssl-ca'?: string
  'mysql-ssl-cert'?: string
  'mysql-ssl-key'?: string
}

export interface MysqlTls {
  mode: SslMode
  ca?: Buffer
  cert?: Buffer
  key?: Buffer
  caFile?: string
}

export interface MysqlSettings {
  host: string
  port: number
  user: string
  /** As read at start; `readPassword` reads it again, at every new connection. */
  password?: string
  readPassword: () => string | undefined
  database: string
  tls: MysqlTls
  /** The URL with any password replaced by ***, safe to print. */
  display: string
}

const withUser = (url: string, user: string) =>
  url.replace(/^mysql:\/\/(?:[^@/]*@)?/, `mysql://${encodeURIComponent(user)}@`)

export function resolveMysql(
  url: string,
  env: NodeJS.ProcessEnv = process.env,
  flags: MysqlTlsFlags = {},
): MysqlSettings {
  let parsed: URL
  try {
    parsed = new URL(url)
  } catch {
    throw configError(`Invalid MySQL URL "${redact(url)}": expected mysql://user@host[:port]/database.`)
  }
  if (parsed.protocol !== 'mysql:') {
    throw configError(`Invalid MySQL URL "${redact(url)}": the scheme must be mysql://.`)
  }
  const database = decodeURIComponent(parsed.pathname.replace(/^\//, ''))
  if (!database) {
    throw configError(`MySQL URL "${redact(url)}" names no database: expected mysql://user@host:port/database.`)
  }
  refusePasswordInUrl(
    parsed,
    url,
    'MySQL',
    'MAU_MYSQL_PASSWORD_FILE (a file, such as a mounted Secret) or MAU_MYSQL_PASSWORD',
  )
  const readPassword = () => secretFromEnv('MAU_MYSQL_PASSWORD', env)
  const password = readPassword()
  return {
    host: parsed.hostname || '127.0.0.1',
    port: parsed.port ? Number(parsed.port) : 3306,
    // Each workload its own user (least privilege), all sharing one URL: MAU_MYSQL_USER wins over the URL's.
    user: env.MAU_MYSQL_USER || decodeURIComponent(parsed.username || 'root'),
    password,
    readPassword,
    database,
    tls: mysqlTls(parsed.searchParams, flags, redact(url)),
    display: redact(env.MAU_MYSQL_USER ? withUser(url, env.MAU_MYSQL_USER) : url),
  }
}

/** The URL's ssl-* parameters under the flags; files read now, so a wrong path fails at start. */
function mysqlTls(params: URLSearchParams, flags: MysqlTlsFlags, shown: string): MysqlTls {
  const known = new Set(['ssl-mode', 'ssl-ca', 'ssl-cert', 'ssl-key'])
  const unknown = [...params.keys()].find((k) => !known.has(k))
  if (unknown)
    throw configError(
      `MySQL URL "${shown}" has the parameter "${unknown}": expected only ssl-mode, ssl-ca, ssl-cert, ssl-key.`,
    )
  const modeText = flags['mysql-ssl-mode'] ?? params.get('ssl-mode')?.toUpperCase() ?? 'PREFERRED'
  if (!(SSL_MODES as readonly string[]).includes(modeText))
    throw configError(`Invalid MySQL ssl-mode "${modeText}": expected one of ${SSL_MODES.join(', ')}.`)
  const mode = modeText as SslMode
  const file = (what: 'ca' | 'cert' | 'key') => flags[`mysql-ssl-${what}`] ?? params.get(`ssl-${what}`) ?? undefined
  const [caFile, certFile, keyFile] = [file('ca'), file('cert'), file('key')]
  if (mode === 'DISABLED' && (caFile || certFile || keyFile))
    throw configError(
      'MySQL ssl-mode is DISABLED but a CA, certificate or key is given: expected a mode that uses TLS, or no files.',
    )
  if (mode.startsWith('VERIFY') && !caFile)
    throw configError(
      `MySQL ssl-mode ${mode} needs the CA to verify against: set MAU_MYSQL_SSL_CA (or the URL's ssl-ca).`,
    )
  if (Boolean(certFile) !== Boolean(keyFile))
    throw configError(
      'A MySQL client certificate needs both MAU_MYSQL_SSL_CERT and MAU_MYSQL_SSL_KEY; only one is set.',
    )
  return {
    mode,
    caFile,
    ca: caFile ? readPem(caFile, 'MAU_MYSQL_SSL_CA') : undefined,
    cert: certFile ? readPem(certFile, 'MAU_MYSQL_SSL_CERT') : undefined,
    key: keyFile ? readPem(keyFile, 'MAU_MYSQL_SSL_KEY') : undefined,
  }
}
