/**
 * npm run bench:serve [-- --seconds S --concurrency C --largest N]
 * A month of 200 environments plus one of 10 thousand and one of N (default 10 million) users in MariaDB;
 * the built `mau serve` in its own process; in this process, C (default 50) concurrent GetMAUCount calls
 * over one HTTP/2 channel for S seconds per scenario: requests per second and p50/p99 latency, with the
 * default staleness bound (5 s) and with 0 (every request reads the summary in MySQL).
 * Writes bench/results/serve.md.
 */
import * as grpc from '@grpc/grpc-js'
import {spawn} from 'node:child_process'
import {cpus} from 'node:os'
import {parseArgs} from 'node:util'
import type {RowDataPacket} from 'mysql2/promise'
import {openDb} from '../src/core/db.js'
import {rebuildSummary} from '../src/mau/summary.js'
import {loadProtos} from '../src/serve/grpc.js'
import {createTestDatabase} from '../test/fixtures/services.js'
import {publish} from './results.js'

const {values: args} = parseArgs({options: {seconds: {type: 'string', default: '10'}, concurrency: {type: 'string', default: '50'}, largest: {type: 'string', default: '10000000'}}})
const seconds = Number(args.seconds)
const concurrency = Number(args.concurrency)
const largest = Number(args.largest)
const month = '202212'
const log = (m: string) => console.error(`[bench:serve] ${m}`)

const db = await createTestDatabase({migrated: true})
const pool = openDb(db.settings, {connectionLimit: 2})

async function load(): Promise<number> {
  const started = Date.now()
  await pool.query('CREATE TABLE bench_n (n INT PRIMARY KEY)')
  for (let i = 0; i < 5000; i += 1000) await pool.query(`INSERT INTO bench_n VALUES ${Array.from({length: 1000}, (_, j) => `(${i + j})`).join(',')}`)
  const fill = (env: string, rows: number) =>
    pool.query(
      `INSERT INTO mau (environment_namespace, yearmonth, source_id, user_id, event_count, created_at, updated_at)
       SELECT ?, ?, ELT(1 + (a.n + b.n) % 3, 'ANDROID', 'IOS', 'WEB'), CONCAT('user-', a.n, '-', b.n), 1 + b.n % 7, 0, 0
         FROM bench_n a JOIN bench_n b ON b.n < ? WHERE a.n < ?`,
      [env, month, Math.ceil(rows / 5000), Math.min(5000, rows)],
    )
  for (let i = 0; i < 200; i++) await fill(`env-${i}`, 100)
  await fill('env-10k', 10_000)
  log(`loading env-big (${largest} users)`)
  await fill('env-big', largest)
  await rebuildSummary(pool, month)
  return (Date.now() - started) / 1000
}

function startServe(staleness: number): Promise<{port: number; stop: () => Promise<void>}> {
  const child = spawn('node', ['bin/run.js', 'serve', '--grpc-port', '0', '--http-port', '0', '--host', '127.0.0.1', '--max-staleness', String(staleness)], {env: {...process.env, MAU_MYSQL_URL: db.url}})
  let stderr = ''
  return new Promise((resolve, reject) => {
    child.stderr.on('data', (d) => {
      stderr += d
      const line = stderr.split('\n').find((l) => l.includes('"msg":"serving"'))
      if (line) resolve({port: JSON.parse(line).grpcPort, stop: () => new Promise((r) => child.on('exit', () => r()).kill('SIGTERM'))})
    })
    child.on('exit', (code) => reject(new Error(`mau serve exited ${code}: ${stderr}`)))
  })
}

type Unary = (req: object, cb: (e: grpc.ServiceError | null, r: {user_count: string}) => void) => void

async function drive(port: number, namespaces: () => string): Promise<{rps: number; p50: number; p99: number; errors: number; users: string}> {
  const loaded = grpc.loadPackageDefinition(loadProtos()) as unknown as {bucketeer: {eventcounter: {EventCounterService: grpc.ServiceClientConstructor}}}
  const client = new loaded.bucketeer.eventcounter.EventCounterService(`127.0.0.1:${port}`, grpc.credentials.createInsecure()) as unknown as grpc.Client & {GetMAUCount: Unary}
  const once = (ns: string) => new Promise<{ms: number; ok: boolean; users: string}>((resolve) => {
    const t = process.hrtime.bigint()
    client.GetMAUCount({environment_namespace: ns, year_month: month}, (e, r) => resolve({ms: Number(process.hrtime.bigint() - t) / 1e6, ok: !e, users: r?.user_count ?? ''}))
  })
  const run = async (ms: number) => {
    const latencies: number[] = []
    let errors = 0
    let users = ''
    const until = Date.now() + ms
    await Promise.all(Array.from({length: concurrency}, async () => {
      while (Date.now() < until) {
        const r = await once(namespaces())
        latencies.push(r.ms)
        if (!r.ok) errors++
        users = r.users
      }
    }))
    return {latencies, errors, users}
  }
  await run(2_000)
  const {latencies, errors, users} = await run(seconds * 1000)
  client.close()
  latencies.sort((a, b) => a - b)
  const at = (q: number) => latencies[Math.min(latencies.length - 1, Math.floor(q * latencies.length))]!
  return {rps: latencies.length / seconds, p50: at(0.5), p99: at(0.99), errors, users}
}

try {
  const loadSeconds = await load()
  const [[rows]] = await pool.query<RowDataPacket[]>('SELECT COUNT(*) AS n FROM mau')
  const lines: string[] = []
  for (const staleness of [5, 0]) {
    const served = await startServe(staleness)
    try {
      for (const [name, pick] of [['200 environments, one at random per call', () => `env-${Math.floor(Math.random() * 200)}`], ['env-10k (10 thousand users)', () => 'env-10k'], [`env-big (${largest.toLocaleString('en-US')} users)`, () => 'env-big']] as const) {
        log(`staleness ${staleness}: ${name}`)
        const r = await drive(served.port, pick)
        lines.push(`| ${staleness} s | ${name} | ${Math.round(r.rps).toLocaleString('en-US')} | ${r.p50.toFixed(2)} ms | ${r.p99.toFixed(2)} ms | ${r.errors} | ${Number(r.users).toLocaleString('en-US')} |`)
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
    `Each line: ${concurrency} concurrent GetMAUCount calls over one HTTP/2 channel (grpc-js) for ${seconds} s, after 2 s of warm-up.`,
    '',
    '| --max-staleness | environments asked | requests/s | p50 | p99 | errors | users answered (last call) |',
    '| --- | --- | --- | --- | --- | --- | --- |',
    ...lines,
    '',
    'Target (issue 13): p99 under 10 ms and at least 5,000 requests/s, with the client in the same run.',
  ])
} finally {
  await pool.end()
  await db.drop()
}
