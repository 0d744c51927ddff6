import type {RowDataPacket} from 'mysql2/promise'
import {afterEach, beforeEach, describe, expect, it} from 'vitest'
import {writerPool} from '../../src/mau/rows.js'
import {encode, type SampleEvent} from '../fixtures/events.js'
import type {ConsumeOptions} from '../../src/ingest/consume.js'
import {checkSummary, rebuildSummary} from '../../src/mau/summary.js'
import {decodeJson} from '../../src/ingest/decode.js'
import {encodeProtobuf} from '../../src/ingest/encode.js'
import {MonthResolver} from '../../src/core/month.js'
import {openDb} from '../../src/core/db.js'
import {aggregateWindow, persistWindow} from '../../src/ingest/writer.js'
import {prepareBatch} from '../../src/ingest/batch.js'
import type {Db} from '../../src/core/db.js'
import {
  consumeAll,
  eventsApplied,
  generate,
  produce,
  produceSample,
  query,
  readRows,
  startPartitions,
} from '../fixtures/mau.js'
import {createTestDatabase, createTopic, groupOf, type TestDatabase} from '../fixtures/services.js'

let db: TestDatabase
let pool: Db
let topic: {topic: string; drop: () => Promise<void>}

beforeEach(async () => {
  db = await createTestDatabase({migrated: true})
  pool = openDb(db.settings, writerPool(4))
})
afterEach(async () => {
  await pool.end()
  await topic?.drop()
  await db.drop()
})

const runConsumer = (opts: Partial<ConsumeOptions> = {}) => consumeAll(pool, topic.topic, opts)

// Two months, so that batches hold rows of both.
const MONTH = {from: Date.UTC(2022, 11, 1) / 1000, to: Date.UTC(2023, 1, 1) / 1000}

