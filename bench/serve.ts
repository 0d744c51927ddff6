/**
 * npm run bench:serve [-- --seconds S --warm-up W --concurrency C --largest N]
 * A month of 200 environments plus one of 10 thousand and one of N (default 10 million) users in MariaDB;
 * the built `mau serve` in its own process; in this process, C (default 50) concurrent GetMAUCount calls
 * over one HTTP/2 channel for S seconds per scenario: requests per second and p50/p99 latency, with the
 * default staleness bound (5 s) and with 0 (every request reads the summary in MySQL); then the same from
 * h2load (Debian's nghttp2-client), a load generator cheap enough not to be the bottleneck.
 * Writes bench/results/serve.md.
 */
import * as grpc from '@grpc/grpc-js'
import {execFileSync} from 'node:child_process'
import {mkdtempSync, readFileSync, writeFileSync} from 'node:fs'
import {cpus, tmpdir} from 'node:os'
import {join} from 'node:path'
import {parseArgs} from 'node:util'
import type {RowDataPacket} from 'mysql2/promise'
import {openDb} from '../src/core/db.js'
import {rebuildSummary} from '../src/mau/summary.js'
import {loadProtos} from '../src/serve/grpc.js'
import {startServe} from '../test/fixtures/serve.js'
import {createTestDatabase} from '../test/fixtures/services.js'
import {publish} from './results.js'
import {createNumbers, fillEnvironment} from './rows.js'

const {values: args} = parseArgs({
  options: {
    seconds: {type: 'string', default: '10'},
    'warm-up': {type: 'string', default: '2'},
    concurrency: {type: 'string', default: '50'},
    largest: {type: 'string', default: '10000000'},
  },
})
const warmUp = Number(args['warm-up'])
const seconds = Number(args.seconds)
const concurrency = Number(args.concurrency)
const largest = Number(args.largest)
const month = '202212'
const log = (m: string) => console.error(`[bench:serve] ${m}`)

// h2load (Debian's nghttp2-client) drives the gRPC load: installed here as root, else named.
execFileSync('bash', ['scripts/debian-package.sh', 'nghttp2-client', 'h2load'], {stdio: 'inherit'})

const db = await createTestDatabase({migrated: true})
const pool = openDb(db.settings, {connectionLimit: 2})

async function load(): Promise<number> {
  const started = Date.now()
  await createNumbers(pool)
  const fill = (env: string, rows: number) => fillEnvironment(pool, {env, month, rows})
  for (let i = 0; i < 200; i++) await fill(`env-${i}`, 100)
  await fill('env-10k', 10_000)
  log(`loading env-big (${largest} users)`)
  await fill('env-big', largest)
  await rebuildSummary(pool, month)
  return (Date.now() - started) / 1000
}

/** CPU seconds a process has used so far (user + system, from /proc). */
function cpuSeconds(pid: number): number {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ')
  return (Number(fields[11]) + Number(fields[12])) / 100
}

type Unary = (req: object, cb: (e: grpc.ServiceError | null, r: {user_count: string}) => void) => void

