/**
 * Exactly once under hostile input: huge and many bad messages, and a window that fails for good between
 * windows that would succeed. The invariant: an offset is stored only with everything before it.
 */
import {createHash} from 'node:crypto'
import type {RowDataPacket} from 'mysql2/promise'
import {afterEach, beforeEach, describe, expect, it} from 'vitest'
import {openDb, type Db} from '../../src/core/db.js'
import {MauError} from '../../src/core/errors.js'
import {createLogger} from '../../src/core/log.js'
import {MonthResolver} from '../../src/core/month.js'
import {prepareBatch} from '../../src/ingest/batch.js'
import {decodeJson} from '../../src/ingest/decode.js'
import {ConsumerMetrics} from '../../src/ingest/metrics.js'
import {ChunkQueue} from '../../src/ingest/pipeline.js'
import {WindowWriter} from '../../src/ingest/windows.js'
import {checkSummary} from '../../src/mau/summary.js'
import {writerPool} from '../../src/mau/rows.js'
import {consumeAll, DECEMBER_2022, produce, query, startPartitions} from '../fixtures/mau.js'
import {connectAdmin, createTestDatabase, groupOf, uniqueName, type TestDatabase} from '../fixtures/services.js'

let db: TestDatabase
let pool: Db
let topic: string

beforeEach(async () => {
  db = await createTestDatabase({migrated: true})
  pool = openDb(db.settings, writerPool(4))
  topic = uniqueName('mau-test-hostile').replace(/_/g, '-')
  const admin = await connectAdmin()
  // Kafka refuses messages over 1 MB by default; a producer bug that sends 5 MB needs a topic that takes them.
  await admin.createTopics({
    topics: [{topic, numPartitions: 1, configEntries: [{name: 'max.message.bytes', value: String(8 * 1024 * 1024)}]}],
    waitForLeaders: true,
  })
  await admin.disconnect()
})
afterEach(async () => {
  await pool.end()
  const admin = await connectAdmin()
  await admin.deleteTopics({topics: [topic]}).catch(() => undefined)
  await admin.disconnect()
  await db.drop()
})

const good = (i: number) =>
  JSON.stringify({environment_namespace: 'prod', user_id: `u${i}`, source_id: 'IOS', last_seen: DECEMBER_2022.from + i})
const stored = async () =>
  Number(
    (
      await query<RowDataPacket>(db.settings, 'SELECT next_offset FROM mau_consumer_offset WHERE consumer_group = ?', [
        groupOf(topic),
      ])
    )[0]?.next_offset ?? -1,
  )
const counts = async () => {
  const [r] = await query<RowDataPacket>(
    db.settings,
    'SELECT COUNT(*) AS users, CAST(COALESCE(SUM(event_count), 0) AS SIGNED) AS events FROM mau',
  )
  const [d] = await query<RowDataPacket>(
    db.settings,
    'SELECT COUNT(*) AS letters, COUNT(DISTINCT kafka_offset) AS offsets FROM mau_dead_letter',
  )
  return {
    users: Number(r!.users),
    events: Number(r!.events),
    letters: Number(d!.letters),
    distinctOffsets: Number(d!.offsets),
  }
}

/** A constraint no retry can fix: the dead letter of one offset is refused by the server. */
const refuseLetterAt = (offset: number) =>
  query(
    db.settings,
    `CREATE TRIGGER refuse_letter BEFORE INSERT ON mau_dead_letter FOR EACH ROW BEGIN IF NEW.kafka_offset = ${offset} THEN SIGNAL SQLSTATE '45000' SET MESSAGE_TEXT = 'refused by test'; END IF; END`,
  )

