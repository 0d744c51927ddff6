import {Flags} from '@oclif/core'
import {MauCommand} from '../core/command.js'
import * as flag from '../core/flags.js'
import {kafkaSettings} from '../core/kafka-security.js'
import {createLogger, routeWarnings} from '../core/log.js'
import {canAnimate, startStatus} from '../core/progress.js'
import {DEFAULTS, listOf} from '../core/settings.js'
import {consume, type ConsumeSummary} from '../ingest/consume.js'
import {consumeRedis} from '../ingest/redis/run.js'
import {resolveRedis} from '../core/redis.js'
import {DEAD_LETTER_MAX_BYTES} from '../ingest/deadletter.js'
import {consumeProgress, consumeTable} from '../ingest/format.js'
import {ConsumerMetrics, Health, serveMetrics} from '../ingest/metrics.js'
import {writerPool} from '../mau/rows.js'

/** Kubernetes waits 30 s after SIGTERM before SIGKILL; stop well within it. */
const SHUTDOWN_DEADLINE_MS = 25_000

export default class Consume extends MauCommand<ConsumeSummary> {
  static override summary =
    "Persist user events from Kafka (or the platform's Redis Streams) into MySQL, exactly once (runs as a Deployment)."
  static override description = `Messages are fetched and decoded ahead while MySQL writes; each window of them (several partitions) is aggregated per (environment, month, source, user) and written in one transaction together with its partitions' offsets, so a crash, redelivery or rebalance never counts an event twice. Malformed events go to mau_dead_letter (see \`mau deadletter list\`). SIGTERM/SIGINT stop cleanly, exit 0.`
  static override examples = [
    '<%= config.bin %> consume --brokers kafka:9092 --topic user-events --metrics-port 9100',
    '<%= config.bin %> consume --topic user-events --stop-at-end --json',
    '<%= config.bin %> consume --source redis --redis-url rediss://redis:6380 --redis-stream evaluation,goal --format protobuf',
  ]
  static override flags = {
    ...flag.database,
    source: flag.eventSource,
    ...flag.kafka,
    topic: flag.topic,
    ...flag.redis,
    timezone: flag.timezone,
    group: flag.group,
    format: flag.eventFormat,
    activity: flag.activity,
    'batch-size': Flags.integer({
      env: 'MAU_BATCH_SIZE',
      default: DEFAULTS.batchSize,
      min: 1,
      max: 100_000,
      summary:
        'Most messages per MySQL transaction (a window across partitions); also how many wait decoded for the next one.',
      description:
        'Larger windows write fewer rows per event (a user seen twice in a window is one upsert) but hold more in memory: 20,000 keeps peak RSS under 300 MB; 50,000 was 10% faster at about 350 MB (bench/results/ingest.md).',
    }),
    concurrency: Flags.integer({
      env: 'MAU_CONCURRENCY',
      default: 2,
      min: 1,
      max: 8,
      summary:
        'Windows taken at once: one is written while the next is aggregated (transactions run one at a time, in order).',
    }),
    'known-users': Flags.integer({
      env: 'MAU_KNOWN_USERS',
      default: DEFAULTS.knownUsers,
      min: 0,
      max: 100_000_000,
      summary:
        'Users of the current month remembered as already counted, whose mau_user_month insert is then left out; 0 turns it off.',
      description:
        "Where users are many this is a third of MySQL's work per event (bench/results/ingest-users.md). About 80 bytes of memory a user with 36-character ids. Forgotten whenever an offset this replica stored is written by anything else (a failover, a restore, an offset reset, another replica after a rebalance) and when the month ends, so counts stay exact.",
    }),
    'stop-at-end': Flags.boolean({
      env: 'MAU_STOP_AT_END',
      default: false,
      summary:
        'Exit 0 once every partition reaches the high-water mark it had at start (backfills, tests, benchmarks).',
    }),
    'session-timeout': Flags.integer({
      env: 'MAU_KAFKA_SESSION_TIMEOUT_SECONDS',
      default: 30,
      min: 6,
      max: 3600,
      summary:
        "Seconds a dead replica holds its partitions (the Kafka group session timeout) or, with --source redis, its streams (its lock connection's MySQL wait_timeout).",
    }),
    since: flag.instant({
      env: 'MAU_CONSUME_SINCE',
      aliases: ['from-time'],
      summary:
        "Start partitions the group has not consumed yet at this instant (e.g. the month's start) rather than the oldest retained event.",
      description:
        'ISO 8601, or a date and time read in the recorded time zone. Partitions with stored offsets resume from them: rewinding those would count events twice.',
    }),
    'dead-letter-max-bytes': Flags.integer({
      env: 'MAU_DEAD_LETTER_MAX_BYTES',
      default: DEAD_LETTER_MAX_BYTES,
      min: 256,
      max: 1024 * 1024,
      summary:
        'Bytes of a rejected message kept in mau_dead_letter; a longer one is cut, with its whole length and SHA-256 kept.',
    }),
    'metrics-port': Flags.integer({
      env: 'MAU_METRICS_PORT',
      min: 1,
      max: 65_535,
      summary: 'Serve Prometheus /metrics, /healthz and /readyz on this port.',
    }),
    'stall-seconds': Flags.integer({
      env: 'MAU_STALL_SECONDS',
      default: 300,
      min: 10,
      summary: 'Seconds without progress, while there is lag, after which /healthz fails.',
    }),
  }

