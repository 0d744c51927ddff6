/**
 * npm run bench:transport [-- --events N --partitions P --rounds R]
 * What production's transport costs the consumer: the same N user events of the current month consumed with
 * `mau consume --stop-at-end` (the built CLI, its own process) over plaintext and over SASL_SSL (SCRAM-SHA-512,
 * TLS verified) from one broker (scripts/kafka.sh with MAU_KAFKA_SECURE=1), and from topics the broker stores
 * gzip, snappy, lz4 and zstd compressed. Rounds alternate, and each result is checked exact. Writes
 * bench/results/transport.md.
 */
import {spawn} from 'node:child_process'
import {cpus} from 'node:os'
import {parseArgs} from 'node:util'
import {Kafka, logLevel} from 'kafkajs'
import {cpuSeconds} from './proc.js'
import {publish} from './results.js'
import {encode, sampleEvents} from '../test/fixtures/events.js'
import {eventsApplied} from '../test/fixtures/mau.js'
import {createTestDatabase, schemaAt, uniqueName} from '../test/fixtures/services.js'
import {cert, secureKafka, startSecureKafka} from '../test/helpers/secure-services.js'

const {values: args} = parseArgs({
  options: {
    events: {type: 'string', default: '300000'},
    partitions: {type: 'string', default: '4'},
    rounds: {type: 'string', default: '2'},
  },
})
const N = Number(args.events)
const PARTITIONS = Number(args.partitions)
const log = (msg: string) => console.error(`[bench:transport] ${msg}`)
const now = new Date()
const from = Date.UTC(now.getUTCFullYear(), now.getUTCMonth(), 1) / 1000
const admin = new Kafka({clientId: 'mau-bench-transport', brokers: [secureKafka.plaintext], logLevel: logLevel.NOTHING})

const scram = {
  MAU_KAFKA_SECURITY_PROTOCOL: 'SASL_SSL',
  MAU_KAFKA_SASL_MECHANISM: 'SCRAM-SHA-512',
  MAU_KAFKA_SASL_USERNAME: 'mau',
  MAU_KAFKA_SASL_PASSWORD: secureKafka.scramPassword,
  MAU_KAFKA_SSL_CA_FILE: cert('ca.pem'),
  MAU_KAFKA_BROKERS: secureKafka.saslSsl,
}
const plaintext = {MAU_KAFKA_BROKERS: secureKafka.plaintext}

async function topicOf(codec: string, values: Buffer[]): Promise<string> {
  const topic = uniqueName(`mau-bench-${codec}`).replace(/_/g, '-')
  const a = admin.admin()
  await a.connect()
  await a.createTopics({
    topics: [{topic, numPartitions: PARTITIONS, configEntries: [{name: 'compression.type', value: codec}]}],
    waitForLeaders: true,
  })
  await a.disconnect()
  const producer = admin.producer()
  await producer.connect()
  for (let i = 0; i < values.length; i += 5000)
    await producer.send({
      topic,
      acks: -1,
      messages: values.slice(i, i + 5000).map((value, j) => ({value, partition: (i + j) % PARTITIONS})),
    })
  await producer.disconnect()
  return topic
}

async function consume(topic: string, env: Record<string, string>): Promise<{seconds: number; cpu: number}> {
  const db = await createTestDatabase()
  try {
    await schemaAt(db.settings).migrate()
    const started = Date.now()
    const child = spawn(
      'node',
      ['bin/run.js', 'consume', '--topic', topic, '--group', uniqueName('g'), '--stop-at-end', '--json'],
      {
        env: {...process.env, ...env, MAU_MYSQL_URL: db.url, MAU_LOG_LEVEL: 'warn'},
        stdio: ['ignore', 'pipe', 'inherit'],
      },
    )
    let cpu = 0
    const poll = setInterval(() => (cpu = cpuSeconds(child.pid!) ?? cpu), 20)
    const code = await new Promise<number | null>((r) => child.on('exit', r))
    clearInterval(poll)
    if (code !== 0) throw new Error(`mau consume exited ${code}`)
    const seconds = (Date.now() - started) / 1000
    const applied = await eventsApplied(db.settings)
    if (applied !== N) throw new Error(`applied ${applied} events, expected ${N}`)
    return {seconds, cpu}
  } finally {
    await db.drop()
  }
}

async function main() {
  startSecureKafka()
  const values = [...sampleEvents({events: N, users: 200_000, namespaces: 50, from, to: from + 86_400, seed: 29})].map(
    (e) => encode(e, 'json'),
  )
  log(`producing ${N} events to a topic of each codec`)
  const codecs = ['none', 'gzip', 'snappy', 'lz4', 'zstd']
  const topics = new Map<string, string>()
  for (const codec of codecs) topics.set(codec, await topicOf(codec === 'none' ? 'uncompressed' : codec, values))
  const runs: [string, string, Record<string, string>][] = [
    ['plaintext', 'none', plaintext],
    ['SASL_SSL (SCRAM-SHA-512, verified TLS)', 'none', scram],
    ...codecs.slice(1).map((c): [string, string, Record<string, string>] => [`plaintext, ${c} batches`, c, plaintext]),
  ]
  const results = new Map<string, {seconds: number; cpu: number}[]>()
  for (let round = 0; round < Number(args.rounds); round++) {
    for (const [name, codec, env] of round % 2 ? [...runs].reverse() : runs) {
      const r = await consume(topics.get(codec)!, env)
      log(`${name}: ${r.seconds.toFixed(2)} s, consumer ${((r.cpu / N) * 1e6).toFixed(1)} µs/event`)
      results.set(name, [...(results.get(name) ?? []), r])
    }
  }
  const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!
  const base = results.get('plaintext')!
  const baseRate = N / median(base.map((r) => r.seconds))
  const baseCpu = median(base.map((r) => r.cpu))
  publish('transport', [
    '# bench:transport',
    '',
    `Run: ${new Date().toISOString()} on ${cpus().length} cores (${cpus()[0]?.model ?? 'unknown'}), node ${process.version}; Kafka 3.9.1 single node on loopback (scripts/kafka.sh, MAU_KAFKA_SECURE=1), MariaDB on the same machine.`,
    `${N} JSON user events, ${PARTITIONS} partitions, each consumed by \`mau consume --stop-at-end\` into a fresh database (exact every time); median of ${args.rounds} rounds, order alternating.`,
    '',
    '| transport | events/s (wall, process start to exit) | vs plaintext | consumer CPU µs/event | vs plaintext |',
    '| --- | --- | --- | --- | --- |',
    ...[...results].map(([name, rs]) => {
      const rate = N / median(rs.map((r) => r.seconds))
      const cpu = median(rs.map((r) => r.cpu))
      return `| ${name} | ${Math.round(rate).toLocaleString('en-US')} | ${((rate / baseRate - 1) * 100).toFixed(1)}% | ${((cpu / N) * 1e6).toFixed(1)} | ${((cpu / baseCpu - 1) * 100).toFixed(1)}% |`
    }),
    '',
  ])
}

main().then(
  () => process.exit(0),
  (error) => {
    console.error(error)
    process.exit(1)
  },
)
