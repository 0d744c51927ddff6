/**
 * Every flag that more than one command takes, defined once with oclif's Flags.custom: parsed and
 * validated here, so a command receives a month, an instant or a list and never re-checks it. Each is
 * a flag, an environment variable (MAU_*) and a default, in that order of precedence (oclif applies it).
 */
import {Flags} from '@oclif/core'
import {configError} from './errors.js'
import {sourceName} from './platform.js'
import {ACTIVITY_KINDS, type ActivityKind} from './platform.js'
import {type MonthArg, parseInstant, parseMonthArg} from './month.js'
import {SASL_MECHANISMS, SECURITY_PROTOCOLS} from './kafka-security.js'
import {DEFAULT_REDIS_PARTITIONS, DEFAULT_REDIS_URL, EVENT_SOURCES, resolveRedis} from './redis.js'
import {redact} from './secrets.js'
import {DEFAULTS, SSL_MODES, isValidTimezone, splitList} from './settings.js'

export const mysqlUrl = Flags.string({
  env: 'MAU_MYSQL_URL',
  default: DEFAULTS.mysqlUrl,
  summary: 'MySQL connection URL (mysql://user@host:port/database).',
  description:
    'No password in it (refused, exit 2: a URL shows in `ps`): the password comes from MAU_MYSQL_PASSWORD_FILE (a mounted secret) or MAU_MYSQL_PASSWORD, the file winning.',
  helpGroup: 'MYSQL',
})

export const timezone = Flags.custom<string>({
  env: 'MAU_TIMEZONE',
  default: DEFAULTS.timezone,
  summary: 'IANA time zone that decides which month an event belongs to; recorded in the database by the first run.',
  description:
    'The first `db migrate` given a zone, or the first workload, records it; every later run uses the recorded zone, and one given another zone exits 2. `mau db timezone` shows and changes it.',
  async parse(input) {
    if (!isValidTimezone(input))
      throw configError(`Unknown time zone "${input}": expected an IANA name such as UTC or Asia/Tokyo.`)
    return input
  },
})()

/**
 * --month: YYYYMM or YYYY-MM, or `current` / `previous`, which the command reads in the recorded zone once it
 * knows it (`monthIn`); a relative default is that word, so the help and the manifest never show a date.
 */
export function month(
  o: {
    relative?: 'current' | 'previous'
    required?: boolean
    summary?: string
    description?: string
    exclusive?: string[]
  } = {},
) {
  const base = {
    summary: o.summary ?? 'YYYYMM or YYYY-MM, or current or previous (in the recorded time zone).',
    description: o.description,
    exclusive: o.exclusive,
    parse: async (input: string) => parseMonthArg(input),
  }
  if (o.required) return Flags.custom<MonthArg>({...base, required: true})()
  if (!o.relative) return Flags.custom<MonthArg>(base)()
  return Flags.custom<MonthArg>({
    ...base,
    default: o.relative,
    defaultHelp: async () => `${o.relative}: the ${o.relative} month in the recorded time zone`,
  })()
}

/** An instant given by an operator; checked as it is parsed, read in the recorded zone by `.in(zone)` when it has no offset. */
export interface Instant {
  input: string
  in(zone: string): number
}

const parseInstantFlag = async (input: string, _ctx: unknown, opts: {name: string}): Promise<Instant> => {
  const flag = `--${opts.name}`
  parseInstant(input, DEFAULTS.timezone, flag)
  return {input, in: (zone: string) => parseInstant(input, zone, flag)}
}

type InstantOptions = {summary: string; description?: string; env?: string; aliases?: string[]}

export function instant(o: InstantOptions) {
  return Flags.custom<Instant>({...o, parse: parseInstantFlag})()
}

export function requiredInstant(o: InstantOptions) {
  return Flags.custom<Instant>({...o, required: true, parse: parseInstantFlag})()
}

export const eventFormat = Flags.option({
  options: ['json', 'protobuf'] as const,
  env: 'MAU_EVENT_FORMAT',
  default: 'json' as const,
  summary: 'Encoding of the messages.',
})()

