/**
 * npm run bench:sources [-- --events N]
 * The same N platform events (protobuf Event envelopes: evaluation, goal and user events, metrics events
 * and broken messages, test/fixtures/platform.ts) consumed by `mau consume --stop-at-end` (the built CLI,
 * its own process) from Kafka (a topic of 16 partitions) and from Redis Streams (one topic, 16 streams, as
 * the platform writes them), each into a fresh MariaDB database, exact against the ground truth both times.
 * Writes bench/results/sources.md: events/s and CPU per event of each source.
 */
import {execFileSync, spawn} from 'node:child_process'
import {cpus, loadavg, totalmem} from 'node:os'
import {parseArgs} from 'node:util'
import type {RowDataPacket} from 'mysql2/promise'
import {query, produce} from '../test/fixtures/mau.js'
import {platformStream} from '../test/fixtures/platform.js'
import {publish as publishEntries} from '../test/fixtures/redis-streams.js'
import {createTestDatabase, createTopic, schemaAt, serverPid} from '../test/fixtures/services.js'
// The tests' own redis-server (a port of its own, no persistence): the benchmark needs one the same way.
import {startRedis} from '../test/helpers/redis-server.js'
import {cpuSeconds, peakRssMb} from './proc.js'
import {publish} from './results.js'

const {values: args} = parseArgs({
  options: {events: {type: 'string', default: '300000'}, 'batch-size': {type: 'string', default: '20000'}},
})
const N = Number(args.events)
const PARTITIONS = 16
const log = (msg: string) => console.error(`[bench:sources] ${msg}`)
const today = new Date()
const from = Date.UTC(today.getUTCFullYear(), today.getUTCMonth() - 1, 1) / 1000
const to = Date.UTC(today.getUTCFullYear(), today.getUTCMonth(), 1) / 1000

interface Run {
  wallSeconds: number
  consumerCpu: number
  mariadbCpu: number
  peakRssMb: number
  summary: {consumed: number; eventsPerSecond: number; batches: number}
}

async function runConsumer(url: string, extra: string[], env: Record<string, string> = {}): Promise<Run> {
  const mariadb = await serverPid()
  const mariadbBefore = cpuSeconds(mariadb)!
  const started = Date.now()
  const child = spawn(
    'node',
    [
      'bin/run.js',
      'consume',
      '--stop-at-end',
      '--json',
      '--format',
      'protobuf',
      '--batch-size',
      args['batch-size'],
      ...extra,
    ],
    {
      env: {...process.env, MAU_MYSQL_URL: url, MAU_LOG_LEVEL: 'error', ...env},
      stdio: ['ignore', 'pipe', 'inherit'],
    },
  )
  let stdout = ''
  child.stdout.on('data', (d) => (stdout += d))
  let peakMb = 0
  let consumerCpu = 0
  const poll = setInterval(() => {
    peakMb = Math.max(peakMb, peakRssMb(child.pid!) ?? 0)
    consumerCpu = cpuSeconds(child.pid!) ?? consumerCpu
  }, 20)
  const code = await new Promise<number | null>((r) => child.on('exit', r))
  clearInterval(poll)
  if (code !== 0) throw new Error(`mau consume exited ${code}`)
  return {
    summary: JSON.parse(stdout),
    wallSeconds: (Date.now() - started) / 1000,
    peakRssMb: peakMb,
    consumerCpu,
    mariadbCpu: cpuSeconds(mariadb)! - mariadbBefore,
  }
}

async function exact(url: string, settings: Parameters<typeof query>[0], truth: Map<string, number>): Promise<void> {
  const rows = await query<RowDataPacket>(
    settings,
    'SELECT environment_namespace, yearmonth, source_id, user_id, event_count FROM mau',
  )
  const got = new Map(
    rows.map((x) => [[x.environment_namespace, x.yearmonth, x.source_id, x.user_id].join('|'), Number(x.event_count)]),
  )
  if (got.size !== truth.size || [...truth].some(([k, n]) => got.get(k) !== n))
    throw new Error(`${url}: the rows differ from the ground truth`)
}

async function main() {
  const stream = platformStream({events: N, seed: 2025, format: 'protobuf', from, to})
  const kafkaDb = await createTestDatabase()
  const redisDb = await createTestDatabase()
  const topic = await createTopic(PARTITIONS)
  const redis = await startRedis()
  try {
    for (const d of [kafkaDb, redisDb]) await schemaAt(d.settings).migrate({timezone: 'UTC'})
    log(`writing ${N} events to Kafka (${PARTITIONS} partitions) and to Redis (${PARTITIONS} streams)`)
    await produce(topic.topic, stream.messages, PARTITIONS)
    const client = redis.client()
    await publishEntries(client, 'evaluation', stream.messages, PARTITIONS)
    client.disconnect()
    log('consuming from Kafka')
    const kafka = await runConsumer(kafkaDb.url, ['--topic', topic.topic, '--group', 'mau-bench'])
    await exact('kafka', kafkaDb.settings, stream.truth)
    log('consuming from Redis')
    const fromRedis = await runConsumer(redisDb.url, [
      '--source',
      'redis',
      '--redis-url',
      redis.url,
      '--redis-stream',
      'evaluation',
      '--group',
      'mau-bench',
    ])
    await exact('redis', redisDb.settings, stream.truth)
    const us = (cpu: number) => `${((cpu / N) * 1e6).toFixed(1)} µs`
    const row = (name: string, r: Run) =>
      `| ${name} | ${Math.round(N / r.wallSeconds).toLocaleString('en-US')} | ${r.summary.eventsPerSecond.toLocaleString('en-US')} | ${us(r.consumerCpu)} | ${us(r.mariadbCpu)} | ${r.peakRssMb} MB | ${r.summary.batches} | exact |`
    publish('sources', [
      '# bench:sources',
      '',
      `Run: ${new Date().toISOString()} on ${cpus().length} cores (${cpus()[0]?.model ?? 'unknown'}), ${(totalmem() / 2 ** 30).toFixed(0)} GiB, node ${process.version};`,
      `MariaDB (mau's own), Kafka 3.9.1 single node and redis-server ${/v=(\S+)/.exec(execFileSync('/usr/bin/redis-server', ['--version'], {encoding: 'utf8'}))?.[1] ?? '?'} on loopback, all on this one machine.`,
      '',
      `Events: ${N} platform messages (protobuf Event envelopes; ${stream.broken} broken, ${Object.values(stream.ignored).reduce((a, b) => a + b, 0)} metrics events), the same bytes on both buses:`,
      `a Kafka topic of ${PARTITIONS} partitions, and one topic of ${PARTITIONS} Redis streams written as the platform does (XADD <key> * <id> <bytes>).`,
      `mau consume --format protobuf --batch-size ${args['batch-size']} --stop-at-end, wall clock from process start to exit.`,
      '',
      "| source | events/s (wall) | events/s (mau's summary) | consumer CPU per event | MariaDB CPU per event | peak RSS | transactions | result |",
      '| --- | --- | --- | --- | --- | --- | --- | --- |',
      row('Kafka', kafka),
      row('Redis Streams', fromRedis),
      '',
      `Load average at the end: ${loadavg()
        .map((l) => l.toFixed(1))
        .join(
          ', ',
        )} (the machine is shared: compare the two rows, taken one after the other, rather than with other reports).`,
    ])
  } finally {
    await redis.stop()
    await topic.drop()
    await kafkaDb.drop()
    await redisDb.drop()
  }
}

main().catch((error) => {
  console.error(error)
  process.exit(1)
})
