/**
 * Prometheus metrics and Kubernetes probes for the long-running consumer.
 * /healthz fails when the consumer crashed for good, or has made no progress for `stallSeconds` while
 * there is lag (a stuck consumer that a restart would fix); /readyz passes once it has joined its group and
 * positioned its partitions at MySQL's offsets.
 */
import {createServer, type Server} from 'node:http'
import {Counter, Gauge, Histogram, Registry, collectDefaultMetrics} from 'prom-client'
import {BUILD} from '../core/build.js'

export class ConsumerMetrics {
  readonly registry = new Registry()
  readonly build = new Gauge({
    name: 'mau_build_info',
    help: 'The running build: always 1, with its version and commit',
    labelNames: ['version', 'commit'],
    registers: [this.registry],
  })
  readonly consumed = new Counter({
    name: 'mau_events_consumed_total',
    help: 'Kafka messages read and applied',
    labelNames: ['topic'],
    registers: [this.registry],
  })
  readonly skipped = new Counter({
    name: 'mau_events_redelivered_total',
    help: 'Messages skipped because their offset was already applied',
    labelNames: ['topic'],
    registers: [this.registry],
  })
  readonly rows = new Counter({
    name: 'mau_rows_upserted_total',
    help: 'Aggregated rows upserted into mau',
    registers: [this.registry],
  })
  readonly deadLettered = new Counter({
    name: 'mau_events_dead_lettered_total',
    help: 'Messages set aside in mau_dead_letter',
    labelNames: ['topic', 'reason'],
    registers: [this.registry],
  })
  readonly ignored = new Counter({
    name: 'mau_events_ignored_total',
    help: 'Messages of kinds not counted (metrics events, kinds left out of --activity), by type URL: neither rows nor dead letters',
    labelNames: ['topic', 'type_url'],
    registers: [this.registry],
  })
  readonly expired = new Counter({
    name: 'mau_events_expired_total',
    help: 'Events of months past retention, by month: not written (neither rows nor dead letters)',
    labelNames: ['month'],
    registers: [this.registry],
  })
  readonly late = new Counter({
    name: 'mau_events_late_total',
    help: 'Events written to months already reported (report send), by month: the figure sent is no longer the figure stored',
    labelNames: ['month'],
    registers: [this.registry],
  })
  readonly batchSeconds = new Histogram({
    name: 'mau_batch_duration_seconds',
    help: 'Time to write one window (one MySQL transaction)',
    buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
    registers: [this.registry],
  })
  readonly lag = new Gauge({
    name: 'mau_consumer_lag_messages',
    help: 'Messages behind the high-water mark, per partition',
    labelNames: ['group', 'topic', 'partition'],
    registers: [this.registry],
  })
  readonly rewinds = new Counter({
    name: 'mau_consumer_rewinds_total',
    help: 'Times MySQL was behind a window (a failover, a restore) and the partition was read again from its stored offset',
    labelNames: ['topic'],
    registers: [this.registry],
  })
  readonly lost = new Counter({
    name: 'mau_messages_lost_total',
    help: 'Messages deleted from Kafka before they were applied (recorded in mau_offset_loss)',
    labelNames: ['topic'],
    registers: [this.registry],
  })
  readonly abandoned = new Counter({
    name: 'mau_chunks_abandoned_total',
    help: 'Fetched chunks not written here because their partition was revoked meanwhile (its new owner fetches them again)',
    registers: [this.registry],
  })
  readonly queued = new Gauge({
    name: 'mau_pipeline_queued_events',
    help: 'Events fetched and decoded, waiting for a window',
    registers: [this.registry],
  })
  readonly knownUsers = new Gauge({
    name: 'mau_known_users',
    help: 'Users of the current month this replica knows are in mau_user_month, whose insert it leaves out (--known-users)',
    registers: [this.registry],
  })
  readonly knownUsersForgotten = new Counter({
    name: 'mau_known_users_forgotten_total',
    help: 'Times the known users were forgotten: the month ended, or MySQL no longer held an offset this replica stored (a failover, a restore)',
    registers: [this.registry],
  })
  readonly dbRetries = new Counter({
    name: 'mau_db_retries_total',
    help: 'Batch transactions retried after a transient MySQL error',
    registers: [this.registry],
  })
  readonly lastBatch = new Gauge({
    name: 'mau_last_batch_timestamp_seconds',
    help: 'Unix time of the last batch committed to MySQL',
    registers: [this.registry],
  })
  readonly monthsAhead = new Gauge({
    name: 'mau_partitions_ahead_months',
    help: "Months after the current one that have their own partition (0: next month's is missing)",
    labelNames: ['table'],
    registers: [this.registry],
  })
  readonly deadLettersPastRetention = new Gauge({
    name: 'mau_dead_letters_past_retention',
    help: 'Dead letters older than the retention partitions rotate applies: what its next run deletes (0 after each run; growing: rotate is not running)',
    registers: [this.registry],
  })

  constructor() {
    // Standard names (process_*, nodejs_*), so that existing Node.js dashboards and alerts apply as they are.
    collectDefaultMetrics({register: this.registry})
    this.build.set({version: BUILD.version, commit: BUILD.commit}, 1)
  }
}

export class Health {
  crashed: string | null = null
  joined = false
  private lastProgress = Date.now()
  private readonly lagByPartition = new Map<string, number>()

  constructor(private readonly stallSeconds: number) {}

  progress(): void {
    this.lastProgress = Date.now()
  }

  setLag(key: string, lag: number): void {
    this.lagByPartition.set(key, lag)
  }

  get totalLag(): number {
    let sum = 0
    for (const v of this.lagByPartition.values()) sum += v
    return sum
  }

  live(): {ok: boolean; reason: string} {
    if (this.crashed) return {ok: false, reason: `consumer crashed: ${this.crashed}`}
    const idle = (Date.now() - this.lastProgress) / 1000
    if (this.totalLag > 0 && idle > this.stallSeconds)
      return {ok: false, reason: `no progress for ${Math.round(idle)}s with lag ${this.totalLag}`}
    return {ok: true, reason: 'ok'}
  }

  ready(): {ok: boolean; reason: string} {
    const live = this.live()
    if (!live.ok) return live
    return this.joined
      ? {ok: true, reason: 'ok'}
      : {ok: false, reason: 'not yet joined the consumer group and positioned its partitions'}
  }
}

export async function serveMetrics(port: number, metrics: ConsumerMetrics, health: Health): Promise<Server> {
  const server = createServer((req, res) => {
    const path = (req.url ?? '/').split('?')[0]
    if (path === '/metrics') {
      metrics.registry.metrics().then(
        (body) => res.writeHead(200, {'content-type': metrics.registry.contentType}).end(body),
        (error: Error) => res.writeHead(500).end(error.message),
      )
      return
    }
    if (path === '/healthz' || path === '/readyz') {
      const state = path === '/healthz' ? health.live() : health.ready()
      res.writeHead(state.ok ? 200 : 503, {'content-type': 'text/plain'}).end(`${state.reason}\n`)
      return
    }
    res.writeHead(404).end('not found\n')
  })
  await new Promise<void>((resolve, reject) => server.once('error', reject).listen(port, resolve))
  return server
}
