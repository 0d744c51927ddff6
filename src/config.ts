/**
 * Every setting of `mau` in one place: each is a flag, an environment variable (MAU_*) and a default,
 * in that order of precedence (oclif applies it). Secrets are environment- or file-only, so they never
 * show in `ps`, shell history or `--help`, and `redact` keeps them out of logs, errors and JSON.
 */
import {Flags} from '@oclif/core'
import {readFileSync} from 'node:fs'
import {configError} from './errors.js'

export const DEFAULTS = {
  mysqlUrl: 'mysql://root@127.0.0.1:3306/test',
  kafkaBrokers: '127.0.0.1:9092',
  kafkaTopic: 'user-events',
  kafkaGroup: 'mau-persister',
  timezone: 'UTC',
  batchSize: 5000,
  aheadMonths: 3,
  retainMonths: 13,
} as const

export function isValidTimezone(zone: string): boolean {
  try {
    new Intl.DateTimeFormat('en-US', {timeZone: zone})
    return true
  } catch {
    return false
  }
}

export const mysqlFlags = {
  'mysql-url': Flags.string({
    env: 'MAU_MYSQL_URL',
    default: DEFAULTS.mysqlUrl,
    summary: 'MySQL connection URL (mysql://user@host:port/database).',
    description: 'The password may be in the URL, or in MAU_MYSQL_PASSWORD or MAU_MYSQL_PASSWORD_FILE (a mounted secret), which win in that order.',
    helpGroup: 'MYSQL',
  }),
}

export const timezoneFlag = {
  timezone: Flags.string({
    env: 'MAU_TIMEZONE',
    default: DEFAULTS.timezone,
    summary: 'IANA time zone that decides which month an event belongs to.',
    async parse(input) {
      if (!isValidTimezone(input)) {
        throw configError(`Unknown time zone "${input}": expected an IANA name such as UTC or Asia/Tokyo.`)
      }
      return input
    },
  }),
}

/** Splits "a,b, c" into ["a","b","c"], dropping empties; used for lists given in one env var. */
export function splitList(value: string): string[] {
  return value.split(',').map((s) => s.trim()).filter(Boolean)
}

export const kafkaFlags = {
  brokers: Flags.string({
    env: 'MAU_KAFKA_BROKERS',
    default: DEFAULTS.kafkaBrokers,
    summary: 'Kafka bootstrap brokers, comma-separated host:port.',
    helpGroup: 'KAFKA',
    async parse(input) {
      const brokers = splitList(input)
      const bad = brokers.find((b) => !/^[^\s:]+:\d{1,5}$/.test(b))
      if (brokers.length === 0 || bad !== undefined) {
        throw configError(`Invalid Kafka broker "${bad ?? input}": expected host:port, comma-separated.`)
      }
      return input
    },
  }),
}

/** A repeatable flag is an array when given on the command line but one string when it comes from its env var. */
export function listOf(value: string | string[] | undefined): string[] {
  return (Array.isArray(value) ? value : value === undefined ? [] : [value]).flatMap(splitList)
}

export const topicFlags = {
  topic: Flags.string({
    env: 'MAU_KAFKA_TOPICS',
    default: [DEFAULTS.kafkaTopic],
    multiple: true,
    delimiter: ',',
    summary: 'Kafka topic of user events; repeat the flag, or comma-separate in MAU_KAFKA_TOPICS.',
    helpGroup: 'KAFKA',
  }),
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
    user: decodeURIComponent(parsed.username || 'root'),
    password,
    database,
    display: redact(url),
  }
}

/** A secret from NAME, or from the file NAME_FILE points to (a mounted Kubernetes secret); registered for redaction. */
export function secretFromEnv(name: string, env: NodeJS.ProcessEnv = process.env): string | undefined {
  const value = env[`${name}_FILE`] ? readSecretFile(env[`${name}_FILE`]!, `${name}_FILE`) : env[name] || undefined
  registerSecret(value)
  return value
}

