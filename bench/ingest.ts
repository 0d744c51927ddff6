/**
 * npm run bench:ingest [-- --shape zipf|users --events N --partitions P --baseline-events M --batch-size B --concurrency C --profile DIR
 *   --against CHECKOUT --rounds R]
 * Produces N realistic user events to the real local Kafka, consumes them with `mau consume --stop-at-end`
 * (the built CLI, in its own process) into a fresh MariaDB database, checks the result against ground
 * truth, and in the same run times the design's one-upsert-per-event writer on the same events.
 * Shapes: `zipf` (the default) has few rows for its events (Zipf-skewed users, 60% in one environment) and
 * writes bench/results/ingest.md; `users` is production's (issue 36): 10 environments of 10,000 users on
 * 3 sources, events uniform over them, so 1,000,000 events make ~290,000 rows, ~3.5 events a row; it
 * skips the replay and evaluation-event runs and writes bench/results/ingest-users.md.
 */
import {schemaAt} from '../test/fixtures/services.js'
import {writerPool} from '../src/mau/rows.js'
import {execSync, spawn} from 'node:child_process'
import {join} from 'node:path'
import {alternate} from './against.js'
import {cpus, totalmem} from 'node:os'
import {parseArgs} from 'node:util'
import type {RowDataPacket} from 'mysql2/promise'
import {MonthResolver} from '../src/core/month.js'
import {DEFAULTS} from '../src/core/settings.js'
import {checkSummary} from '../src/mau/summary.js'
import {decoder} from '../src/ingest/decode.js'
import {openDb} from '../src/core/db.js'
import {seedOffsets} from '../src/ingest/offsets.js'
import {persistWindow, type WindowChunk} from '../src/ingest/writer.js'
import {knownUsers} from '../src/ingest/known-users.js'
import {createLogger} from '../src/core/log.js'
import {ConsumerMetrics} from '../src/ingest/metrics.js'
import {prepareBatch} from '../src/ingest/batch.js'
import {encodeActivity} from '../src/ingest/encode.js'
import {sourceNames} from '../src/core/platform.js'
import {encode, rng, sampleEvents, Truth, type SampleEvent, type SampleOptions} from '../test/fixtures/events.js'
import {sent} from '../src/mau/rows.js'
import {cpuSeconds, machineCpu, peakRssMb} from './proc.js'
import {publish} from './results.js'
import {createTestDatabase, createTopic, kafka, serverPid} from '../test/fixtures/services.js'

const {values: args} = parseArgs({
  options: {
    shape: {type: 'string', default: 'zipf'},
    events: {type: 'string', default: '1000000'},
    partitions: {type: 'string', default: '4'},
    'baseline-events': {type: 'string', default: '20000'},
    'batch-size': {type: 'string', default: String(DEFAULTS.batchSize)},
    concurrency: {type: 'string', default: '2'},
    /** A folder: the end-to-end consumer writes a V8 CPU profile there (node --cpu-prof). */
    profile: {type: 'string'},
    /** Another built checkout (e.g. a worktree of main): consumed against this one, rounds alternating (bench/against.ts). */
    against: {type: 'string'},
    rounds: {type: 'string', default: '3'},
  },
})
const N = Number(args.events)
const PARTITIONS = Number(args.partitions)
const BASELINE_N = Number(args['baseline-events'])
const SHAPE = args.shape
if (SHAPE !== 'zipf' && SHAPE !== 'users') throw new Error(`--shape ${SHAPE}: zipf or users`)
const USERS_SHAPE = {environments: 10, users: 10_000, sources: ['ANDROID', 'IOS', 'WEB']}

const log = (msg: string) => console.error(`[bench:ingest] ${msg}`)
const zone = 'UTC'
// The zipf shape: last month's events, within any retention `db migrate` records (December 2022's were
// skipped as expired).
const today = new Date()
// The users shape: this month's so far, as production's are (the consumer remembers users of the current
// month only: src/ingest/known-users.ts); never before the month's first minute.
const monthStart = (delta: number) => Date.UTC(today.getUTCFullYear(), today.getUTCMonth() + delta, 1) / 1000
const from = SHAPE === 'users' ? monthStart(0) : monthStart(-1)
const to = SHAPE === 'users' ? Math.max(from + 60, Math.floor(today.getTime() / 1000) - 60) : monthStart(0)
const yearMonth = new Date(from * 1000).toISOString().slice(0, 7).replace('-', '')
const sample = {events: N, users: 200_000, namespaces: 50, from, to, seed: 2022}