async function drive(
  port: number,
  serverPid: number,
  namespaces: () => string,
): Promise<{rps: number; p50: number; p99: number; errors: number; users: string; serverMs: number; clientMs: number}> {
  const loaded = grpc.loadPackageDefinition(loadProtos()) as unknown as {
    bucketeer: {eventcounter: {EventCounterService: grpc.ServiceClientConstructor}}
  }
  const client = new loaded.bucketeer.eventcounter.EventCounterService(
    `127.0.0.1:${port}`,
    grpc.credentials.createInsecure(),
  ) as unknown as grpc.Client & {GetMAUCount: Unary}
  const once = (ns: string) =>
    new Promise<{ms: number; ok: boolean; users: string}>((resolve) => {
      const t = process.hrtime.bigint()
      client.GetMAUCount({environment_namespace: ns, year_month: month}, (e, r) =>
        resolve({ms: Number(process.hrtime.bigint() - t) / 1e6, ok: !e, users: r?.user_count ?? ''}),
      )
    })
  const run = async (ms: number) => {
    const latencies: number[] = []
    let errors = 0
    let users = ''
    const until = Date.now() + ms
    await Promise.all(
      Array.from({length: concurrency}, async () => {
        while (Date.now() < until) {
          const r = await once(namespaces())
          latencies.push(r.ms)
          if (!r.ok) errors++
          users = r.users
        }
      }),
    )
    return {latencies, errors, users}
  }
  await run(warmUp * 1000)
  const [server0, client0] = [cpuSeconds(serverPid), process.cpuUsage()]
  const {latencies, errors, users} = await run(seconds * 1000)
  const clientCpu = process.cpuUsage(client0)
  const serverSeconds = cpuSeconds(serverPid) - server0
  client.close()
  latencies.sort((a, b) => a - b)
  const at = (q: number) => latencies[Math.min(latencies.length - 1, Math.floor(q * latencies.length))]!
  // CPU per request, in ms: where the two cores went.
  return {
    rps: latencies.length / seconds,
    p50: at(0.5),
    p99: at(0.99),
    errors,
    users,
    serverMs: (serverSeconds * 1000) / latencies.length,
    clientMs: (clientCpu.user + clientCpu.system) / 1000 / latencies.length,
  }
}

/**
 * The same call from h2load (nghttp2, in C): a client cheap enough that the server, not the load
 * generator, sets the pace. The body is the gRPC frame of a GetMAUCountRequest; h2load counts failed
 * requests, but cannot read grpc-status: the grpc-js rows check the answers.
 */
function h2load(
  port: number,
  serverPid: number,
  namespace: string,
): {rps: number; p50: number; p99: number; failed: number; serverUs: number} {
  const dir = mkdtempSync(join(tmpdir(), 'mau-h2load-'))
  const message = Buffer.concat([
    Buffer.from([0x0a, Buffer.byteLength(namespace)]),
    Buffer.from(namespace),
    Buffer.from([0x12, 6]),
    Buffer.from(month),
  ])
  const frame = Buffer.concat([Buffer.from([0, 0, 0, 0, message.length]), message])
  writeFileSync(join(dir, 'body'), frame)
  const before = cpuSeconds(serverPid)
  const out = execFileSync(
    'h2load',
    [
      '-t',
      '2',
      '-c',
      String(concurrency),
      '-m',
      '1',
      '-D',
      String(seconds),
      '--warm-up-time',
      String(warmUp),
      '-d',
      join(dir, 'body'),
      '-H',
      'content-type: application/grpc',
      '-H',
      'te: trailers',
      '--log-file',
      join(dir, 'log'),
      `http://127.0.0.1:${port}/bucketeer.eventcounter.EventCounterService/GetMAUCount`,
    ],
    {encoding: 'utf8'},
  )
  const serverSeconds = cpuSeconds(serverPid) - before
  const rows = readFileSync(join(dir, 'log'), 'utf8')
    .trim()
    .split('\n')
    .map((l) => l.split('\t').map(Number))
  const micros = rows.map((r) => r[2]!).sort((a, b) => a - b)
  const at = (q: number) => micros[Math.min(micros.length - 1, Math.floor(q * micros.length))]! / 1000
  // h2load's own tally: its log leaves the status of a few responses at 0 even when they succeeded.
  const [, failed = '0', errored = '0'] = /(\d+) failed, (\d+) errored/.exec(out) ?? []
  return {
    rps: rows.length / seconds,
    p50: at(0.5),
    p99: at(0.99),
    failed: Number(failed) + Number(errored),
    serverUs: (serverSeconds * 1e6) / rows.length,
  }
}

/** From the server's own histogram: of its GetMAUCount calls so far, the share it answered within 1 ms. */
async function withinOneMs(httpPort: number): Promise<number> {
  const text = await (await fetch(`http://127.0.0.1:${httpPort}/metrics`)).text()
  const value = (le: string) =>
    Number(
      new RegExp(
        `mau_serve_request_duration_seconds_bucket\\{le="${le}",api="grpc",method="GetMAUCount"\\} (\\d+)`,
      ).exec(text)?.[1] ?? 0,
    )
  return value('0\\.001') / Math.max(1, value('\\+Inf'))
}