describe('mau consume', () => {
  it('counts JSON events exactly across partitions, with first and last seen', async () => {
    topic = await createTopic(3)
    const truth = await produceSample(topic.topic, 3, {events: 20_000, ...MONTH})
    const summary = await runConsumer()
    expect(summary).toMatchObject({consumed: 20_000, deadLettered: 0, stoppedBy: 'end-of-topics'})
    expect(await readRows(db.settings)).toEqual(truth.rows)
    expect(summary.partitions.map((p) => p.nextOffset).reduce((a, b) => a + b)).toBe(20_000)
    for (const month of ['202212', '202301'])
      expect(await checkSummary(pool, month)).toMatchObject({ok: true, differences: []})
  })

  it('counts protobuf events exactly, bare and wrapped in the client Event', async () => {
    topic = await createTopic(2)
    const {events, truth} = generate({events: 5_000, ...MONTH})
    const bare = (e: SampleEvent) =>
      encodeProtobuf({
        environmentNamespace: e.environment_namespace,
        userId: e.user_id,
        sourceId: ['UNKNOWN', 'ANDROID', 'IOS', 'WEB'].indexOf(e.source_id),
        lastSeen: e.last_seen,
      })
    await produce(
      topic.topic,
      events.map((e, i) => (i % 2 ? encode(e, 'protobuf') : bare(e))),
      2,
    )
    await runConsumer({format: 'protobuf'})
    expect(await readRows(db.settings)).toEqual(truth.rows)
  })

  it('puts events in the month of their last_seen in the configured zone, not UTC', async () => {
    topic = await createTopic(1)
    const newYearTokyo = Date.UTC(2022, 11, 31, 15) / 1000 // 2023-01-01 00:00 in Tokyo
    const at = (t: number, user: string) =>
      JSON.stringify({environment_namespace: 'ns', user_id: user, source_id: 'IOS', last_seen: t})
    await produce(topic.topic, [
      at(newYearTokyo - 1, 'before'),
      at(newYearTokyo, 'after'),
      at(newYearTokyo + 3600, 'after'),
    ])
    await runConsumer({timezone: 'Asia/Tokyo'})
    const rows = await query<RowDataPacket>(
      db.settings,
      'SELECT user_id, yearmonth, event_count FROM mau ORDER BY user_id',
    )
    expect(rows.map((r) => ({...r}))).toEqual([
      {user_id: 'after', yearmonth: '202301', event_count: 2},
      {user_id: 'before', yearmonth: '202212', event_count: 1},
    ])
  })

  it('dead-letters every kind of bad input with its reason while writing the good events of the same batch', async () => {
    topic = await createTopic(1)
    const good = {environment_namespace: 'ns', user_id: 'u1', source_id: 'IOS', last_seen: MONTH.from + 10}
    const bad: [string | null, string][] = [
      ['{"truncated', 'decode: not valid JSON'],
      [null, 'decode: message has no value'],
      [JSON.stringify({...good, user_id: ''}), 'user_id: user_id is "": expected a non-empty string'],
      [JSON.stringify({...good, user_id: 'u'.repeat(256)}), 'user_id: user_id is 256 characters: expected at most 255'],
      [
        JSON.stringify({...good, environment_namespace: undefined}),
        'namespace: environment_id (or environment_namespace) is missing',
      ],
      [
        JSON.stringify({...good, environment_namespace: 'n'.repeat(256)}),
        'namespace: environment_namespace is 256 characters',
      ],
      [
        JSON.stringify({...good, source_id: 'S'.repeat(31)}),
        'source_id: source_id is 31 characters: expected at most 30',
      ],
      [JSON.stringify({...good, source_id: 99}), 'source_id: source_id 99 is not a known source number'],
      [JSON.stringify({...good, last_seen: undefined}), 'last_seen: last_seen is missing'],
      [JSON.stringify({...good, last_seen: -1}), 'last_seen: last_seen -1 is out of range'],
      [JSON.stringify({...good, last_seen: 9_999_999_999}), 'last_seen: last_seen 9999999999 is out of range'],
    ]
    const values: (string | null)[] = []
    for (const [payload] of bad) values.push(JSON.stringify(good), payload)
    await produce(topic.topic, values)
    const summary = await runConsumer()
    expect(summary).toMatchObject({consumed: values.length, deadLettered: bad.length})
    const dead = await query<RowDataPacket>(
      db.settings,
      'SELECT kafka_offset, reason, payload FROM mau_dead_letter ORDER BY kafka_offset',
    )
    expect(dead.map((d) => Number(d.kafka_offset))).toEqual(bad.map((_, i) => 2 * i + 1))
    dead.forEach((d, i) => {
      expect(d.reason).toContain(bad[i]![1])
      expect(d.payload === null ? null : String(d.payload)).toBe(bad[i]![0])
    })
    expect(await query<RowDataPacket>(db.settings, 'SELECT user_id, event_count FROM mau')).toEqual([
      {user_id: 'u1', event_count: bad.length},
    ])
  })

  it('counts nothing twice when the whole topic is delivered again', async () => {
    topic = await createTopic(2)
    const truth = await produceSample(topic.topic, 2, {events: 3_000, ...MONTH})
    await runConsumer()
    // A new Kafka group has no committed offsets and starts from the beginning: only MySQL's offsets stop a double count.
    const group = groupOf(topic.topic, 'again')
    await query(db.settings, 'UPDATE mau_consumer_offset SET consumer_group = ?', [group])
    const again = await runConsumer({group})
    expect(again.consumed).toBe(0)
    expect(await readRows(db.settings)).toEqual(truth.rows)
    for (const month of ['202212', '202301']) expect((await checkSummary(pool, month)).ok).toBe(true)
  })
})

describe('summary rebuild while consuming', () => {
  it('leaves the summary exact when rebuilt again and again during consumption', async () => {
    topic = await createTopic(2)
    await produceSample(topic.topic, 2, {events: 30_000, ...MONTH})
    const run = runConsumer({batchSize: 100, concurrency: 2})
    const applied = () => eventsApplied(db.settings)
    // Rebuild only during the first half: a rebuild that lost a concurrent batch's part must not be healed by a later one.
    let rebuilds = 0
    while ((await applied()) < 15_000) {
      await rebuildSummary(pool, '202212')
      rebuilds++
    }
    await run
    expect(rebuilds).toBeGreaterThan(3)
    for (const month of ['202212', '202301'])
      expect(await checkSummary(pool, month)).toMatchObject({ok: true, differences: []})
  })
})