/** The kinds of activity counted, comma-separated; an unknown kind is refused with the known ones. */
export const activity = Flags.custom<ReadonlySet<ActivityKind>>({
  env: 'MAU_CONSUME_ACTIVITY',
  default: async () => new Set(ACTIVITY_KINDS),
  defaultHelp: async () => ACTIVITY_KINDS.join(','),
  summary: 'Kinds of events that count a user active: user, evaluation, goal (comma-separated).',
  description:
    'Envelopes of other kinds (metrics events, and kinds left out here) are ignored: no row, no dead letter; the summary and mau_events_ignored_total count them by type URL.',
  async parse(input) {
    const kinds = splitList(input)
    const unknown = kinds.filter((k) => !(ACTIVITY_KINDS as readonly string[]).includes(k))
    if (kinds.length === 0 || unknown.length > 0)
      throw configError(
        `--activity "${input}" is invalid: expected one or more of ${ACTIVITY_KINDS.join(', ')}, comma-separated.`,
      )
    return new Set(kinds as ActivityKind[])
  },
})()

/** --source: repeatable or comma-separated; numbers read as the platform's SourceId, so 3 is WEB, as the consumer stores it. */
export const source = Flags.custom<string>({
  multiple: true,
  delimiter: ',',
  summary:
    'Only these sources: a name such as IOS or FLUTTER, or its SourceId number (repeatable, or comma-separated).',
  async parse(input) {
    const parsed = sourceName(input.trim())
    if (!parsed.ok) throw configError(`--source: ${parsed.message}.`)
    return parsed.value
  },
})()

/** A repeatable list flag: repeat it or comma-separate; each value trimmed. */
export const list = (summary: string) =>
  Flags.custom<string>({multiple: true, delimiter: ',', summary, parse: async (input) => input.trim()})()

export const namespace = list('Only these environments (repeatable, or comma-separated).')

export const csv = Flags.boolean({summary: 'Print CSV instead of a table.', exclusive: ['json']})

/** How long to wait for another run's named lock; commands that usually just queue behind a peer (migrate, report) wait longer. */
export const lockWait = (seconds = 10) =>
  Flags.integer({
    env: 'MAU_LOCK_WAIT_SECONDS',
    default: seconds,
    min: 0,
    max: 3600,
    summary: "Seconds to wait for another run's lock before exiting 3.",
  })

export const aheadMonths = Flags.integer({
  env: 'MAU_PARTITIONS_AHEAD',
  default: DEFAULTS.aheadMonths,
  min: 0,
  max: 24,
  summary: 'Months after the current one that get their own partition in advance.',
})

export const retainMonths = Flags.integer({
  env: 'MAU_PARTITIONS_RETAIN',
  default: DEFAULTS.retainMonths,
  min: 0,
  max: 120,
  summary:
    "Months kept, the current one included (13: last year's same month stays comparable). The current and previous month are never dropped.",
})

export const migrationsDir = Flags.directory({
  env: 'MAU_MIGRATIONS_DIR',
  summary: 'Folder of migration files (defaults to the migrations/ shipped with mau).',
})

export const brokers = Flags.string({
  env: 'MAU_KAFKA_BROKERS',
  default: DEFAULTS.kafkaBrokers,
  summary: 'Kafka bootstrap brokers, comma-separated host:port.',
  helpGroup: 'KAFKA',
  async parse(input) {
    const list = splitList(input)
    const bad = list.find((b) => !/^[^\s:]+:\d{1,5}$/.test(b))
    if (list.length === 0 || bad !== undefined)
      throw configError(`Invalid Kafka broker "${bad ?? input}": expected host:port, comma-separated.`)
    return input
  },
})

export const topic = Flags.string({
  env: 'MAU_KAFKA_TOPICS',
  default: [DEFAULTS.kafkaTopic],
  multiple: true,
  delimiter: ',',
  summary: 'Kafka topic of user events; repeat the flag, or comma-separate in MAU_KAFKA_TOPICS.',
  helpGroup: 'KAFKA',
})

