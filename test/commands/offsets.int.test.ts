/**
 * Kafka behind MySQL, refused, never skipped: a recreated topic stops `mau consume` with exit 2 and the way
 * out (`mau offsets reset`). A loss upstream, recorded, never silent: messages deleted before they were
 * applied are recorded exactly, in the summary, the metric and `mau doctor` (exit 1) until acknowledged.
 * The built CLI, as an operator runs it, against the real broker and MariaDB.
 */
import {afterEach, beforeEach, describe, expect, it} from 'vitest'
import {openDb} from '../../src/core/db.js'
import {createLogger} from '../../src/core/log.js'
import {resolveMysql} from '../../src/core/settings.js'
import {consume} from '../../src/ingest/consume.js'
import {ConsumerMetrics, Health} from '../../src/ingest/metrics.js'
import {writerPool} from '../../src/mau/rows.js'
import {encode} from '../fixtures/events.js'
import {eventsApplied, generate, produce, query} from '../fixtures/mau.js'
import {connectAdmin, createTestDatabase, createTopic, groupOf, type TestDatabase} from '../fixtures/services.js'
import {mauAsync} from '../helpers/cli.js'
import {CuttableProxy} from '../helpers/proxy.js'

let db: TestDatabase
let topic: {topic: string; drop: () => Promise<void>}

beforeEach(async () => {
  db = await createTestDatabase({migrated: true})
})
afterEach(async () => {
  await topic.drop()
  await db.drop()
})

const values = (n: number, seed: number) =>
  generate({events: n, users: 500, namespaces: 2, seed}).events.map((e) => encode(e, 'json'))
const mau = (args: string[]) => mauAsync(args, {MAU_MYSQL_URL: db.url, MAU_LOG_LEVEL: 'error'})
const consumeCli = (...more: string[]) =>
  mau(['consume', '--topic', topic.topic, '--group', groupOf(topic.topic), '--stop-at-end', '--json', ...more])
const offsetsOf = async () =>
  (await query(db.settings, 'SELECT kafka_partition AS p, next_offset AS o FROM mau_consumer_offset ORDER BY 1')).map(
    (r) => [Number(r.p), Number(r.o)],
  )

/** Deletes and creates the topic again under the same name (deletion finishes in the background). */
async function recreate(name: string, partitions: number): Promise<void> {
  const admin = await connectAdmin()
  await admin.deleteTopics({topics: [name]})
  for (let i = 0; ; i++) {
    try {
      if (await admin.createTopics({topics: [{topic: name, numPartitions: partitions}], waitForLeaders: true})) break
    } catch (error) {
      if (i > 100) throw error
    }
    await new Promise((r) => setTimeout(r, 200))
  }
  await admin.disconnect()
}

/** As kafka-delete-records does (or retention): partition 0's log starts at `offset` from now on. */
async function deleteRecordsBelow(name: string, offset: number): Promise<void> {
  const admin = await connectAdmin()
  // kafkajs' admin finds the partition's leader only in metadata it has loaded.
  await admin.fetchTopicMetadata({topics: [name]})
  await admin.deleteTopicRecords({topic: name, partitions: [{partition: 0, offset: String(offset)}]})
  await admin.disconnect()
}

