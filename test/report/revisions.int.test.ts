/**
 * Late events and the report, with the real services: a month filled and reported, then late events for it
 * consumed; `report show` says what changed since it was sent, the consumer counts the late events, and
 * the next report to the same destination carries the revision exactly once.
 */
import {readFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {afterAll, beforeAll, describe, expect, it} from 'vitest'
import {openDb, type Db} from '../../src/core/db.js'
import {addMonths, currentMonth} from '../../src/core/month.js'
import {createLogger} from '../../src/core/log.js'
import {consume} from '../../src/ingest/consume.js'
import {ConsumerMetrics, Health} from '../../src/ingest/metrics.js'
import {writerPool} from '../../src/mau/rows.js'
import {produce} from '../fixtures/mau.js'
import {createTestDatabase, createTopic, groupOf, type TestDatabase} from '../fixtures/services.js'
import {mauAsync} from '../helpers/cli.js'

let db: TestDatabase
let pool: Db
let topic: {topic: string; drop: () => Promise<void>}
const month = addMonths(currentMonth('UTC'), -1)
const at = Date.UTC(Number(month.slice(0, 4)), Number(month.slice(4)) - 1, 10) / 1000
const file = join(tmpdir(), `mau-revisions-${process.pid}.json`)
const event = (user: string) =>
  JSON.stringify({environment_id: 'prod', user_id: user, source_id: 'ANDROID', last_seen: at})
const mau = (args: string[]) => mauAsync(args, {MAU_MYSQL_URL: db.url})

async function consumeWith(metrics: ConsumerMetrics) {
  return consume(
    {
      brokers: '127.0.0.1:9092',
      topics: [topic.topic],
      group: groupOf(topic.topic),
      format: 'json',
      timezone: 'UTC',
      batchSize: 1000,
      stopAtEnd: true,
      concurrency: 1,
    },
    {
      db: pool,
      log: createLogger('test', 'silent'),
      metrics,
      health: new Health(60),
      signal: new AbortController().signal,
    },
  )
}

beforeAll(async () => {
  db = await createTestDatabase({migrated: true})
  pool = openDb(db.settings, writerPool(2))
  topic = await createTopic(1)
  await produce(
    topic.topic,
    Array.from({length: 100}, (_, i) => event(`u${i}`)),
  )
  await consumeWith(new ConsumerMetrics())
})
afterAll(async () => {
  await pool.end()
  await topic.drop()
  await db.drop()
})

describe('late events after a report', () => {
  it('are counted by the consumer, shown against what was sent, and revised in the next report exactly once', async () => {
    const sent = await mau(['report', 'send', '--month', month, '--to', `file:${file}`, '--json'])
    expect(sent.code).toBe(0)
    expect(JSON.parse(readFileSync(file, 'utf8')).revised).toBeUndefined()

    // Late events: two new users and three more events for the month already reported.
    await produce(topic.topic, [event('late-1'), event('late-2'), event('u1')])
    const metrics = new ConsumerMetrics()
    await consumeWith(metrics)
    expect(await metrics.late.get()).toMatchObject({values: [{labels: {month}, value: 3}]})

    const shown = JSON.parse((await mau(['report', 'show', '--month', month, '--json'])).stdout)
    expect(shown.sent).toEqual([
      {
        destination: `file:${file}`,
        sent_at: expect.any(String),
        environments: [
          {
            environment_namespace: '',
            sent: {users: 100, events: 100},
            now: {users: 102, events: 103},
            users_added: 2,
            events_added: 3,
          },
          {
            environment_namespace: 'prod',
            sent: {users: 100, events: 100},
            now: {users: 102, events: 103},
            users_added: 2,
            events_added: 3,
          },
        ],
      },
    ])
    expect((await mau(['report', 'show', '--month', month])).stdout).toMatch(
      /Sent to file:.* now:[\s\S]*prod +│ +100 │ +102 │ +\+2 │/,
    )

    // The next month's report to the same destination carries the revision (2 % > 0.1 %), once.
    const next = addMonths(month, 1)
    expect(
      (await mau(['report', 'send', '--month', next, '--to', `file:${file}`, '--allow-partial', '--json'])).code,
    ).toBe(0)
    expect(JSON.parse(readFileSync(file, 'utf8')).revised).toEqual([
      {
        month,
        sent: {users: 100, events: 100},
        now: {users: 102, events: 103},
        users_change_percent: 2,
        environments: [
          {environment_namespace: 'prod', sent: {users: 100, events: 100}, now: {users: 102, events: 103}},
        ],
      },
    ])
    expect(
      (await mau(['report', 'send', '--month', next, '--to', `file:${file}`, '--allow-partial', '--force', '--json']))
        .code,
    ).toBe(0)
    expect(JSON.parse(readFileSync(file, 'utf8')).revised).toBeUndefined()
    expect(
      JSON.parse((await mau(['report', 'show', '--month', month, '--json'])).stdout).sent[0].environments[0],
    ).toMatchObject({users_added: 0, events_added: 0})
  })
})