/**
 * How to reach a managed Kafka: the names Kafka's own clients use (security.protocol, sasl.mechanism, ssl.*).
 * The SASL password is a secret, so it has no flag: MAU_KAFKA_SASL_PASSWORD or MAU_KAFKA_SASL_PASSWORD_FILE.
 */
export const kafkaSecurity = {
  'kafka-security-protocol': Flags.option({
    options: SECURITY_PROTOCOLS,
    env: 'MAU_KAFKA_SECURITY_PROTOCOL',
    default: 'PLAINTEXT' as const,
    summary: 'How to talk to the brokers: TLS (SSL), SASL login, both (SASL_SSL), or neither.',
    helpGroup: 'KAFKA',
  })(),
  'kafka-sasl-mechanism': Flags.option({
    options: SASL_MECHANISMS,
    env: 'MAU_KAFKA_SASL_MECHANISM',
    summary: 'SASL mechanism, with SASL_SSL or SASL_PLAINTEXT.',
    helpGroup: 'KAFKA',
  })(),
  'kafka-sasl-username': Flags.string({
    env: 'MAU_KAFKA_SASL_USERNAME',
    summary: 'SASL user (PLAIN, SCRAM).',
    description:
      'Its password in MAU_KAFKA_SASL_PASSWORD, or in the file MAU_KAFKA_SASL_PASSWORD_FILE names (read again at every new connection, so a rotated Secret takes effect without a restart).',
    helpGroup: 'KAFKA',
  }),
  'kafka-sasl-oauthbearer-token-file': Flags.string({
    env: 'MAU_KAFKA_SASL_OAUTHBEARER_TOKEN_FILE',
    summary: 'File holding the OAUTHBEARER token a sidecar keeps fresh; read again at every authentication.',
    helpGroup: 'KAFKA',
  }),
  'kafka-ssl-ca-file': Flags.string({
    env: 'MAU_KAFKA_SSL_CA_FILE',
    summary:
      "PEM CA bundle the brokers' certificates are checked against (default: the system's). Their names are always checked.",
    helpGroup: 'KAFKA',
  }),
  'kafka-ssl-cert-file': Flags.string({
    env: 'MAU_KAFKA_SSL_CERT_FILE',
    summary: 'PEM client certificate, for brokers that require mutual TLS.',
    helpGroup: 'KAFKA',
  }),
  'kafka-ssl-key-file': Flags.string({
    env: 'MAU_KAFKA_SSL_KEY_FILE',
    summary: 'PEM private key of the client certificate.',
    helpGroup: 'KAFKA',
  }),
}

/** What every command that reaches Kafka takes: the brokers and how to talk to them. */
export const kafka = {brokers, ...kafkaSecurity}

/** One topic, for the commands that act on its partitions (mau offsets reset, ack-loss). */
export const oneTopic = Flags.string({required: true, summary: 'The Kafka topic.', helpGroup: 'KAFKA'})
export const kafkaPartition = Flags.integer({
  min: 0,
  summary: 'Only this partition of the topic (default: every one).',
  helpGroup: 'KAFKA',
})

/** Where the platform's events are read: Kafka (the default), or the Redis Streams today's platform writes. */
export const eventSource = Flags.option({
  options: EVENT_SOURCES,
  env: 'MAU_EVENT_SOURCE',
  default: 'kafka' as const,
  summary: "The event bus to read: kafka, or redis (the platform's Redis Streams, since v2.3.0).",
  description: 'See docs/event-sources.md for which to choose.',
})()

