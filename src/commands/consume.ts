import {consumeFlags, kafkaFlags, listOf, mysqlFlags, resolveMysql, timezoneFlag, topicFlags} from '../config.js'
import {MauCommand} from '../command.js'
import {consume, type ConsumeSummary} from '../consume.js'
import {createLogger} from '../log.js'
import {parseInstant} from '../month.js'
import {ConsumerMetrics, Health, serveMetrics} from '../metrics.js'
import {table} from '../render.js'
import {openWriterPool} from '../persist.js'
import {asServiceError} from '../store.js'

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
  static override flags = {...mysqlFlags, ...kafkaFlags, ...topicFlags, ...consumeFlags, ...timezoneFlag}

  async run(): Promise<ConsumeSummary> {
    const {flags} = await this.parse(Consume)
    const settings = resolveMysql(flags['mysql-url'])
    const fromTime = flags['from-time'] === undefined ? undefined : parseInstant(flags['from-time'], flags.timezone, '--from-time') * 1000
    // At a terminal the progress line tells the story; JSON logs are for collectors, so only warnings show there.
    const log = createLogger('mau-consume', process.env.MAU_LOG_LEVEL ?? (process.stderr.isTTY && !this.jsonEnabled() ? 'warn' : 'info'))
    const metrics = new ConsumerMetrics()
    const health = new Health(flags['stall-seconds'])
    const db = openWriterPool(settings, flags.concurrency + 2)
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
    try {
      await db.query('SELECT 1 FROM mau_consumer_offset LIMIT 1').catch((error) => {
        throw asServiceError(error, settings)
      })
      const result = await consume(
        {
          brokers: flags.brokers,
          topics: listOf(flags.topic),
          group: flags.group,
          format: flags.format,
          timezone: flags.timezone,
          batchSize: flags['batch-size'],
          stopAtEnd: flags['stop-at-end'],
          concurrency: flags.concurrency,
          sessionTimeoutMs: flags['session-timeout'],
          fromTime,
        },
        {db, log, metrics, health, signal: controller.signal, onProgress: progress?.update},
      )
      progress?.done()
      this.log(table(['consumed', 'redelivered', 'rows upserted', 'dead-lettered', 'events/s'], [[result.consumed, result.redelivered, result.rowsUpserted, result.deadLettered, result.eventsPerSecond]]))
      return result
    } catch (error) {
      throw asServiceError(error, settings)
    } finally {
      progress?.done()
      server?.close()
      await db.end().catch(() => undefined)
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
        process.stderr.write(`\r\u001b[2Kconsumed ${s.consumed}  rows ${s.rowsUpserted}  dead-lettered ${s.deadLettered}  ${s.eventsPerSecond} events/s`)
      },
      done: () => {
        if (last > 0) process.stderr.write('\n')
        last = 0
      },
    }
  }
}