/** Many users, each with a few events in the month: nearly every event of a window is a row of its own. */
function* usersEvents(o: SampleOptions): Generator<SampleEvent> {
  const random = rng(o.seed ?? 42)
  const {environments, users, sources} = USERS_SHAPE
  for (let i = 0; i < o.events; i++)
    yield {
      environment_namespace: `env-${Math.floor(random() * environments)}`,
      user_id: `user-${Math.floor(random() * users)}`,
      source_id: sources[Math.floor(random() * sources.length)]!,
      last_seen: o.from + Math.floor(random() * (o.to - o.from)),
    }
}
const events = (o: SampleOptions) => (SHAPE === 'users' ? usersEvents(o) : sampleEvents(o))

/** MariaDB's counters of statements the whole server ran (every client's: quiet the machine to read them). */
async function serverStatements(settings: Parameters<typeof openDb>[0]): Promise<Record<string, number>> {
  const conn = openDb(settings)
  const [rows] = await conn.query<RowDataPacket[]>(
    "SHOW GLOBAL STATUS WHERE Variable_name IN ('Questions', 'Com_insert', 'Com_select', 'Com_update', 'Com_commit')",
  )
  await conn.end()
  return Object.fromEntries(rows.map((r) => [String(r.Variable_name), Number(r.Value)]))
}
const statementsSince = (before: Record<string, number>, after: Record<string, number>) =>
  Object.fromEntries(Object.keys(after).map((k) => [k, after[k]! - (before[k] ?? 0)]))

