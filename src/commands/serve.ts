import {Flags} from '@oclif/core'
import {readFileSync} from 'node:fs'
import {MauCommand} from '../core/command.js'
import {asServiceError} from '../core/db.js'
import {configError} from '../core/errors.js'
import * as flag from '../core/flags.js'
import {createLogger, routeWarnings} from '../core/log.js'
import {secretFromEnv} from '../core/secrets.js'
import {serve, type ServeResult} from '../serve/server.js'

export default class Serve extends MauCommand<ServeResult> {
  static override summary =
    "Answer the platform's GetMAUCount and GetInsightsMonthlySummary (gRPC and HTTP) and mau's own HTTP/JSON API from the summary counters (a Deployment)."
  static override description = `gRPC: bucketeer.eventcounter.EventCounterService/GetMAUCount, bucketeer.insights.InsightsService/GetInsightsMonthlySummary, mau.v1.MAUService/ListMAUCounts, the standard health service and server reflection.

HTTP: GET /v1/mau?month=YYYYMM[&namespace=NS][&by=source] (the document of \`mau count --json\`), GET /v1/mau/months?from=YYYYMM&to=YYYYMM; the platform's paths as its gRPC gateway serves them, GET /v1/mau_count?environment_id=ID&year_month=YYYYMM and GET /v1/insights/monthly_summary[?environment_ids=ID][&source_ids=SOURCE]; /metrics, /healthz, /readyz. docs/serving.md has every request and answer.

With MAU_SERVE_TOKEN or MAU_SERVE_TOKEN_FILE set, both APIs want "Authorization: Bearer <token>" (probes and metrics stay open). A count is never older than --max-staleness seconds. SIGTERM/SIGINT: stop accepting, finish requests in flight, exit 0.`
  static override examples = [
    '<%= config.bin %> serve',
    'MAU_SERVE_TOKEN_FILE=/run/secrets/token <%= config.bin %> serve --grpc-port 9090 --http-port 8080 --tls-cert tls.crt --tls-key tls.key',
    {
      description: "Then, from another shell: one environment's MAU, and the console's monthly summary",
      command:
        "curl 'http://localhost:8080/v1/mau_count?environment_id=prod&year_month=202212' && curl 'http://localhost:8080/v1/insights/monthly_summary?source_ids=IOS'",
    },
    {
      description: 'The same over gRPC (server reflection: no .proto needed)',
      command:
        'grpcurl -plaintext -d \'{"environment_ids":["prod"]}\' localhost:9090 bucketeer.insights.InsightsService/GetInsightsMonthlySummary',
    },
  ]
  static override flags = {
    ...flag.database,
    timezone: flag.timezone,
    'grpc-port': Flags.integer({
      env: 'MAU_SERVE_GRPC_PORT',
      default: 9090,
      min: 0,
      max: 65_535,
      summary: 'gRPC port (0: any free port).',
    }),
    'http-port': Flags.integer({
      env: 'MAU_SERVE_HTTP_PORT',
      default: 8080,
      min: 0,
      max: 65_535,
      summary: 'HTTP port (0: any free port).',
    }),
    host: Flags.string({env: 'MAU_SERVE_HOST', default: '0.0.0.0', summary: 'Address both ports listen on.'}),
    'max-staleness': Flags.integer({
      env: 'MAU_SERVE_MAX_STALENESS_SECONDS',
      default: 5,
      min: 0,
      max: 3600,
      summary: 'Seconds a count may be reused before MySQL is read again (0: every request reads).',
    }),
    'request-timeout': Flags.integer({
      env: 'MAU_SERVE_REQUEST_TIMEOUT_SECONDS',
      default: 10,
      min: 1,
      max: 600,
      summary: 'Seconds a request may take before it is answered DEADLINE_EXCEEDED / 504.',
    }),
    'max-concurrent': Flags.integer({
      env: 'MAU_SERVE_MAX_CONCURRENT',
      default: 256,
      min: 1,
      max: 100_000,
      summary: 'Requests answered at once; more are refused RESOURCE_EXHAUSTED / 429.',
    }),
    'max-body': Flags.integer({
      env: 'MAU_SERVE_MAX_BODY_BYTES',
      default: 16_384,
      min: 256,
      max: 4_194_304,
      summary: 'Largest request body or gRPC message, in bytes.',
    }),
    'max-connections': Flags.integer({
      env: 'MAU_SERVE_MAX_CONNECTIONS',
      default: 1024,
      min: 1,
      max: 100_000,
      summary: 'Connections each port holds at once; more are closed as they arrive.',
    }),
    'idle-seconds': Flags.integer({
      env: 'MAU_SERVE_IDLE_SECONDS',
      default: 60,
      min: 1,
      max: 3600,
      summary: 'Seconds a gRPC connection may stay without a call (or after only its preface) before it is closed.',
    }),
    'drain-seconds': Flags.integer({
      env: 'MAU_SERVE_DRAIN_SECONDS',
      default: 20,
      min: 0,
      max: 300,
      summary: 'Seconds requests in flight get to finish after SIGTERM.',
    }),
    'tls-cert': Flags.file({
      env: 'MAU_SERVE_TLS_CERT',
      exists: true,
      dependsOn: ['tls-key'],
      summary: 'PEM certificate chain: serve both ports over TLS.',
    }),
    'tls-key': Flags.file({
      env: 'MAU_SERVE_TLS_KEY',
      exists: true,
      dependsOn: ['tls-cert'],
      summary: 'PEM private key of --tls-cert.',
    }),
    connections: Flags.integer({
      env: 'MAU_SERVE_MYSQL_CONNECTIONS',
      default: 4,
      min: 1,
      max: 64,
      summary: 'MySQL connections in the pool.',
      helpGroup: 'MYSQL',
    }),
  }

  async run(): Promise<ServeResult> {
    const {flags} = await this.parse(Serve)
    const settings = this.mysqlSettings(flags)
    const token = secretFromEnv('MAU_SERVE_TOKEN')
    if (token !== undefined && token.length < 16)
      throw configError('MAU_SERVE_TOKEN is shorter than 16 characters: expected a random token of at least 16.')
    const log = createLogger('mau-serve')
    routeWarnings(log)
    const controller = new AbortController()
    const onSignal = (signal: NodeJS.Signals) => {
      log.info({signal}, 'stopping')
      controller.abort()
    }
    process.once('SIGTERM', onSignal)
    process.once('SIGINT', onSignal)
    const tls =
      flags['tls-cert'] && flags['tls-key']
        ? {cert: readFileSync(flags['tls-cert']), key: readFileSync(flags['tls-key'])}
        : undefined
    const options = {
      grpcPort: flags['grpc-port'],
      httpPort: flags['http-port'],
      host: flags.host,
      maxStalenessSeconds: flags['max-staleness'],
      timeoutSeconds: flags['request-timeout'],
      maxConcurrent: flags['max-concurrent'],
      maxBodyBytes: flags['max-body'],
      drainSeconds: flags['drain-seconds'],
      maxConnections: flags['max-connections'],
      idleSeconds: flags['idle-seconds'],
      token,
      tls,
    }
    return this.withZone(
      flags,
      (db, timezone) =>
        serve(
          db,
          {...options, timezone},
          {log, signal: controller.signal, mapError: (e) => asServiceError(e, settings)},
        ),
      {connectionLimit: flags.connections},
    )
  }
}