/** The platform's Redis (Streams): where, who, and which streams. The password has no flag: MAU_REDIS_PASSWORD or MAU_REDIS_PASSWORD_FILE. */
export const redis = {
  'redis-url': Flags.string({
    env: 'MAU_REDIS_URL',
    default: DEFAULT_REDIS_URL,
    summary: 'Redis URL: redis://host:port, or rediss://host:port for TLS (optionally /db).',
    description:
      'No password in it (refused, exit 2): it comes from MAU_REDIS_PASSWORD_FILE (read again at every connection) or MAU_REDIS_PASSWORD.',
    helpGroup: 'REDIS',
    async parse(input) {
      resolveRedis({'redis-url': input}, {})
      return input
    },
  }),
  'redis-username': Flags.string({
    env: 'MAU_REDIS_USERNAME',
    summary: 'ACL user to log in as (with the password of MAU_REDIS_PASSWORD(_FILE)); default: the default user.',
    helpGroup: 'REDIS',
  }),
  'redis-tls-ca-file': Flags.string({
    env: 'MAU_REDIS_TLS_CA_FILE',
    summary: "PEM CA bundle the server's certificate is checked against, with rediss:// (default: the system's).",
    helpGroup: 'REDIS',
  }),
  'redis-stream': Flags.string({
    env: 'MAU_REDIS_STREAMS',
    multiple: true,
    delimiter: ',',
    summary:
      'Topic of the platform whose streams are read (e.g. evaluation, goal); repeat the flag, or comma-separate in MAU_REDIS_STREAMS.',
    description: 'The platform writes topic T as the streams T-0{stream} .. T-15{stream} (--redis-partitions).',
    helpGroup: 'REDIS',
  }),
  'redis-partitions': Flags.integer({
    env: 'MAU_REDIS_PARTITIONS',
    default: DEFAULT_REDIS_PARTITIONS,
    min: 1,
    max: 1024,
    summary: 'Streams per topic, as the platform splits them (its defaultStreamPartitionCount).',
    helpGroup: 'REDIS',
  }),
}

/** The consumer's group: verify-migration reads the offsets this group stored. */
export const group = Flags.string({
  env: 'MAU_KAFKA_GROUP',
  default: DEFAULTS.kafkaGroup,
  summary:
    "Consumer group: names the positions stored in MySQL, for Kafka and Redis alike; its own, so the platform's groups are untouched.",
  helpGroup: 'KAFKA',
})

const DRUID = 'DRUID'
/** Datasource and column names go into SQL as quoted identifiers (druid/events.ts escapes quotes): 1 to 255 printable characters. */
const druidName = (what: string, summary: string) => ({
  env: `MAU_DRUID_${what.toUpperCase().replace(/-/g, '_')}`,
  summary,
  helpGroup: DRUID,
  async parse(input: string) {
    if (!/^[^\u0000-\u001f]{1,255}$/.test(input))
      throw configError(
        `Invalid Druid ${what.replace(/-/g, ' ')} ${JSON.stringify(input)}: expected 1 to 255 printable characters.`,
      )
    return input
  },
})

/** Where the old pipeline's events are read (verify-migration, backfill, doctor --druid); see druid/settings.ts. */
export const druid = {
  'druid-url': Flags.string({
    env: 'MAU_DRUID_URL',
    default: 'http://127.0.0.1:8888',
    summary: 'Druid router or broker base URL (queries go to /druid/v2/sql).',
    description: 'Basic auth: MAU_DRUID_USER, and the password in MAU_DRUID_PASSWORD or MAU_DRUID_PASSWORD_FILE.',
    helpGroup: DRUID,
    async parse(input) {
      if (!/^https?:\/\/[^\s/]+/.test(input))
        throw configError(`Invalid Druid URL "${redact(input)}": expected http(s)://host:port.`)
      return input
    },
  }),
  'druid-user': Flags.string({env: 'MAU_DRUID_USER', summary: 'Druid basic-auth user.', helpGroup: DRUID}),
  'druid-ca-file': Flags.file({
    env: 'MAU_DRUID_CA_FILE',
    exists: true,
    summary: 'PEM certificates to trust for an https Druid URL.',
    helpGroup: DRUID,
  }),
  'druid-insecure': Flags.boolean({
    env: 'MAU_DRUID_INSECURE',
    summary: "Do not verify Druid's TLS certificate (never in production).",
    helpGroup: DRUID,
  }),
  'druid-timeout': Flags.integer({
    env: 'MAU_DRUID_TIMEOUT_SECONDS',
    default: 300,
    min: 1,
    max: 86_400,
    summary: 'Seconds a Druid query may run before it is cancelled.',
    helpGroup: DRUID,
  }),
  'druid-datasource': Flags.string({
    ...druidName('datasource', 'Druid datasource of the user events (time column __time).'),
    default: 'user_events',
  }),
  'druid-user-column': Flags.string({...druidName('user-column', 'Druid column of the user id.'), default: 'user_id'}),
  'druid-namespace-column': Flags.string({
    ...druidName('namespace-column', 'Druid column of the environment namespace.'),
    default: 'environment_namespace',
  }),
  'druid-environment-id-column': Flags.string(
    druidName(
      'environment-id-column',
      'Druid column of the environment id (since November 2024): the environment is this when non-empty, else --druid-namespace-column, as the consumer reads it.',
    ),
  ),
  'druid-source-column': Flags.string({
    ...druidName('source-column', 'Druid column of the source (name or number).'),
    default: 'source_id',
  }),
  'druid-events-column': Flags.string(
    druidName('events-column', "A rolled-up datasource's count metric: events are its SUM instead of COUNT(*)."),
  ),
}