async function main() {
  const db = await createTestDatabase()
  const topic = await createTopic(PARTITIONS)
  try {
    await schemaAt(db.settings).migrate({timezone: zone})
    log(`producing ${N} events to ${topic.topic} (${PARTITIONS} partitions)`)
    const truth = new Truth(zone)
    for (const e of events(sample)) truth.add(e)
    const {
      partitions,
      seconds: produceSeconds,
      bytes: jsonBytes,
      started: produceStart,
    } = await produceAll(topic.topic, (e) => encode(e, 'json'))

    log('consuming with mau consume --stop-at-end')
    const statementsBefore = await serverStatements(db.settings)
    const consumed = await runConsumer(db.url, topic.topic, 'mau-bench')
    const statements = statementsSince(statementsBefore, await serverStatements(db.settings))
    const check = await verify(db.settings, truth)
    log(
      `consumed ${consumed.summary.consumed} in ${consumed.wallSeconds.toFixed(2)}s wall; peak RSS ${consumed.peakRssMb} MB; ${check}`,
    )

    // The zipf shape's other runs: the users shape is about the write side, which they share.
    let evaluations: Awaited<ReturnType<typeof evaluationStream>> | undefined
    let replay: Awaited<ReturnType<typeof runConsumer>> | undefined
    if (SHAPE === 'zipf') {
      log(
        'evaluation events: the same activity as the platform sends it today (EvaluationEvent in the Event envelope, protobuf)',
      )
      evaluations = await evaluationStream(truth)
      log(
        `evaluation events: consumer ${((evaluations.run.consumerCpu / N) * 1e6).toFixed(1)} µs/event against JSON's ${((consumed.consumerCpu / N) * 1e6).toFixed(1)}`,
      )

      log(`replay: a new group with --since ${new Date(produceStart).toISOString()} into a fresh database`)
      const replayDb = await createTestDatabase()
      try {
        await schemaAt(replayDb.settings).migrate({timezone: zone})
        replay = await runConsumer(replayDb.url, topic.topic, 'mau-bench-replay', [
          '--since',
          new Date(produceStart - 1000).toISOString(),
        ])
        await verify(replayDb.settings, truth)
      } finally {
        await replayDb.drop()
      }
    }

    let against: string[] = []
    if (args.against) {
      log(`before and after: ${args.rounds} rounds each of ${args.against} and this checkout, alternating`)
      const sides = [
        {label: 'before', root: args.against},
        {label: 'after', root: '.'},
      ]
      const table = await alternate(Number(args.rounds), sides, N, async (root, label) => {
        const fresh = await createTestDatabase()
        try {
          await schemaAt(fresh.settings).migrate({timezone: zone})
          const r = await runConsumer(fresh.url, topic.topic, `mau-bench-${label}`, [], root)
          await verify(fresh.settings, truth)
          return r
        } finally {
          await fresh.drop()
        }
      })
      const commit = (root: string) => execSync('git rev-parse --short HEAD', {cwd: root}).toString().trim()
      against = [
        ``,
        `## Before and after, alternating rounds (--against)`,
        ``,
        `The same topic consumed ${args.rounds} times each by \`${args.against}\` (before, commit ${commit(args.against)}) and by this`,
        `checkout (after, commit ${commit('.')}${execSync('git status --porcelain src').length > 0 ? ' with uncommitted changes' : ''}), rounds alternating, each into a fresh database and`,
        `checked exact.`,
        ``,
        ...table,
      ]
    }

    log('write path alone: the same messages through prepareBatch + persistBatch, no Kafka, into a second database')
    const writeOnly = await writePathAlone(partitions, truth)
    log(`write path alone: ${Math.round(N / writeOnly.seconds).toLocaleString('en-US')} events/s`)

    log(`baseline: one INSERT ... ON DUPLICATE KEY UPDATE per event, autocommit, ${BASELINE_N} events`)
    const baseline = await perEventBaseline(db.settings, [...events({...sample, events: BASELINE_N, seed: 7})])

    const endToEnd = N / consumed.wallSeconds
    const us = (cpu: number) =>
      `${((cpu / N) * 1e6).toFixed(1)} µs/event (${(cpu / (N / 1e6)).toFixed(2)} CPU-s per million events)`
    const perRun = (r: typeof consumed) => [
      `| consumer CPU | ${us(r.consumerCpu)} |`,
      `| MariaDB CPU (mariadbd, the whole server) | ${us(r.mariadbCpu)} |`,
      `| both cores busy (machine, while consuming) | ${Math.round(r.busy * 100)}% |`,
      `| peak RSS of the consumer process (VmHWM) | ${r.peakRssMb} MB |`,
    ]
    const windows = consumed.summary.batches as number
    const perWindow = (n: number, of = windows) => (n / of).toFixed(1)
    const w = writeOnly
    const events$ =
      SHAPE === 'users'
        ? `${N} JSON user events, uniform over ${USERS_SHAPE.environments} environments x ${USERS_SHAPE.users.toLocaleString('en-US')} users x ${USERS_SHAPE.sources.length} sources, one month`
        : `${N} JSON user events, ${sample.namespaces} environments (60% in one), Zipf-skewed over ${sample.users} users, 3 sources, one month`
    const lines = [
      `# bench:ingest${SHAPE === 'users' ? ' --shape users' : ''}`,
      ``,
      `Run: ${new Date().toISOString()} on ${cpus().length} cores (${cpus()[0]?.model ?? 'unknown'}), ${(totalmem() / 2 ** 30).toFixed(0)} GiB, node ${process.version},`,
      `MariaDB ${await serverVersion(db.settings)} (defaults), Kafka 3.9.1 single node on loopback, all on this one machine.`,
      ``,
      `Events: ${events$};`,
      `topic with ${PARTITIONS} partitions; mau consume --batch-size ${args['batch-size']} --concurrency ${args.concurrency} --stop-at-end.`,
      ``,
      `| measure | value |`,
      `| --- | --- |`,
      `| produce (setup, not part of the target) | ${produceSeconds.toFixed(1)} s |`,
      `| consume, wall clock from process start to exit (incl. start-up and group join) | ${consumed.wallSeconds.toFixed(2)} s |`,
      `| **end-to-end events/s** (events / wall clock) | **${Math.round(endToEnd).toLocaleString('en-US')}** |`,
      `| events/s while consuming (mau's own summary, after the group join) | ${consumed.summary.eventsPerSecond.toLocaleString('en-US')} |`,
      `| rows upserted (aggregated per transaction) | ${consumed.summary.rowsUpserted.toLocaleString('en-US')} (${Math.round(consumed.summary.rowsUpserted / consumed.wallSeconds).toLocaleString('en-US')} rows/s; ${(consumed.summary.rowsUpserted / N).toFixed(3)} per event) |`,
      `| transactions (windows) | ${windows.toLocaleString('en-US')} (${Math.round(N / windows).toLocaleString('en-US')} events each) |`,
      `| distinct rows in mau at the end | ${truth.rows.size.toLocaleString('en-US')} (${(truth.rows.size / N).toFixed(3)} per event) |`,
      `| statements a window, server-wide (MariaDB's Questions; INSERT / SELECT / UPDATE / COMMIT) | ${perWindow(statements.Questions!)} (${perWindow(statements.Com_insert!)} / ${perWindow(statements.Com_select!)} / ${perWindow(statements.Com_update!)} / ${perWindow(statements.Com_commit!)}) |`,
      ...perRun(consumed),
      `| result check against ground truth | ${check} |`,
      ...(replay
        ? [
            `| **replay**: a new group, \`--since\` the first message, into a fresh database | **${Math.round(N / replay.wallSeconds).toLocaleString('en-US')} events/s** (${replay.wallSeconds.toFixed(2)} s; consumer ${us(replay.consumerCpu)}; MariaDB ${us(replay.mariadbCpu)}; cores ${Math.round(replay.busy * 100)}% busy; peak RSS ${replay.peakRssMb} MB; exact) |`,
          ]
        : []),
      `| the write path alone: the same messages decoded, aggregated and written in windows of ${args['batch-size']} across partitions, one after another, no Kafka | ${Math.round(N / w.seconds).toLocaleString('en-US')} events/s (${w.seconds.toFixed(2)} s; node ${us(w.nodeCpu)}; MariaDB ${us(w.mariadbCpu)}) |`,
      `| the write path alone, a window (${w.windows} windows): rows; row-writing statements in round trips; bytes sent (upper bound); server-wide statements | ${perWindow(w.rows, w.windows)} rows; ${perWindow(w.sent.statements, w.windows)} statements in ${perWindow(w.sent.roundTrips, w.windows)} round trips; ${Math.round(w.sent.bytes / w.windows).toLocaleString('en-US')} bytes; ${perWindow(w.statements.Questions!, w.windows)} statements (Questions) |`,
      ...(evaluations
        ? [
            `| **enveloped evaluation events** (protobuf, ${Math.round(evaluations.bytes / N)} bytes each against JSON's ${Math.round(jsonBytes / N)}; --format protobuf; same activity, exact) | **${Math.round(N / evaluations.run.wallSeconds).toLocaleString('en-US')} events/s**; consumer ${us(evaluations.run.consumerCpu)}, **${(evaluations.run.consumerCpu / consumed.consumerCpu).toFixed(2)}x JSON's**; MariaDB ${us(evaluations.run.mariadbCpu)}; peak RSS ${evaluations.run.peakRssMb} MB |`,
          ]
        : []),
      `| baseline: one upsert per event, autocommit (${BASELINE_N} events) | ${Math.round(baseline).toLocaleString('en-US')} events/s |`,
      `| **speed-up over the baseline** (end-to-end vs baseline) | **${(endToEnd / baseline).toFixed(1)}x** |`,
      ``,
      ...(SHAPE === 'users'
        ? [
            `Targets (issue 36), this machine: consumer CPU <= 6 µs/event; MariaDB CPU per event down by a third and end to end`,
            `up 1.5x against main's run of this shape; counts exact.`,
          ]
        : [
            `Targets (issue 15), this machine, shared by Kafka, MariaDB and mau: consumer CPU <= 10 µs/event; end to end >= 70,000 events/s and >= 45x the`,
            `per-event baseline; peak RSS < 300 MB; counts exact. Issue 20: consumer CPU per enveloped evaluation event within 1.5x of JSON's.`,
          ]),
    ]
    publish(SHAPE === 'users' ? 'ingest-users' : 'ingest', [...lines, ...against])
  } finally {
    await topic.drop()
    await db.drop()
  }
}