describe('mau consume when Kafka is behind MySQL (a recreated topic)', () => {
  it('exits 2 at once naming topic, partition, stored offset and end, writes nothing, and starts over after mau offsets reset', async () => {
    topic = await createTopic(2)
    await produce(topic.topic, values(1_000, 1), 2)
    expect((await consumeCli()).code).toBe(0)
    expect(await offsetsOf()).toEqual([
      [0, 500],
      [1, 500],
    ])

    await recreate(topic.topic, 2)
    await produce(topic.topic, values(100, 2), 2)
    const started = Date.now()
    const refused = await consumeCli()
    expect(refused.code).toBe(2)
    expect(Date.now() - started).toBeLessThan(15_000)
    const error = JSON.parse(refused.stdout).error
    expect(error.code).toBe('KAFKA_BEHIND_MYSQL')
    expect(error.message).toMatch(
      new RegExp(`topic ${topic.topic} partition [01] ends at offset 50, but MySQL has applied it up to offset 500`),
    )
    expect(error.suggestions.join('\n')).toContain(
      `mau offsets reset --group ${groupOf(topic.topic)} --topic ${topic.topic} --to earliest --yes`,
    )
    expect(await eventsApplied(db.settings)).toBe(1_000)
    expect(await offsetsOf()).toEqual([
      [0, 500],
      [1, 500],
    ])

    const list = JSON.parse(
      (await mau(['offsets', 'list', '--topic', topic.topic, '--group', groupOf(topic.topic), '--json'])).stdout,
    )
    expect(list.partitions).toEqual(
      [0, 1].map((partition) => ({topic: topic.topic, partition, stored: 500, low: 0, high: 50, lag: null})),
    )

    const plan = await mau([
      'offsets',
      'reset',
      '--topic',
      topic.topic,
      '--group',
      groupOf(topic.topic),
      '--to',
      'earliest',
      '--json',
    ])
    expect(plan.code).toBe(0)
    expect(JSON.parse(plan.stdout)).toMatchObject({
      applied: false,
      changes: [
        {partition: 0, stored: 500, next: 0, applyAgain: 0, pastEnd: true},
        {partition: 1, next: 0, pastEnd: true},
      ],
    })
    expect(await offsetsOf()).toEqual([
      [0, 500],
      [1, 500],
    ])
    const reset = await mau([
      'offsets',
      'reset',
      '--topic',
      topic.topic,
      '--group',
      groupOf(topic.topic),
      '--to',
      'earliest',
      '--yes',
    ])
    expect(reset.code).toBe(0)
    expect(reset.stdout).toContain('moved')
    expect(await offsetsOf()).toEqual([
      [0, 0],
      [1, 0],
    ])

    expect((await consumeCli()).code).toBe(0)
    expect(await eventsApplied(db.settings)).toBe(1_100)
  })

  it('says how many messages moving an offset back applies again, and refuses an unknown --to', async () => {
    topic = await createTopic(1)
    await produce(topic.topic, values(300, 3), 1)
    expect((await consumeCli()).code).toBe(0)
    const plan = await mau([
      'offsets',
      'reset',
      '--topic',
      topic.topic,
      '--group',
      groupOf(topic.topic),
      '--to',
      'earliest',
    ])
    expect(plan.stdout).toContain('300 messages below the stored offsets will be applied again')
    expect(plan.stdout).toContain('Nothing changed')
    const bad = await mau(['offsets', 'reset', '--topic', topic.topic, '--to', 'yesterday'])
    expect(bad.code).toBe(2)
    expect(bad.stderr).toContain('--to "yesterday" is invalid: expected earliest, latest, or an instant')
  })
})

describe('mau offsets on a topic that does not exist', () => {
  it('exits 2 at once naming the topic, as consume does, for list and reset alike (not "Kafka is unavailable", exit 4)', async () => {
    topic = {topic: 'no-such-topic-mau', drop: async () => {}}
    for (const args of [
      ['offsets', 'list'],
      ['offsets', 'reset', '--to', 'earliest'],
    ]) {
      const started = Date.now()
      const r = await mau([...args, '--topic', 'no-such-topic-mau', '--json'])
      expect(r.code, r.stdout).toBe(2)
      expect(JSON.parse(r.stdout).error).toMatchObject({
        code: 'TOPIC_NOT_FOUND',
        message: 'Kafka topic "no-such-topic-mau" does not exist at 127.0.0.1:9092.',
      })
      expect(Date.now() - started).toBeLessThan(10_000)
    }
  })
})

