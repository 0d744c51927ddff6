/**
 * The platform as it is today and as it was: every generation of its messages through the real consumer
 * into MariaDB, exact against the ground truth, on both formats and two topics at once.
 */
import type {RowDataPacket} from 'mysql2/promise'
import {afterEach, beforeEach, describe, expect, it} from 'vitest'
import {openDb, type Db} from '../../src/core/db.js'
import {consume} from '../../src/ingest/consume.js'
import {createLogger} from '../../src/core/log.js'
import {ConsumerMetrics, Health} from '../../src/ingest/metrics.js'
import {checkSummary} from '../../src/mau/summary.js'
import {writerPool} from '../../src/mau/rows.js'
import {DECEMBER_2022, produce, query} from '../fixtures/mau.js'
import {METRICS_EVENT, platformStream} from '../fixtures/platform.js'
import {createTestDatabase, createTopic, type TestDatabase} from '../fixtures/services.js'

let db: TestDatabase
let pool: Db
let topics: {topic: string; drop: () => Promise<void>}[] = []

beforeEach(async () => {
  db = await createTestDatabase({migrated: true})
  pool = openDb(db.settings, writerPool(4))
})
afterEach(async () => {
  await pool.end()
  for (const t of topics) await t.drop()
  topics = []
  await db.drop()
})

const rows = async () => {
  const r = await query<RowDataPacket>(
    db.settings,
    'SELECT environment_namespace, yearmonth, source_id, user_id, event_count FROM mau',
  )
  return new Map(
    r.map((x) => [[x.environment_namespace, x.yearmonth, x.source_id, x.user_id].join('|'), Number(x.event_count)]),
  )
}

const TWO_MONTHS = {from: DECEMBER_2022.from, to: DECEMBER_2022.to + 31 * 86_400}

describe("mau consume with the platform's messages of every generation", () => {
  it.each(['protobuf', 'json'] as const)(
    'counts every kind and source exactly from two topics (%s), ignores metrics events and dead-letters broken ones',
    async (format) => {
      topics = [await createTopic(2), await createTopic(1)]
      const streams = topics.map((_, i) => platformStream({events: 6_000, seed: 7 + i, format, ...TWO_MONTHS}))
      for (const [i, t] of topics.entries()) await produce(t.topic, streams[i]!.messages, i === 0 ? 2 : 1)
      const truth = new Map<string, number>()
      for (const s of streams) for (const [k, n] of s.truth) truth.set(k, (truth.get(k) ?? 0) + n)
      const summary = await consume(
        {
          brokers: '127.0.0.1:9092',
          topics: topics.map((t) => t.topic),
          group: `${topics[0]!.topic}-g`,
          format,
          timezone: 'UTC',
          batchSize: 2000,
          stopAtEnd: true,
          concurrency: 2,
        },
        {
          db: pool,
          log: createLogger('test', 'silent'),
          metrics: new ConsumerMetrics(),
          health: new Health(60),
          signal: new AbortController().signal,
        },
      )
      expect(await rows()).toEqual(truth)
      expect(summary.ignored).toEqual({
        [METRICS_EVENT]: streams[0]!.ignored[METRICS_EVENT]! + streams[1]!.ignored[METRICS_EVENT]!,
      })
      expect(summary.deadLettered).toBe(streams[0]!.broken + streams[1]!.broken)
      const [letters] = await query<RowDataPacket>(db.settings, 'SELECT COUNT(*) AS n FROM mau_dead_letter')
      expect(Number(letters!.n)).toBe(summary.deadLettered)
      // Every SDK source, the newest (FLUTTER, OPEN_FEATURE_*) included, stored by its platform name.
      const sources = new Set([...truth.keys()].map((k) => k.split('|')[2]))
      expect(sources).toContain('OPEN_FEATURE_REACT_NATIVE')
      for (const month of ['202212', '202301']) expect(await checkSummary(pool, month)).toMatchObject({ok: true})
    },
  )

  it('counts only the kinds --activity names, ignoring the others by type URL', async () => {
    topics = [await createTopic(1)]
    const stream = platformStream({events: 3_000, seed: 3, format: 'protobuf', ...TWO_MONTHS})
    await produce(topics[0]!.topic, stream.messages)
    const summary = await consume(
      {
        brokers: '127.0.0.1:9092',
        topics: [topics[0]!.topic],
        group: `${topics[0]!.topic}-g`,
        format: 'protobuf',
        timezone: 'UTC',
        batchSize: 1000,
        stopAtEnd: true,
        concurrency: 2,
        activity: ['evaluation'],
      },
      {
        db: pool,
        log: createLogger('test', 'silent'),
        metrics: new ConsumerMetrics(),
        health: new Health(60),
        signal: new AbortController().signal,
      },
    )
    expect(Object.keys(summary.ignored).sort()).toEqual(
      [
        METRICS_EVENT,
        'bucketeer.event.service.UserEvent',
        'type.googleapis.com/bucketeer.event.client.GoalEvent',
        'type.googleapis.com/bucketeer.event.service.UserEvent',
      ].sort(),
    )
    expect(summary.consumed).toBe(stream.messages.length)
    const [r] = await query<RowDataPacket>(db.settings, 'SELECT CAST(SUM(event_count) AS SIGNED) AS n FROM mau')
    expect(Number(r!.n)).toBe(
      stream.messages.length - Object.values(summary.ignored).reduce((a, b) => a + b, 0) - stream.broken,
    )
  })
})