describe('persistWindow', () => {
  const ref = {group: 'g', topic: 't', partition: 0}
  const messages = [0, 1, 2, 3].map((i) => ({
    offset: String(i),
    value: Buffer.from(
      JSON.stringify({environment_namespace: 'ns', user_id: `u${i % 2}`, source_id: 'WEB', last_seen: MONTH.from + i}),
    ),
  }))
  const now = Math.floor(Date.now() / 1000)

  it('applies a redelivered batch once, and a partly new batch only for its new messages', async () => {
    const months = new MonthResolver('UTC')
    await startPartitions(pool, [{ref, from: 0}])
    const first = await persistWindow(
      pool,
      [{ref, from: 0, batch: prepareBatch(messages.slice(0, 3), decodeJson, now)}],
      months,
      now,
    )
    const again = await persistWindow(
      pool,
      [{ref, from: 0, batch: prepareBatch(messages, decodeJson, now)}],
      months,
      now,
    )
    expect(first.partitions).toMatchObject([{applied: 3, skipped: 0, nextOffset: 3}])
    expect(again.partitions).toMatchObject([{applied: 1, skipped: 3, nextOffset: 4}])
    const rows = await query<RowDataPacket>(db.settings, 'SELECT user_id, event_count FROM mau ORDER BY user_id')
    expect(rows).toEqual([
      {user_id: 'u0', event_count: 2},
      {user_id: 'u1', event_count: 2},
    ])
  })

  it('applies a batch once when two consumers write it at the same time (a rebalance overlap)', async () => {
    const months = new MonthResolver('UTC')
    const batch = prepareBatch(messages, decodeJson, now)
    await startPartitions(pool, [{ref, from: 0}])
    const results = await Promise.all([
      persistWindow(pool, [{ref, from: 0, batch}], months, now),
      persistWindow(pool, [{ref, from: 0, batch}], months, now),
    ])
    expect(results.map((r) => r.partitions[0]!.applied).sort()).toEqual([0, 4])
    const [total] = await query<RowDataPacket>(db.settings, 'SELECT CAST(SUM(event_count) AS SIGNED) AS n FROM mau')
    expect(total?.n).toBe(4)
    expect((await checkSummary(pool, '202212')).ok).toBe(true)
  })

  it('writes several partitions in one window, each from its own stored offset, the window aggregated across them', async () => {
    const months = new MonthResolver('UTC')
    const other = {...ref, partition: 1}
    await startPartitions(pool, [
      {ref, from: 0},
      {ref: other, from: 0},
    ])
    await persistWindow(pool, [{ref, from: 0, batch: prepareBatch(messages.slice(0, 2), decodeJson, now)}], months, now)
    const chunks = [
      {ref, from: 0, batch: prepareBatch(messages.slice(0, 2), decodeJson, now)},
      {ref: other, from: 0, batch: prepareBatch(messages, decodeJson, now)},
      {ref, from: 2, batch: prepareBatch(messages.slice(2), decodeJson, now)},
    ]
    const w = await persistWindow(pool, chunks, months, now, {aggregated: aggregateWindow(chunks, months)})
    expect(w.partitions).toMatchObject([
      {ref, applied: 2, skipped: 2, nextOffset: 4},
      {ref: other, applied: 4, skipped: 0, nextOffset: 4},
    ])
    const rows = await query<RowDataPacket>(db.settings, 'SELECT user_id, event_count FROM mau ORDER BY user_id')
    expect(rows).toEqual([
      {user_id: 'u0', event_count: 4},
      {user_id: 'u1', event_count: 4},
    ])
    expect((await checkSummary(pool, '202212')).ok).toBe(true)
  })
})
