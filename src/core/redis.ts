/**
 * Redis, the platform's own event bus (Redis Streams): where it is, how to log in, and a client that reads
 * its password again at every connection. ioredis (v5): maintained, every Streams command with Buffer
 * replies, TLS, ACL users, and the password read from its options at each (re)connection, which a getter
 * there turns into a rotated Secret taking effect without a restart.
 */
import {Redis, type RedisOptions} from 'ioredis'
import {ExitCode, MauError, configError} from './errors.js'
import {redact, refusePasswordInUrl, secretFromEnv} from './secrets.js'
import {readPem, tlsRefusal} from './tls.js'

export const EVENT_SOURCES = ['kafka', 'redis'] as const
export type EventSource = (typeof EVENT_SOURCES)[number]

/** The platform splits every topic into this many streams (pkg/pubsub/redis: defaultStreamPartitionCount). */
export const DEFAULT_REDIS_PARTITIONS = 16
export const DEFAULT_REDIS_URL = 'redis://127.0.0.1:6379'

export interface RedisSettings {
  host: string
  port: number
  db: number
  tls: boolean
  ca?: Buffer
  caFile?: string
  username?: string
  /** Read again at every connection (MAU_REDIS_PASSWORD_FILE, or MAU_REDIS_PASSWORD). */
  readPassword: () => string | undefined
  /** host:port with the scheme, safe to print. */
  display: string
}

export interface RedisFlags {
  'redis-url': string
  'redis-username'?: string
  'redis-tls-ca-file'?: string
}