/** Produces the sample events, encoded by `encode`, round-robin over the partitions; returns each partition's messages. */
async function produceAll(
  topic: string,
  encode: (e: SampleEvent) => Buffer,
): Promise<{partitions: Buffer[][]; seconds: number; bytes: number; started: number}> {
  const producer = kafka('mau-bench').producer({allowAutoTopicCreation: false})
  await producer.connect()
  let batch: {value: Buffer; partition: number}[] = []
  let batchBytes = 0
  let i = 0
  let bytes = 0
  const started = Date.now()
  const partitions: Buffer[][] = Array.from({length: PARTITIONS}, () => [])
  for (const e of events(sample)) {
    const value = encode(e)
    partitions[i % PARTITIONS]!.push(value)
    batch.push({value, partition: i++ % PARTITIONS})
    batchBytes += value.length
    bytes += value.length
    // Kafka refuses a record batch over 1 MB a partition.
    if (batch.length === 10_000 || batchBytes > 2 * 1024 * 1024) {
      await producer.send({topic, acks: -1, messages: batch})
      batch = []
      batchBytes = 0
    }
  }
  if (batch.length) await producer.send({topic, acks: -1, messages: batch})
  await producer.disconnect()
  return {partitions, seconds: (Date.now() - started) / 1000, bytes, started}
}

