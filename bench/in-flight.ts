/**
 * npm run bench:in-flight [-- --messages N]
 * The worst case of a verify-migration run while both sides ingest: N messages (default 1,000,000, the
 * default --max-in-flight) lie between MySQL's and Druid's positions, and every line differs. Times what
 * verify does with them on the real Kafka broker: read the range (readRange), decode each message with the
 * consumer's decoder, and tally them per line (InFlight); reports the rate and the peak RSS.
 * Writes bench/results/in-flight.md.
 */
import {execFileSync} from 'node:child_process'
import {cpus} from 'node:os'
import {parseArgs} from 'node:util'
import {createKafka} from '../src/core/kafka.js'
import {InFlight} from '../src/druid/in-flight.js'
import {decoder} from '../src/ingest/decode.js'
import {readRange} from '../src/ingest/range.js'
import {produce} from '../test/fixtures/mau.js'
import {createTopic} from '../test/fixtures/services.js'
import {publish} from './results.js'

const {values: args} = parseArgs({
  options: {messages: {type: 'string', default: '1000000'}, 'produce-to': {type: 'string'}},
})
const N = Number(args.messages)
const PARTITIONS = 2
const log = (m: string) => console.error(`[bench:in-flight] ${m}`)
const SOURCES = ['ANDROID', 'IOS', 'WEB']
const now = Math.floor(Date.now() / 1000)

/** In sends of 100,000 (an even number: produce() spreads each over the partitions from partition 0). */
async function produceAll(topicName: string): Promise<void> {
  for (let start = 0; start < N; start += 100_000) {
    const values: string[] = []
    for (let i = start; i < Math.min(N, start + 100_000); i++) {
      values.push(
        JSON.stringify({
          environment_id: `env-${i % 20}`,
          user_id: `user-${(i * 7919) % 200_000}`,
          source_id: SOURCES[i % 3],
          last_seen: now - (i % 3600),
        }),
      )
    }
    await produce(topicName, values, PARTITIONS)
  }
}

if (args['produce-to']) {
  await produceAll(args['produce-to'])
  process.exit(0)
}

const topic = await createTopic(PARTITIONS)
try {
  const t0 = Date.now()
  // Produced by a child process, so that the peak RSS measured here is the reading side's alone.
  execFileSync(
    process.execPath,
    [...process.execArgv, process.argv[1]!, '--messages', String(N), '--produce-to', topic.topic],
    {stdio: 'inherit'},
  )
  log(`produced ${N} messages in ${((Date.now() - t0) / 1000).toFixed(1)} s`)

  const half = Math.ceil(N / PARTITIONS)
  const ranges = new Map(Array.from({length: PARTITIONS}, (_, p) => [p, {from: 0, to: p === 0 ? half : N - half}]))
  // MySQL has applied none of them, Druid all: every message is in flight, every line differs.
  const bounds = new Map(
    [...ranges].map(([p, r]) => [p, {mysql: {before: 0, after: 0}, druid: {before: 0, after: r.to}}]),
  )
  // The worst case for memory too: every user of every line is in Druid only (new this month, in the gap).
  const users = new Map<string, Set<string>>()
  for (let i = 0; i < N; i++) {
    for (const source of [SOURCES[i % 3]!, '']) {
      const k = `env-${i % 20}|${source}`
      if (!users.has(k)) users.set(k, new Set())
      users.get(k)!.add(`user-${(i * 7919) % 200_000}`)
    }
  }
  const lines = Array.from({length: 20}, (_, e) =>
    [...SOURCES, ''].map((source_id) => ({
      environment_namespace: `env-${e}`,
      source_id,
      onlyInMysql: [],
      onlyInDruid: [...users.get(`env-${e}|${source_id}`)!],
    })),
  ).flat()
  users.clear()
  const oneSided = lines.reduce((n, l) => n + l.onlyInDruid.length, 0)
  const tally = new InFlight(bounds, lines)
  const decode = decoder('json')
  const kafka = createKafka({brokers: '127.0.0.1:9092', protocol: 'PLAINTEXT'}, 'mau-bench-in-flight')
  const t1 = process.hrtime.bigint()
  let bytes = 0
  await readRange(
    kafka,
    '127.0.0.1:9092',
    topic.topic,
    ranges,
    (p, offset, value) => {
      bytes += value?.length ?? 0
      const d = value ? decode(value, now) : undefined
      tally.add(p, offset, d?.ok ? d.event : undefined)
    },
    600_000,
  )
  const readMs = Number(process.hrtime.bigint() - t1) / 1e6
  const t2 = process.hrtime.bigint()
  let explained = 0
  for (const l of lines) {
    const judged = tally.explain({...l, difference: {events: -1}})
    if (judged.explained) explained++
  }
  const judgeMs = Number(process.hrtime.bigint() - t2) / 1e6
  if (tally.messages !== N) throw new Error(`read ${tally.messages} of ${N} messages`)

  publish('in-flight', [
    '# bench:in-flight',
    '',
    `Run: ${new Date().toISOString()} on ${cpus().length} cores (${cpus()[0]?.model.trim()}), node ${process.version}, Kafka on this machine, ${PARTITIONS} partitions.`,
    '',
    '| measure | value |',
    '| --- | --- |',
    `| messages between the sides (all in flight, ${lines.length} lines differing, ${oneSided.toLocaleString('en-US')} one-sided users to explain) | ${N.toLocaleString('en-US')} (${(bytes / 1e6).toFixed(0)} MB) |`,
    `| read from Kafka, decoded and tallied (readRange + decoder + InFlight.add), incl. the group join | **${(readMs / 1000).toFixed(1)} s** (${Math.round(N / (readMs / 1000)).toLocaleString('en-US')} messages/s) |`,
    `| judging the ${lines.length} lines | ${judgeMs.toFixed(0)} ms (${explained} explained) |`,
    `| peak RSS of the reading process (the one-sided users' lists included) | ${Math.round(process.resourceUsage().maxRSS / 1024)} MB |`,
    '',
    'What a verify-migration run adds to its counts when every line differs and the gap is at --max-in-flight (default 1,000,000); the double-write CronJob allows an hour.',
  ])
} finally {
  await topic.drop()
}
process.exit(0)