/** Pure but for the CA file (read now, so that a wrong path fails at start) and the password (read at each connection). */
export function resolveRedis(flags: RedisFlags, env: NodeJS.ProcessEnv = process.env): RedisSettings {
  const url = flags['redis-url']
  let parsed: URL
  try {
    parsed = new URL(url)
  } catch {
    throw configError(`Invalid Redis URL "${redact(url)}": expected redis://host:port or rediss://host:port (TLS).`)
  }
  if (parsed.protocol !== 'redis:' && parsed.protocol !== 'rediss:')
    throw configError(`Invalid Redis URL "${redact(url)}": the scheme must be redis:// or rediss:// (TLS).`)
  refusePasswordInUrl(
    parsed,
    url,
    'Redis',
    'MAU_REDIS_PASSWORD_FILE (a file, such as a mounted Secret) or MAU_REDIS_PASSWORD',
  )
  const path = parsed.pathname.replace(/^\//, '')
  if (path !== '' && !/^\d{1,2}$/.test(path))
    throw configError(`Invalid Redis URL "${redact(url)}": the path, if any, is the database number (0 to 15).`)
  const tls = parsed.protocol === 'rediss:'
  const caFile = flags['redis-tls-ca-file']
  if (caFile && !tls)
    throw configError(
      `MAU_REDIS_TLS_CA_FILE is set but the Redis URL "${redact(url)}" is not rediss://: the CA would not be used.`,
      ['Use rediss:// for TLS, or unset MAU_REDIS_TLS_CA_FILE.'],
    )
  const username = flags['redis-username'] || (parsed.username ? decodeURIComponent(parsed.username) : undefined)
  const readPassword = () => secretFromEnv('MAU_REDIS_PASSWORD', env)
  readPassword()
  return {
    host: parsed.hostname || '127.0.0.1',
    port: parsed.port ? Number(parsed.port) : 6379,
    db: path === '' ? 0 : Number(path),
    tls,
    caFile,
    ca: caFile ? readPem(caFile, 'MAU_REDIS_TLS_CA_FILE') : undefined,
    username,
    readPassword,
    display: `${parsed.protocol}//${username ? `${encodeURIComponent(username)}@` : ''}${parsed.host}`,
  }
}

/**
 * A client that connects when first used, fails a command at once while Redis is down (the caller decides
 * on retries), and reconnects with a capped backoff. The password getter replaces ioredis' copy of it.
 * TCP keepalive and `commandTimeoutMs` make a connection that died silently (a node or network lost, no
 * reset) fail its commands, so that it is retried, rather than freeze a read and the shutdown after it.
 */
export function createRedis(s: RedisSettings, name: string, o: {commandTimeoutMs?: number} = {}): Redis {
  const options: RedisOptions = {
    host: s.host,
    port: s.port,
    db: s.db,
    username: s.username,
    connectionName: name,
    lazyConnect: true,
    enableOfflineQueue: false,
    maxRetriesPerRequest: 1,
    connectTimeout: 5_000,
    keepAlive: 10_000,
    ...(o.commandTimeoutMs ? {commandTimeout: o.commandTimeoutMs} : {}),
    retryStrategy: (times) => Math.min(times * 200, 5_000),
    ...(s.tls ? {tls: {host: s.host, servername: s.host, ...(s.ca ? {ca: s.ca} : {})}} : {}),
  }
  const redis = new Redis(options)
  Object.defineProperty(redis.options, 'password', {get: s.readPassword, enumerable: true, configurable: true})
  // Errors surface through the commands that fail; an unhandled 'error' event would end the process. The
  // socket's own error (a TLS verdict) is kept: a failed connect() only says "Connection is closed".
  redis.on('error', (error: Error) => lastErrors.set(redis, error))
  return redis
}

const lastErrors = new WeakMap<Redis, Error>()

/** Connects (or waits for the connection) and maps a refusal to exit 2 and an outage to exit 4. */
export async function connectRedis(redis: Redis, s: RedisSettings): Promise<void> {
  try {
    if (redis.status === 'wait') await redis.connect()
    await redis.ping()
  } catch (error) {
    // Otherwise it would keep reconnecting in the background of a run that has ended.
    redis.disconnect()
    throw redisError(lastErrors.get(redis) ?? error, s)
  }
}

/** mau reads entries-added (XINFO STREAM), which Redis counts since 7.0: without it, trimmed entries go unseen. */
export const REDIS_MIN_MAJOR = 7

/** Pure: the redis_version of an INFO server reply ("" when absent). */
export const redisVersionOf = (info: string): string => /^redis_version:(\S+)/m.exec(info)?.[1] ?? ''

/** Pure: undefined when the version will do, else the refusal (exit 2). */
export function redisTooOld(version: string, s: Pick<RedisSettings, 'display'>): MauError | undefined {
  const major = Number(/^(\d+)\./.exec(version)?.[1])
  if (major >= REDIS_MIN_MAJOR) return undefined
  return new MauError(
    `Redis at ${s.display} is version ${version || 'unknown'}; mau needs Redis ${REDIS_MIN_MAJOR} or later, whose XINFO STREAM counts the entries ever added (entries-added), without which entries trimmed before they were applied would go unrecorded.`,
    {
      exit: ExitCode.CONFIG,
      code: 'REDIS_TOO_OLD',
      suggestions: [`Upgrade Redis to ${REDIS_MIN_MAJOR}.0 or later.`],
    },
  )
}

/** Reads the server's version (INFO server) and refuses one before Redis 7 with exit 2. */
export async function requireRedis7(redis: Redis, s: RedisSettings): Promise<string> {
  let version: string
  try {
    version = redisVersionOf(await redis.info('server'))
  } catch (error) {
    throw redisError(error, s)
  }
  const refusal = redisTooOld(version, s)
  if (refusal) throw refusal
  return version
}

/** A Redis error as mau shows it: AUTH and TLS refusals are configuration (exit 2), the rest an outage (exit 4). */
export function redisError(error: unknown, s: RedisSettings): MauError {
  if (error instanceof MauError) return error
  const message = (error as Error)?.message ?? String(error)
  if (/WRONGPASS|NOAUTH|invalid username-password|NOPERM/i.test(message)) {
    return new MauError(
      `Redis at ${s.display} refused the login${s.username ? ` of user "${s.username}"` : ''}: ${redact(message)}`,
      {
        exit: ExitCode.CONFIG,
        code: 'REDIS_AUTH_REFUSED',
        suggestions: [
          "Check MAU_REDIS_USERNAME and MAU_REDIS_PASSWORD(_FILE) against the server's requirepass or ACL user; the user needs +xread +xinfo +xrange +xrevrange +ping +info on the streams' keys.",
        ],
      },
    )
  }
  const tls = s.tls
    ? tlsRefusal(error, {service: 'Redis', address: s.display, caFile: s.caFile, caSetting: 'MAU_REDIS_TLS_CA_FILE'})
    : undefined
  if (tls) return tls
  return new MauError(`Redis at ${s.display} is unreachable: ${redact(message)}`, {
    exit: ExitCode.UNAVAILABLE,
    code: 'REDIS_UNAVAILABLE',
    suggestions: ['Check MAU_REDIS_URL and that Redis is up (mau doctor --source redis).'],
  })
}