/** The same activity as EvaluationEvents in the platform's envelope (environment ids, user and metadata maps), consumed with --format protobuf. */
async function evaluationStream(truth: Truth) {
  const topic = await createTopic(PARTITIONS)
  const db = await createTestDatabase()
  try {
    await schemaAt(db.settings).migrate({timezone: zone})
    const numbers = new Map([...sourceNames()].map(([n, name]) => [name, n]))
    const {bytes} = await produceAll(topic.topic, (e) =>
      encodeActivity({
        kind: 'evaluation',
        environmentId: e.environment_namespace,
        userId: e.user_id,
        sourceId: numbers.get(e.source_id)!,
        time: e.last_seen,
      }),
    )
    const run = await runConsumer(db.url, topic.topic, 'mau-bench-evaluations', ['--format', 'protobuf'])
    await verify(db.settings, truth)
    return {run, bytes}
  } finally {
    await topic.drop()
    await db.drop()
  }
}

async function runConsumer(url: string, topic: string, group: string, extra: string[] = [], root = '.') {
  const mariadb = await serverPid()
  const mariadbBefore = cpuSeconds(mariadb)!
  const machineBefore = machineCpu()
  const started = Date.now()
  const child = spawn(
    'node',
    [
      ...(args.profile && group === 'mau-bench' ? ['--cpu-prof', `--cpu-prof-dir=${args.profile}`] : []),
      join(root, 'bin/run.js'),
      'consume',
      '--topic',
      topic,
      '--group',
      group,
      '--stop-at-end',
      '--json',
      '--batch-size',
      args['batch-size'],
      '--concurrency',
      args.concurrency,
      ...extra,
    ],
    {env: {...process.env, MAU_MYSQL_URL: url, MAU_LOG_LEVEL: 'warn'}, stdio: ['ignore', 'pipe', 'inherit']},
  )
  let stdout = ''
  child.stdout.on('data', (d) => (stdout += d))
  // /proc/<pid> is gone once the process exits: keep the last reading (at most 20 ms short).
  let peakMb = 0
  let consumerCpu = 0
  const poll = setInterval(() => {
    peakMb = Math.max(peakMb, peakRssMb(child.pid!) ?? 0)
    consumerCpu = cpuSeconds(child.pid!) ?? consumerCpu
  }, 20)
  const code = await new Promise<number | null>((r) => child.on('exit', r))
  clearInterval(poll)
  const machineAfter = machineCpu()
  if (code !== 0) throw new Error(`mau consume exited ${code}`)
  return {
    summary: JSON.parse(stdout),
    wallSeconds: (Date.now() - started) / 1000,
    peakRssMb: peakMb,
    consumerCpu,
    mariadbCpu: cpuSeconds(mariadb)! - mariadbBefore,
    busy: (machineAfter.busy - machineBefore.busy) / (machineAfter.total - machineBefore.total),
  }
}

/**
 * The consumer's MySQL work without Kafka: the same messages cut into 5,000-message chunks per partition,
 * taken round-robin into windows of --batch-size, each decoded, aggregated and written by persistWindow,
 * one after another as consume writes them. The ceiling the end-to-end rate can approach on this machine.
 */