  async run(): Promise<ConsumeSummary> {
    const {flags} = await this.parse(Consume)
    // At a terminal the progress line tells the story; JSON logs are for collectors, so only warnings show there.
    const log = createLogger(
      'mau-consume',
      process.env.MAU_LOG_LEVEL ?? (process.stderr.isTTY && !this.jsonEnabled() ? 'warn' : 'info'),
    )
    routeWarnings(log)
    const metrics = new ConsumerMetrics()
    const health = new Health(flags['stall-seconds'])
    const controller = new AbortController()
    const onSignal = (sig: NodeJS.Signals) => {
      log.info({signal: sig}, 'stopping: finishing the batch in flight')
      controller.abort()
      setTimeout(() => {
        log.error('did not stop within the grace period; exiting (the open transaction rolls back)')
        // eslint-disable-next-line n/no-process-exit -- past the grace period, leave at once: the open transaction rolls back
        process.exit(0)
      }, SHUTDOWN_DEADLINE_MS).unref()
    }
    process.once('SIGTERM', onSignal)
    process.once('SIGINT', onSignal)
    const server = flags['metrics-port'] ? await serveMetrics(flags['metrics-port'], metrics, health) : undefined
    const status = startStatus('Consuming', !this.jsonEnabled() && canAnimate())
    const options = {
      brokers: flags.brokers,
      security: kafkaSettings(flags),
      topics: listOf(flags.topic),
      group: flags.group,
      format: flags.format,
      activity: [...flags.activity],
      batchSize: flags['batch-size'],
      stopAtEnd: flags['stop-at-end'],
      concurrency: flags.concurrency,
      sessionTimeoutMs: flags['session-timeout'] * 1000,
      deadLetterMaxBytes: flags['dead-letter-max-bytes'],
      knownUsers: flags['known-users'],
    }
    try {
      const onProgress = (s: ConsumeSummary, end?: {done: number; total: number}) =>
        status.update(consumeProgress(s, end))
      // Redis: its streams' positions in MySQL, as Kafka's offsets; one more connection holds the stream locks.
      const redis =
        flags.source === 'redis'
          ? {redis: resolveRedis(flags), topics: listOf(flags['redis-stream']), partitions: flags['redis-partitions']}
          : undefined
      const result = await this.withZone(
        flags,
        (db, timezone) => {
          const fromTime = flags.since && flags.since.in(timezone) * 1000
          const deps = {db, log, metrics, health, signal: controller.signal, onProgress}
          return redis
            ? consumeRedis({...options, ...redis, timezone, fromTime}, deps)
            : consume({...options, timezone, fromTime}, deps)
        },
        writerPool(flags.concurrency + 3),
      )
      status.stop()
      // In a pod the summary is a log record (consume.ts logs it); the table is for a person at a terminal.
      if (process.stdout.isTTY) this.log(consumeTable(result))
      return result
    } finally {
      status.stop()
      server?.close()
    }
  }
}
