/** kafkajs clients configured from mau's settings (security, every codec), with kafkajs' own logs routed into ours. */
import {Kafka, logLevel, type LogEntry} from 'kafkajs'
import {ExitCode, MauError, unavailable} from './errors.js'
import {registerCodecs} from './kafka-codecs.js'
import {kafkaRefusal, kafkajsSecurity, probeKafka, type KafkaSettings} from './kafka-security.js'
import {splitList} from './settings.js'
import type {Logger} from './log.js'
import type {Transport} from './tls.js'

export type {KafkaSettings} from './kafka-security.js'

/**
 * A kafkajs log entry as one of ours: its message and the fields that say where, without the stack
 * kafkajs attaches to every retry (only at debug, where the stack is what one wants).
 */
export function kafkaLogFields(entry: LogEntry, debug: boolean): {fields: Record<string, unknown>; message: string} {
  const {
    message,
    stack,
    timestamp: _timestamp,
    logger: _logger,
    ...rest
  } = entry.log as LogEntry['log'] & {stack?: string}
  return {
    fields: {kafka: entry.namespace, ...rest, ...(debug && stack ? {stack} : {})},
    message: String(message).split('\n')[0]!,
  }
}

/** Conditions kafkajs retries by itself, routine while a group or a broker starts: not errors unless they last. */
const TRANSIENT = [
  /group coordinator is not available/i,
  /coordinator is (loading|not aware)/i,
  /not the correct coordinator/i,
  /no leader for this topic-partition/i,
  /leader is not available/i,
  /not the leader for that topic-partition/i,
  /leader epoch in the request is (older|newer)/i,
  /fetch session epoch is invalid/i,
]

/**
 * The group protocol's answers that kafkajs meets by joining the group again: every member hears them at
 * every rebalance (a pod started or stopped, a rolling upgrade), however long it takes. Info, always: a
 * rebalance that never ends shows as lag, which is alerted on, not as a log level.
 */
const REJOIN = [/group is rebalancing/i, /generation id is not valid/i, /member needs to have a valid member id/i]

/** kafkajs logs an error as its message; an Error or another value as its text, never "[object Object]". */
const errorText = (e: unknown): string =>
  typeof e === 'string' ? e : e instanceof Error ? e.message : e === undefined || e === null ? '' : JSON.stringify(e)

/**
 * The level to log a kafkajs entry at: a rejoin is info; a transient condition is info until it has lasted
 * graceMs (the session timeout) since it was first seen; after that, or for anything else, kafkajs' own level. A
 * newcomer read "ERROR The group coordinator is not available" at every start of the demo as a failure.
 */
export class KafkaLevels {
  private readonly since = new Map<number, {first: number; last: number}>()

  constructor(
    private readonly graceMs: number,
    private readonly now: () => number = Date.now,
  ) {}

  levelOf(
    entry: Pick<LogEntry, 'level'> & {log: {message?: unknown; error?: unknown}},
  ): 'error' | 'warn' | 'info' | 'debug' {
    const own = entry.level === logLevel.ERROR ? 'error' : entry.level === logLevel.WARN ? 'warn' : 'debug'
    if (own === 'debug') return own
    // A broker's error response names the request in the message and the condition in `error`.
    const text = `${String(entry.log.message)} ${errorText(entry.log.error)}`
    // A crash quotes the condition it gave up on: that stays an error.
    if (String(entry.log.message).startsWith('Crash: ')) return own
    if (REJOIN.some((re) => re.test(text))) return 'info'
    const kind = TRANSIENT.findIndex((re) => re.test(text))
    if (kind < 0) return own
    const t = this.now()
    const seen = this.since.get(kind)
    // A condition not seen for a grace period starts over: it is a new episode.
    const episode = seen && t - seen.last < this.graceMs ? {first: seen.first, last: t} : {first: t, last: t}
    this.since.set(kind, episode)
    return t - episode.first < this.graceMs ? 'info' : own
  }
}

/** A kafkajs client; kafkaSettings (core/kafka-security.ts) built `settings` from the flags. */
export function createKafka(settings: KafkaSettings, clientId: string, log?: Logger, graceMs = 30_000): Kafka {
  registerCodecs()
  const levels = new KafkaLevels(graceMs)
  const kafka = new Kafka({
    clientId,
    brokers: splitList(settings.brokers),
    ...kafkajsSecurity(settings),
    connectionTimeout: 5_000,
    logLevel: log ? logLevel.WARN : logLevel.NOTHING,
    logCreator: () => (entry: LogEntry) => {
      if (!log) return
      const level = levels.levelOf(entry)
      const {fields, message} = kafkaLogFields(entry, log.isLevelEnabled('debug'))
      log[level](fields, message)
    },
  })
  settingsOf.set(kafka, settings)
  return kafka
}

/** Each client's settings, so that a failure deep in ingest/ names the mechanism, user and CA file. */
const settingsOf = new WeakMap<Kafka, KafkaSettings>()

/**
 * A client whose settings were tried first: a refused certificate, name or protocol exits 2 at once instead
 * of being retried as an outage. An unreachable broker is left to kafkajs' retries, as before.
 */
export async function connectKafka(
  settings: KafkaSettings,
  clientId: string,
  log?: Logger,
  graceMs?: number,
): Promise<{kafka: Kafka; transport?: Transport}> {
  const transport = await probeKafka(settings)
  return {kafka: createKafka(settings, clientId, log, graceMs), transport}
}

/** Any failure of this client as a MauError: a refused login or certificate is configuration (exit 2), anything else an outage (exit 4). */
export function kafkaFailure(kafka: Kafka | KafkaSettings, error: unknown, brokers = ''): Error {
  const settings = kafka instanceof Kafka ? (settingsOf.get(kafka) ?? {brokers, protocol: 'PLAINTEXT'}) : kafka
  return kafkaRefusal(error, settings) ?? unavailable('Kafka', settings.brokers, error)
}

/** Why a consumer kafkajs will not restart ended the run: a refusal or an unreadable batch is configuration (exit 2), else exit 4. */
export function consumerGaveUp(settings: Pick<KafkaSettings, 'brokers' | 'sasl' | 'tls'>, error: Error): MauError {
  const refused = kafkaRefusal(error, settings)
  if (refused) return refused
  const unsupported = error.name === 'KafkaJSNotImplemented'
  return new MauError(`The Kafka consumer stopped and kafkajs will not restart it: ${error.message}`, {
    exit: unsupported ? ExitCode.CONFIG : ExitCode.UNAVAILABLE,
    code: unsupported ? 'KAFKA_UNSUPPORTED' : 'KAFKA_CONSUMER_CRASHED',
    suggestions: [
      unsupported
        ? 'The topic holds something this version of mau cannot read; the log line "consumer crashed" names it.'
        : 'The pod restarts it; if it recurs, the log line "consumer crashed" says why.',
    ],
  })
}