/** Reads a mounted secret; a trailing newline (as `kubectl create secret --from-file` keeps) is not part of it. */
function readSecretFile(path: string, variable: string): string {
  try {
    return readFileSync(path, 'utf8').replace(/\r?\n$/, '')
  } catch (error) {
    throw configError(`${variable} points to "${path}", which cannot be read (${(error as NodeJS.ErrnoException).code ?? 'error'}).`)
  }
}

const secrets = new Set<string>()

/** Every secret read is registered, so that `redact` can scrub it wherever it would otherwise be printed. */
export function registerSecret(value: string | undefined): void {
  if (value && value.length >= 4) secrets.add(value)
}

/** Hides URL passwords and every registered secret in a string. */
export function redact(text: string): string {
  let out = text.replace(/(\/\/[^:/@\s]*:)[^@\s]*@/g, '$1***@')
  for (const secret of secrets) out = out.split(secret).join('***')
  return out
}

export const aheadMonthsFlag = {
  'ahead-months': Flags.integer({
    env: 'MAU_PARTITIONS_AHEAD',
    default: DEFAULTS.aheadMonths,
    min: 0,
    max: 24,
    summary: 'Months after the current one that get their own partition in advance.',
  }),
}

export const migrationsDirFlag = {
  'migrations-dir': Flags.directory({
    env: 'MAU_MIGRATIONS_DIR',
    hidden: true,
    summary: 'Folder of migration files (defaults to the migrations/ shipped with mau).',
  }),
}

export const consumeFlags = {
  group: Flags.string({
    env: 'MAU_KAFKA_GROUP',
    default: DEFAULTS.kafkaGroup,
    summary: 'Kafka consumer group; its own, so the existing pipeline\'s groups are untouched.',
    helpGroup: 'KAFKA',
  }),
  format: Flags.option({options: ['json', 'protobuf'] as const, env: 'MAU_EVENT_FORMAT', default: 'json' as const, summary: 'Encoding of the messages.'})(),
  'batch-size': Flags.integer({
    env: 'MAU_BATCH_SIZE',
    default: DEFAULTS.batchSize,
    min: 1,
    max: 100_000,
    summary: 'Most messages per MySQL transaction.',
  }),
  concurrency: Flags.integer({env: 'MAU_CONCURRENCY', default: 2, min: 1, max: 32, summary: 'Partitions processed at once, each in its own transaction.'}),
  'stop-at-end': Flags.boolean({
    env: 'MAU_STOP_AT_END',
    default: false,
    summary: 'Exit 0 once every partition reaches the high-water mark it had at start (backfills, tests, benchmarks).',
  }),
  'session-timeout': Flags.integer({
    env: 'MAU_KAFKA_SESSION_TIMEOUT_MS',
    default: 30_000,
    min: 6_000,
    summary: 'Kafka group session timeout (ms): how long a dead replica holds its partitions.',
    helpGroup: 'KAFKA',
  }),
  'from-time': Flags.string({
    env: 'MAU_FROM_TIME',
    summary: 'Start partitions the group has not consumed yet at this instant (e.g. the month\'s start) rather than the oldest retained event.',
    description: 'ISO 8601, or a date and time read in --timezone. Partitions with stored offsets resume from them: rewinding those would count events twice.',
  }),
  'metrics-port': Flags.integer({env: 'MAU_METRICS_PORT', min: 1, max: 65_535, summary: 'Serve Prometheus /metrics, /healthz and /readyz on this port.'}),
  'stall-seconds': Flags.integer({
    env: 'MAU_STALL_SECONDS',
    default: 300,
    min: 10,
    summary: '/healthz fails after this long without progress while there is lag.',
  }),
}

export const retentionFlags = {
  'retain-months': Flags.integer({
    env: 'MAU_PARTITIONS_RETAIN',
    default: DEFAULTS.retainMonths,
    min: 0,
    max: 120,
    summary: 'Months kept, the current one included (13: last year\'s same month stays comparable). The current and previous month are never dropped.',
  }),
}

export const lockWaitFlag = {
  'lock-wait': Flags.integer({
    env: 'MAU_LOCK_WAIT_SECONDS',
    default: 10,
    min: 0,
    max: 3600,
    summary: 'Seconds to wait for another run\'s lock before exiting 3.',
  }),
}