describe('mau consume with hostile input', () => {
  it('keeps every good event and every 5 MB bad message (cut, with its size and SHA-256) between them', async () => {
    const huge = Array.from({length: 4}, (_, i) => Buffer.alloc(5 * 1024 * 1024, 0x41 + i))
    // One send each: Kafka's size limit applies to a whole record batch.
    await produce(
      topic,
      Array.from({length: 50}, (_, i) => good(i)),
    )
    for (const h of huge) await produce(topic, [h])
    await produce(
      topic,
      Array.from({length: 50}, (_, i) => good(50 + i)),
    )
    const summary = await consumeAll(pool, topic)
    expect(summary).toMatchObject({consumed: 104, deadLettered: 4})
    expect(await counts()).toEqual({users: 100, events: 100, letters: 4, distinctOffsets: 4})
    expect(await stored()).toBe(104)
    const letters = await query<RowDataPacket>(
      db.settings,
      'SELECT kafka_offset, LENGTH(payload) AS kept, payload_bytes, HEX(payload_sha256) AS sha FROM mau_dead_letter ORDER BY kafka_offset',
    )
    expect(letters.map((l) => ({...l}))).toEqual(
      huge.map((h, i) => ({
        kafka_offset: 50 + i,
        kept: 64 * 1024,
        payload_bytes: h.length,
        sha: createHash('sha256').update(h).digest('hex').toUpperCase(),
      })),
    )
    expect((await consumeAll(pool, topic)).consumed).toBe(0)
    expect(await counts()).toMatchObject({users: 100, letters: 4})
  })

  it('stops at a window that fails for good, stores nothing past it, and the next run finishes exactly', async () => {
    await produce(
      topic,
      Array.from({length: 100}, (_, i) => (i % 10 === 5 ? `{bad ${i}` : good(i))),
    )
    await refuseLetterAt(55)
    // Windows of 10 with two writers: the windows after the failing one are aggregated and waiting their turn.
    const failed = await consumeAll(pool, topic, {batchSize: 10, concurrency: 2}).then(
      () => undefined,
      (e: unknown) => e,
    )
    expect(failed).toBeInstanceOf(MauError)
    expect((failed as MauError).message).toMatch(
      new RegExp(
        `^Could not write topic ${topic} partition 0 offsets \\d+\\.\\.\\d+: refused by test\\. Nothing from these offsets on was stored`,
      ),
    )
    expect((failed as MauError).exitCode).toBe(1)
    const at = await stored()
    expect(at).toBeLessThanOrEqual(55)
    // Exactly the messages before the stored offset are applied, no later window slipped past.
    const before = Array.from({length: at}, (_, i) => i)
    expect(await counts()).toMatchObject({
      events: before.filter((i) => i % 10 !== 5).length,
      letters: before.filter((i) => i % 10 === 5).length,
    })
    await query(db.settings, 'DROP TRIGGER refuse_letter')
    await consumeAll(pool, topic, {batchSize: 10, concurrency: 2})
    expect(await counts()).toEqual({users: 90, events: 90, letters: 10, distinctOffsets: 10})
    expect(await stored()).toBe(100)
  })

  it('keeps all of 25,000 malformed 1 KB messages between good ones exactly once, across a failure and a restart', async () => {
    const bad = (i: number) => `{"environment_namespace": "prod", "oops": "${'x'.repeat(1000)}", "n": ${i}`
    const values = Array.from({length: 30_000}, (_, i) => (i % 6 === 0 ? good(i) : bad(i)))
    await produce(topic, values)
    await refuseLetterAt(20_003)
    await expect(consumeAll(pool, topic, {batchSize: 20_000})).rejects.toThrow(/offsets \d+\.\.\d+: refused by test/)
    expect(await stored()).toBeLessThanOrEqual(20_003)
    await query(db.settings, 'DROP TRIGGER refuse_letter')
    await consumeAll(pool, topic, {batchSize: 20_000})
    expect(await counts()).toEqual({users: 5_000, events: 5_000, letters: 25_000, distinctOffsets: 25_000})
    expect(await checkSummary(pool, '202212')).toMatchObject({ok: true})
  })
})

describe('mau consume with invalid UTF-8', () => {
  it.each(['json', 'protobuf'] as const)(
    'dead-letters ids that are not valid UTF-8 (%s) instead of merging them with a real U+FFFD user',
    async (format) => {
      const real = 'bad\uFFFD\uFFFD'
      const invalid = Buffer.concat([Buffer.from('bad'), Buffer.from([0xff, 0xfe])])
      const json = (user: Buffer) =>
        Buffer.concat([
          Buffer.from('{"environment_namespace":"prod","source_id":"IOS","last_seen":1670000000,"user_id":"'),
          user,
          Buffer.from('"}'),
        ])
      // UserEvent: environment_namespace (4), user_id (6) as raw bytes, last_seen (7), source_id (9).
      const proto = (user: Buffer) =>
        Buffer.concat([
          Buffer.from([0x22, 4]),
          Buffer.from('prod'),
          Buffer.from([0x32, user.length]),
          user,
          Buffer.from([0x38, 0x80, 0xbd, 0xa2, 0x9c, 0x06, 0x48, 2]),
        ])
      const encode = format === 'json' ? json : proto
      await produce(topic, [encode(Buffer.from(real)), encode(invalid)])
      await consumeAll(pool, topic, {format})
      const rows = await query<RowDataPacket>(db.settings, 'SELECT HEX(user_id) AS user, event_count FROM mau')
      expect(rows.map((r) => ({...r}))).toEqual([
        {user: Buffer.from(real).toString('hex').toUpperCase(), event_count: 1},
      ])
      const [letter] = await query<RowDataPacket>(db.settings, 'SELECT kafka_offset, reason FROM mau_dead_letter')
      expect({...letter}).toMatchObject({kafka_offset: 1, reason: expect.stringMatching(/^decode: .*(UTF-8|utf-8)/)})
    },
  )
})