try {
  const loadSeconds = await load()
  const [[rows]] = await pool.query<RowDataPacket[]>('SELECT COUNT(*) AS n FROM mau')
  const lines: string[] = []
  const h2lines: string[] = []
  const serverLines: string[] = []
  for (const staleness of [5, 0]) {
    const served = await startServe({MAU_MYSQL_URL: db.url}, ['--max-staleness', String(staleness)])
    try {
      for (const [name, pick] of [
        ['200 environments, one at random per call', () => `env-${Math.floor(Math.random() * 200)}`],
        ['env-10k (10 thousand users)', () => 'env-10k'],
        [`env-big (${largest.toLocaleString('en-US')} users)`, () => 'env-big'],
      ] as const) {
        log(`staleness ${staleness}: ${name}`)
        const r = await drive(served.grpcPort, served.pid, pick)
        lines.push(
          `| ${staleness} s | ${name} | ${Math.round(r.rps).toLocaleString('en-US')} | ${r.p50.toFixed(2)} ms | ${r.p99.toFixed(2)} ms | ${r.errors} | ${Number(r.users).toLocaleString('en-US')} | ${(r.serverMs * 1000).toFixed(0)} µs | ${(r.clientMs * 1000).toFixed(0)} µs |`,
        )
      }
      const handled = await withinOneMs(served.httpPort)
      serverLines.push(`| ${staleness} s | ${(handled * 100).toFixed(2)}% |`)
      for (const namespace of ['env-0', 'env-10k', 'env-big']) {
        log(`staleness ${staleness}: h2load ${namespace}`)
        const r = h2load(served.grpcPort, served.pid, namespace)
        h2lines.push(
          `| ${staleness} s | ${namespace} | ${Math.round(r.rps).toLocaleString('en-US')} | ${r.p50.toFixed(2)} ms | ${r.p99.toFixed(2)} ms | ${r.failed} | ${r.serverUs.toFixed(0)} µs |`,
        )
      }
    } finally {
      await served.stop()
    }
  }
  const [[version]] = await pool.query<RowDataPacket[]>('SELECT VERSION() AS v')
  publish('serve', [
    '# bench:serve',
    '',
    `Run: ${new Date().toISOString()} on ${cpus().length} cores (the client, \`mau serve\` and MariaDB ${version?.v} all on them), node ${process.version}.`,
    `Month ${month}: ${Number(rows?.n).toLocaleString('en-US')} rows of \`mau\` in 202 environments, loaded and summarised in ${loadSeconds.toFixed(0)} s.`,
    `Each line: ${concurrency} concurrent GetMAUCount calls over one HTTP/2 channel (grpc-js) for ${seconds} s, after ${warmUp} s of warm-up.`,
    '',
    '| --max-staleness | environments asked | requests/s | p50 | p99 | errors | users answered (last call) | server CPU per call | client CPU per call |',
    '| --- | --- | --- | --- | --- | --- | --- | --- | --- |',
    ...lines,
    '',
    `The grpc-js client spends about twice the server's CPU on each call, and at ${concurrency} concurrent calls its own event loop is`,
    `the bottleneck. The same ${concurrency} concurrent calls from h2load (C, HTTP/2, two threads, one stream per connection), for ${seconds} s after ${warmUp} s of warm-up:`,
    '',
    '| --max-staleness | environment | requests/s | p50 | p99 | failed | server CPU per call |',
    '| --- | --- | --- | --- | --- | --- | --- |',
    ...h2lines,
    '',
    'Inside the server (its own `mau_serve_request_duration_seconds`, from the call reaching the handler to the answer), over all the grpc-js calls above:',
    '',
    '| --max-staleness | calls answered within 1 ms |',
    '| --- | --- |',
    ...serverLines,
    '',
    'Target (issue 13): p99 under 10 ms and at least 5,000 requests/s, with the client in the same run.',
  ])
} finally {
  await pool.end()
  await db.drop()
}