const DRUID_GROUP = 'DRUID'
/** Datasource and column names go into SQL as quoted identifiers (druid-events.ts escapes quotes): 1 to 255 printable characters. */
const druidName = (what: string, summary: string) => ({
  env: `MAU_DRUID_${what.toUpperCase().replace(/-/g, '_')}`,
  summary,
  helpGroup: DRUID_GROUP,
  async parse(input: string) {
    if (!/^[^\u0000-\u001f]{1,255}$/.test(input)) throw configError(`Invalid Druid ${what.replace(/-/g, ' ')} ${JSON.stringify(input)}: expected 1 to 255 printable characters.`)
    return input
  },
})

export const druidFlags = {
  'druid-url': Flags.string({
    env: 'MAU_DRUID_URL',
    default: 'http://127.0.0.1:8888',
    summary: 'Druid router or broker base URL (queries go to /druid/v2/sql).',
    description: 'Basic auth: MAU_DRUID_USER, and the password in MAU_DRUID_PASSWORD or MAU_DRUID_PASSWORD_FILE.',
    helpGroup: DRUID_GROUP,
    async parse(input) {
      if (!/^https?:\/\/[^\s/]+/.test(input)) throw configError(`Invalid Druid URL "${redact(input)}": expected http(s)://host:port.`)
      return input
    },
  }),
  'druid-user': Flags.string({env: 'MAU_DRUID_USER', summary: 'Druid basic-auth user.', helpGroup: DRUID_GROUP}),
  'druid-ca-file': Flags.file({env: 'MAU_DRUID_CA_FILE', exists: true, summary: 'PEM certificates to trust for an https Druid URL.', helpGroup: DRUID_GROUP}),
  'druid-insecure': Flags.boolean({env: 'MAU_DRUID_INSECURE', summary: 'Do not verify Druid\'s TLS certificate (never in production).', helpGroup: DRUID_GROUP}),
  'druid-timeout': Flags.integer({env: 'MAU_DRUID_TIMEOUT_SECONDS', default: 300, min: 1, max: 86_400, summary: 'Seconds a Druid query may run before it is cancelled.', helpGroup: DRUID_GROUP}),
  'druid-datasource': Flags.string({...druidName('datasource', 'Druid datasource of the user events (time column __time).'), default: 'user_events'}),
  'druid-user-column': Flags.string({...druidName('user-column', 'Druid column of the user id.'), default: 'user_id'}),
  'druid-namespace-column': Flags.string({...druidName('namespace-column', 'Druid column of the environment namespace.'), default: 'environment_namespace'}),
  'druid-source-column': Flags.string({...druidName('source-column', 'Druid column of the source (name or number).'), default: 'source_id'}),
  'druid-events-column': Flags.string(druidName('events-column', 'A rolled-up datasource\'s count metric: events are its SUM instead of COUNT(*).')),
}

export interface DruidFlagValues {
  'druid-url': string
  'druid-user'?: string
  'druid-ca-file'?: string
  'druid-insecure': boolean
  'druid-timeout': number
  'druid-datasource': string
  'druid-user-column': string
  'druid-namespace-column': string
  'druid-source-column': string
  'druid-events-column'?: string
}

export function resolveDruid(flags: DruidFlagValues, env: NodeJS.ProcessEnv = process.env) {
  return {
    client: {
      url: flags['druid-url'],
      user: flags['druid-user'],
      password: secretFromEnv('MAU_DRUID_PASSWORD', env),
      ca: flags['druid-ca-file'] ? readFileSync(flags['druid-ca-file'], 'utf8') : undefined,
      insecure: flags['druid-insecure'],
      timeoutMs: flags['druid-timeout'] * 1000,
    },
    schema: {
      datasource: flags['druid-datasource'],
      userColumn: flags['druid-user-column'],
      namespaceColumn: flags['druid-namespace-column'],
      sourceColumn: flags['druid-source-column'],
      eventsColumn: flags['druid-events-column'],
    },
  }
}