describe('WindowWriter', () => {
  const chunkOf = (partition: number, values: {offset: number; value: Buffer}[], maxBytes = 64 * 1024) => ({
    ref: {group: 'g', topic: 't', partition},
    key: `t:${partition}`,
    from: values[0]!.offset,
    batch: prepareBatch(
      values.map((v) => ({offset: String(v.offset), value: v.value})),
      decodeJson,
      DECEMBER_2022.to,
      maxBytes,
    ),
    events: values.length,
    bytes: 1,
    highWatermark: 0,
    generation: 1,
    queuedAt: 0,
  })
  const writerOf = (queue: ChunkQueue, failures: MauError[], maxStatementBytes = 4 * 1024 * 1024) =>
    new WindowWriter(
      queue,
      {maxEvents: 10, maxBytes: Infinity, lingerMs: 0},
      {
        db: pool,
        log: createLogger('test', 'silent'),
        metrics: new ConsumerMetrics(),
        months: new MonthResolver('UTC'),
        maxStatementBytes,
        keepFrom: () => undefined,
        holds: () => true,
        written: () => undefined,
        failed: (e) => failures.push(e),
        rewind: () => undefined,
      },
    )
  const offsetOf = async (partition: number) =>
    Number(
      (
        await query<RowDataPacket>(
          db.settings,
          'SELECT next_offset FROM mau_consumer_offset WHERE kafka_partition = ?',
          [partition],
        )
      )[0]?.next_offset ?? -1,
    )

  it.each([2, 3])(
    'never commits a window taken after one that failed for good, of the same partition or another, and all %i writers return',
    async (writers) => {
      const queue = new ChunkQueue({maxEvents: 100, maxBytes: Infinity})
      const messages = (from: number) =>
        Array.from({length: 10}, (_, i) => ({offset: from + i, value: Buffer.from(i === 5 ? '{bad' : good(from + i))}))
      // Four windows of ten: partition 0 (succeeds), partition 0 (fails), partition 1 and partition 0 (must not commit).
      for (const [partition, from] of [
        [0, 0],
        [0, 10],
        [1, 0],
        [0, 20],
      ] as const)
        await queue.push(chunkOf(partition, messages(from)), () => true)
      await startPartitions(
        pool,
        [0, 1].map((partition) => ({ref: {group: 'g', topic: 't', partition}, from: 0})),
      )
      await refuseLetterAt(15)
      const failures: MauError[] = []
      await writerOf(queue, failures).run(writers)
      expect(failures.map((f) => f.message.split(':')[0])).toEqual([
        'Could not write topic t partition 0 offsets 10..19',
      ])
      expect([await offsetOf(0), await offsetOf(1)]).toEqual([10, 0])
      expect(await counts()).toMatchObject({events: 9, letters: 1})
    },
  )

  it('gives up on a window MySQL keeps dropping the connection for while it answers everything else, naming where', async () => {
    const queue = new ChunkQueue({maxEvents: 10, maxBytes: Infinity})
    // A letter kept whole and a statement limit above max_allowed_packet: the guards bypassed, as a bug would.
    await queue.push(chunkOf(3, [{offset: 7, value: Buffer.alloc(20 * 1024 * 1024, 0x7b)}], Infinity), () => true)
    await startPartitions(pool, [{ref: {group: 'g', topic: 't', partition: 3}, from: 7}])
    const failures: MauError[] = []
    await writerOf(queue, failures, 64 * 1024 * 1024).run(1)
    expect(failures).toHaveLength(1)
    // The server answers the oversized packet with its error, or drops the connection while it is still being sent.
    expect(failures[0]!.message).toMatch(
      /^Could not write topic t partition 3 offsets 7\.\.7: (Got a packet bigger than 'max_allowed_packet'|MySQL dropped the connection on this window 5 times in a row)/,
    )
    expect(await counts()).toMatchObject({letters: 0})
  })
})
