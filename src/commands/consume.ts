import {Flags} from '@oclif/core'
import {MauCommand} from '../core/command.js'
import * as flag from '../core/flags.js'
import {createLogger} from '../core/log.js'
import {DEFAULTS, listOf} from '../core/settings.js'
import {consume, type ConsumeSummary} from '../ingest/consume.js'
import {consumeTable, progressText} from '../ingest/format.js'
import {ConsumerMetrics, Health, serveMetrics} from '../ingest/metrics.js'
import {writerPool} from '../mau/rows.js'

/** Kubernetes waits 30 s after SIGTERM before SIGKILL; stop well within it. */
const SHUTDOWN_DEADLINE_MS = 25_000

export default class Consume extends MauCommand<ConsumeSummary> {
  static override summary = 'Persist user events from Kafka into MySQL, exactly once (runs as a Deployment).'
  static override description = `Each batch is aggregated per (environment, month, source, user) and written in one transaction
together with the partition's offset, so a crash, redelivery or rebalance never counts an event twice.
Malformed events go to mau_dead_letter (see \`mau deadletter list\`). SIGTERM/SIGINT stop cleanly, exit 0.`
  static override examples = [
    '<%= config.bin %> consume --brokers kafka:9092 --topic user-events --metrics-port 9100',
    '<%= config.bin %> consume --topic user-events --stop-at-end --json',
  ]
  static override flags = {
    ...flag.database,
    brokers: flag.brokers,
    topic: flag.topic,
    timezone: flag.timezone,
    group: Flags.string({
      env: 'MAU_KAFKA_GROUP',
      default: DEFAULTS.kafkaGroup,
      summary: 'Kafka consumer group; its own, so the existing pipeline\'s groups are untouched.',
      helpGroup: 'KAFKA',
    }),
    format: Flags.option({options: ['json', 'protobuf'] as const, env: 'MAU_EVENT_FORMAT', default: 'json' as const, summary: 'Encoding of the messages.'})(),
    'batch-size': Flags.integer({env: 'MAU_BATCH_SIZE', default: DEFAULTS.batchSize, min: 1, max: 100_000, summary: 'Most messages per MySQL transaction.'}),
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
    'from-time': flag.instant({
      env: 'MAU_FROM_TIME',
      summary: 'Start partitions the group has not consumed yet at this instant (e.g. the month\'s start) rather than the oldest retained event.',
      description: 'ISO 8601, or a date and time read in --timezone. Partitions with stored offsets resume from them: rewinding those would count events twice.',
    }),
    'metrics-port': Flags.integer({env: 'MAU_METRICS_PORT', min: 1, max: 65_535, summary: 'Serve Prometheus /metrics, /healthz and /readyz on this port.'}),
    'stall-seconds': Flags.integer({env: 'MAU_STALL_SECONDS', default: 300, min: 10, summary: '/healthz fails after this long without progress while there is lag.'}),
  }

  async run(): Promise<ConsumeSummary> {
    const {flags} = await this.parse(Consume)
    // At a terminal the progress line tells the story; JSON logs are for collectors, so only warnings show there.
    const log = createLogger('mau-consume', process.env.MAU_LOG_LEVEL ?? (process.stderr.isTTY && !this.jsonEnabled() ? 'warn' : 'info'))
    const metrics = new ConsumerMetrics()
    const health = new Health(flags['stall-seconds'])
    const controller = new AbortController()
    const onSignal = (sig: NodeJS.Signals) => {
      log.info({signal: sig}, 'stopping: finishing the batch in flight')
      controller.abort()
      setTimeout(() => {
        log.error('did not stop within the grace period; exiting (the open transaction rolls back)')
        process.exit(0)
      }, SHUTDOWN_DEADLINE_MS).unref()
    }
    process.once('SIGTERM', onSignal)
    process.once('SIGINT', onSignal)
    const server = flags['metrics-port'] ? await serveMetrics(flags['metrics-port'], metrics, health) : undefined
    const progress = this.progressLine()
    const options = {
      brokers: flags.brokers,
      topics: listOf(flags.topic),
      group: flags.group,
      format: flags.format,
      timezone: flags.timezone,
      batchSize: flags['batch-size'],
      stopAtEnd: flags['stop-at-end'],
      concurrency: flags.concurrency,
      sessionTimeoutMs: flags['session-timeout'],
      fromTime: flags['from-time'] && flags['from-time'].in(flags.timezone) * 1000,
    }
    try {
      const result = await this.withDb(flags, (db) => consume(options, {db, log, metrics, health, signal: controller.signal, onProgress: progress?.update}), writerPool(flags.concurrency + 2))
      progress?.done()
      this.log(consumeTable(result))
      return result
    } finally {
      progress?.done()
      server?.close()
    }
  }

  /** One self-rewriting status line for a person at a terminal; nothing when logs go to a collector. */
  private progressLine() {
    if (this.jsonEnabled() || !process.stderr.isTTY) return undefined
    let last = 0
    return {
      update: (s: ConsumeSummary) => {
        if (Date.now() - last < 500) return
        last = Date.now()
        process.stderr.write(`\r\u001b[2K${progressText(s)}`)
      },
      done: () => {
        if (last > 0) process.stderr.write('\n')
        last = 0
      },
    }
  }
}