/** Druid's Kafka supervisor of the user events (doctor --druid, verify-migration). */
export const druidSupervisor = {
  'druid-overlord-url': Flags.string({
    env: 'MAU_DRUID_OVERLORD_URL',
    summary:
      'Druid overlord (or router) base URL for the supervisor API; defaults to --druid-url, as a router serves both.',
    helpGroup: DRUID,
    async parse(input) {
      if (!/^https?:\/\/[^\s/]+/.test(input))
        throw configError(`Invalid Druid overlord URL "${redact(input)}": expected http(s)://host:port.`)
      return input
    },
  }),
  'druid-supervisor': Flags.string({
    ...druidName('supervisor', 'Druid supervisor that ingests the user-events topic; defaults to --druid-datasource.'),
  }),
}

/** Which dead letters a `deadletter` command is about. */
export const deadLetterFilter = {
  topic: Flags.string({summary: 'Only this topic.'}),
  group: Flags.string({summary: 'Only this consumer group.'}),
}

export const setAsideSince = instant({
  summary:
    'Only entries set aside at or after this instant: ISO 8601, or a date and time read in the recorded time zone.',
})

const mysqlTlsFile = (what: string, summary: string) =>
  Flags.string({
    env: `MAU_MYSQL_SSL_${what.toUpperCase()}`,
    summary,
    description: `Also the URL's ssl-${what} parameter; this wins.`,
    helpGroup: 'MYSQL',
  })

/** TLS to MySQL, named as the mysql client names it (--ssl-mode, --ssl-ca, --ssl-cert, --ssl-key). */
export const mysqlTls = {
  'mysql-ssl-mode': Flags.option({
    options: SSL_MODES,
    env: 'MAU_MYSQL_SSL_MODE',
    summary:
      'DISABLED, PREFERRED (TLS when the server offers it), REQUIRED (TLS, unverified), VERIFY_CA, VERIFY_IDENTITY (CA and host name).',
    description:
      "Also the URL's ssl-mode parameter; this wins. Default PREFERRED, as the mysql client's: encrypted wherever the server can, and never failing where plaintext works. It does not stop an impostor: production sets VERIFY_IDENTITY with MAU_MYSQL_SSL_CA.",
    defaultHelp: async () => 'PREFERRED',
    helpGroup: 'MYSQL',
  })(),
  'mysql-ssl-ca': mysqlTlsFile(
    'ca',
    "PEM CA bundle the server's certificate is checked against (VERIFY_CA, VERIFY_IDENTITY).",
  ),
  'mysql-ssl-cert': mysqlTlsFile('cert', 'PEM client certificate, for a user that REQUIREs X509.'),
  'mysql-ssl-key': mysqlTlsFile('key', 'PEM private key of the client certificate.'),
}

/** What every command that reads or writes the mau tables takes. */
export const database = {'mysql-url': mysqlUrl, ...mysqlTls}