async function writePathAlone(
  partitions: Buffer[][],
  truth: Truth,
): Promise<{
  seconds: number
  nodeCpu: number
  mariadbCpu: number
  windows: number
  rows: number
  sent: typeof sent
  statements: Record<string, number>
}> {
  const db = await createTestDatabase()
  try {
    await schemaAt(db.settings).migrate({timezone: zone})
    const pool = openDb(db.settings, writerPool(2))
    const decode = decoder('json')
    const months = new MonthResolver(zone)
    // As the consumer: its users of this month remembered (src/ingest/known-users.ts).
    const known = knownUsers(DEFAULTS.knownUsers, zone, {
      log: createLogger('bench', 'silent'),
      metrics: new ConsumerMetrics(),
    })
    const chunks: {partition: number; from: number; messages: Buffer[]}[] = []
    for (let from = 0; partitions.some((p) => from < p.length); from += 5000) {
      partitions.forEach(
        (p, partition) => from < p.length && chunks.push({partition, from, messages: p.slice(from, from + 5000)}),
      )
    }
    // Where the consumer starts partitions never consumed: offset 0, stored before the first window.
    await seedOffsets(
      pool,
      'bench',
      'bench',
      partitions.map((_, partition) => ({partition, offset: 0})),
      0,
    )
    const mariadb = await serverPid()
    const mariadbBefore = cpuSeconds(mariadb)!
    const sentBefore = {...sent}
    const statementsBefore = await serverStatements(db.settings)
    const cpuBefore = process.cpuUsage()
    const started = Date.now()
    let windows = 0
    let rows = 0
    for (let i = 0; i < chunks.length;) {
      const window: WindowChunk[] = []
      for (let events = 0; i < chunks.length && events < Number(args['batch-size']); i++) {
        const c = chunks[i]!
        const now = Math.floor(Date.now() / 1000)
        window.push({
          ref: {group: 'bench', topic: 'bench', partition: c.partition},
          from: c.from,
          batch: prepareBatch(
            c.messages.map((value, j) => ({offset: String(c.from + j), value})),
            decode,
            now,
          ),
        })
        events += c.messages.length
      }
      const r = await persistWindow(pool, window, months, Math.floor(Date.now() / 1000), {known})
      windows++
      rows += r.rowsUpserted
    }
    const seconds = (Date.now() - started) / 1000
    const cpu = process.cpuUsage(cpuBefore)
    const mariadbCpu = cpuSeconds(mariadb)! - mariadbBefore
    const statements = statementsSince(statementsBefore, await serverStatements(db.settings))
    const sentNow = {
      statements: sent.statements - sentBefore.statements,
      roundTrips: sent.roundTrips - sentBefore.roundTrips,
      bytes: sent.bytes - sentBefore.bytes,
    }
    await pool.end()
    await verify(db.settings, truth)
    return {seconds, nodeCpu: (cpu.user + cpu.system) / 1e6, mariadbCpu, windows, rows, sent: sentNow, statements}
  } finally {
    await db.drop()
  }
}

async function verify(settings: Parameters<typeof openDb>[0], truth: Truth): Promise<string> {
  const conn = openDb(settings)
  const [[r]] = await conn.query<RowDataPacket[]>(
    'SELECT COUNT(*) AS n, CAST(SUM(event_count) AS SIGNED) AS events FROM mau',
  )
  await conn.end()
  const ok = Number(r?.n) === truth.rows.size && Number(r?.events) === truth.events
  if (!ok)
    throw new Error(
      `result differs from ground truth: ${r?.n} rows / ${r?.events} events, expected ${truth.rows.size} / ${truth.events}`,
    )
  const pool = openDb(settings, {connectionLimit: 1})
  const check = await checkSummary(pool, yearMonth)
  await pool.end()
  if (!check.ok) throw new Error(`summary differs from the rows: ${JSON.stringify(check.differences.slice(0, 3))}`)
  return `exact (${truth.rows.size} rows, ${truth.events} events; summary counters equal a scan)`
}

/** The original design's writer: one autocommitted upsert per event. */
async function perEventBaseline(settings: Parameters<typeof openDb>[0], events: SampleEvent[]): Promise<number> {
  const conn = openDb(settings)
  await conn.query('CREATE TABLE mau_baseline LIKE mau')
  const months = new MonthResolver(zone)
  const started = Date.now()
  for (const e of events) {
    await conn.query(
      'INSERT INTO mau_baseline (environment_namespace, yearmonth, source_id, user_id, event_count, created_at, updated_at) VALUES (?, ?, ?, ?, 1, ?, ?) ON DUPLICATE KEY UPDATE event_count = event_count + 1, updated_at = VALUES(updated_at)',
      [e.environment_namespace, months.resolve(e.last_seen), e.source_id, e.user_id, e.last_seen, e.last_seen],
    )
  }
  const rate = events.length / ((Date.now() - started) / 1000)
  await conn.end()
  return rate
}

async function serverVersion(settings: Parameters<typeof openDb>[0]): Promise<string> {
  const conn = openDb(settings)
  const [[r]] = await conn.query<RowDataPacket[]>('SELECT VERSION() AS v')
  await conn.end()
  return String(r?.v)
}

await main()
process.exit(0)