describe('mau consume when messages were deleted before they were applied', () => {
  it('records the gap exactly, reports it in --json, makes doctor exit 1 naming it, and ack-loss clears it', async () => {
    topic = await createTopic(1)
    await produce(topic.topic, values(500, 4), 1)
    expect((await consumeCli()).code).toBe(0)
    await produce(topic.topic, values(2_000, 5), 1)
    await deleteRecordsBelow(topic.topic, 2_000)

    const run = await consumeCli()
    expect(run.code).toBe(0)
    const summary = JSON.parse(run.stdout)
    expect(summary.lost).toEqual([{topic: topic.topic, partition: 0, from: 500, to: 1999, messages: 1_500}])
    expect(summary.consumed).toBe(500)
    expect(await eventsApplied(db.settings)).toBe(1_000)

    const doctor = await mau(['doctor', '--topic', topic.topic, '--json'])
    expect(doctor.code).toBe(1)
    const failed = JSON.parse(doctor.stdout).checks.filter((c: {ok: boolean}) => !c.ok)
    expect(failed).toEqual([
      expect.objectContaining({
        name: `losses ${topic.topic}/0`,
        detail: expect.stringContaining(`1500 messages of topic ${topic.topic} partition 0 (offsets 500..1999)`),
      }),
    ])
    const listed = JSON.parse(
      (await mau(['offsets', 'list', '--topic', topic.topic, '--group', groupOf(topic.topic), '--json'])).stdout,
    )
    expect(listed.losses).toMatchObject([
      {topic: topic.topic, partition: 0, from: 500, to: 1999, messages: 1_500, acknowledgedAt: null},
    ])

    const ack = await mau([
      'offsets',
      'ack-loss',
      '--topic',
      topic.topic,
      '--group',
      groupOf(topic.topic),
      '--partition',
      '0',
      '--json',
    ])
    expect(JSON.parse(ack.stdout).acknowledged).toHaveLength(1)
    expect((await mau(['doctor', '--topic', topic.topic])).code).toBe(0)
    // Recorded once: a later run finds the offset at the log start, nothing lost.
    expect(JSON.parse((await consumeCli()).stdout).lost).toEqual([])
  })

  it('while running: kafkajs jumps to the log start, the consumer records the gap and every message is applied or recorded lost', async () => {
    topic = await createTopic(1)
    const proxy = new CuttableProxy({host: db.settings.host, port: db.settings.port})
    await proxy.start()
    const pool = openDb(resolveMysql(proxy.urlFor(db.url)), writerPool(3))
    const metrics = new ConsumerMetrics()
    const health = new Health(60)
    const stop = new AbortController()
    const run = consume(
      {
        brokers: '127.0.0.1:9092',
        topics: [topic.topic],
        group: groupOf(topic.topic),
        format: 'json',
        timezone: 'UTC',
        batchSize: 100,
        stopAtEnd: false,
        concurrency: 1,
      },
      {db: pool, log: createLogger('test', 'silent'), metrics, health, signal: stop.signal},
    )
    await produce(topic.topic, values(300, 6), 1)
    for (let end = Date.now() + 60_000; (await eventsApplied(db.settings)) < 300;) {
      if (Date.now() > end) throw new Error('timed out')
      await new Promise((r) => setTimeout(r, 50))
    }
    // MySQL away: the consumer holds what one fetch read (about 1 MB), no more; the rest is deleted meanwhile.
    await proxy.cut()
    await produce(topic.topic, values(30_000, 7), 1)
    await new Promise((r) => setTimeout(r, 1_000))
    await deleteRecordsBelow(topic.topic, 25_300)
    await proxy.restore()
    for (let end = Date.now() + 60_000; ;) {
      const [o] = await offsetsOf()
      if (o?.[1] === 30_300) break
      if (Date.now() > end) throw new Error(`timed out at ${JSON.stringify(o)}`)
      await new Promise((r) => setTimeout(r, 100))
    }
    stop.abort()
    const summary = await run
    await pool.end()
    await proxy.stop()

    expect(summary.lost).toHaveLength(1)
    const [lost] = summary.lost
    expect(lost).toMatchObject({topic: topic.topic, partition: 0, to: 25_299})
    expect(lost!.messages).toBe(25_300 - lost!.from)
    // Found by the window after kafkajs' jump (MySQL behind where it read from), not at a restart.
    expect(lost!.from).toBeGreaterThan(300)
    expect(summary.rewinds).toBeGreaterThanOrEqual(1)
    // Every message either applied once or recorded lost, none both, none neither.
    expect((await eventsApplied(db.settings)) + lost!.messages).toBe(30_300)
    expect((await metrics.lost.get()).values.find((v) => v.labels.topic === topic.topic)?.value).toBe(lost!.messages)
    expect(await query(db.settings, 'SELECT from_offset, to_offset, messages FROM mau_offset_loss')).toEqual([
      {from_offset: lost!.from, to_offset: 25_299, messages: lost!.messages},
    ])
  })
})
