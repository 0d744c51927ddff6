/**
 * mau deadletter replay and purge: letters that today's decoder accepts are written once (even by two
 * replays at once) and removed; the others stay; purge deletes by age, --dry-run only counts.
 */
import {afterAll, beforeEach, describe, expect, it} from 'vitest'
import {encodeActivity, encodeOtherEnvelope} from '../../src/ingest/encode.js'
import {query} from '../fixtures/mau.js'
import {createTestDatabase, type TestDatabase} from '../fixtures/services.js'
import {mauAsync} from '../helpers/cli.js'

let db: TestDatabase
const LAST_SEEN = Date.UTC(2022, 11, 5) / 1000
const event = (user: string) =>
  Buffer.from(JSON.stringify({environment_namespace: 'prod', user_id: user, source_id: 'IOS', last_seen: LAST_SEEN}))
const insert =
  'INSERT INTO mau_dead_letter (consumer_group, topic, kafka_partition, kafka_offset, reason, payload, created_at) VALUES (?, ?, ?, ?, ?, ?, ?)'

beforeEach(async () => {
  await db?.drop()
  db = await createTestDatabase({migrated: true})
  // Set aside by an older consumer that rejected them; today's decoder accepts the first three.
  const aside = [event('u1'), event('u2'), event('u1'), Buffer.from('{oops')]
  for (const [i, payload] of aside.entries())
    await query(db.settings, insert, [
      'g',
      'events',
      0,
      i,
      'source_id: old rule',
      payload,
      Date.UTC(2022, 11, 1 + i) / 1000,
    ])
})
afterAll(async () => {
  await db.drop()
})

const mau = (args: string[]) => mauAsync(args, {MAU_MYSQL_URL: db.url})
const letters = async () =>
  (await query(db.settings, 'SELECT kafka_offset FROM mau_dead_letter ORDER BY kafka_offset')).map((r) =>
    Number(r.kafka_offset),
  )
const rows = () => query(db.settings, 'SELECT user_id, event_count FROM mau ORDER BY user_id')

describe('mau deadletter replay', () => {
  it('--dry-run says what would pass and writes nothing', async () => {
    const r = await mau(['deadletter', 'replay', '--dry-run', '--json'])
    expect(r.code).toBe(0)
    expect(JSON.parse(r.stdout)).toMatchObject({dryRun: true, examined: 4, replayed: 3, kept: {decode: 1}})
    expect(await rows()).toEqual([])
    expect(await letters()).toEqual([0, 1, 2, 3])
  })

  it('writes the letters that now pass with the summary counters, removes them, and keeps the rest', async () => {
    const r = await mau(['deadletter', 'replay', '--json'])
    expect(r.code).toBe(0)
    expect(JSON.parse(r.stdout)).toMatchObject({
      dryRun: false,
      examined: 4,
      replayed: 3,
      rowsUpserted: 2,
      kept: {decode: 1},
    })
    expect(await rows()).toEqual([
      {user_id: 'u1', event_count: 2},
      {user_id: 'u2', event_count: 1},
    ])
    expect(await letters()).toEqual([3])
    const count = JSON.parse((await mau(['count', '--month', '202212', '--json'])).stdout)
    expect(count.total).toEqual({users: 2, events: 3})
  })

  it('applies each letter once when two replays run at the same time, and again is a no-op', async () => {
    const [a, b] = await Promise.all([mau(['deadletter', 'replay', '--json']), mau(['deadletter', 'replay', '--json'])])
    expect([a.code, b.code]).toEqual([0, 0])
    expect(JSON.parse(a.stdout).replayed + JSON.parse(b.stdout).replayed).toBe(3)
    const again = JSON.parse((await mau(['deadletter', 'replay', '--json'])).stdout)
    expect(again).toMatchObject({examined: 1, replayed: 0})
    expect(await rows()).toEqual([
      {user_id: 'u1', event_count: 2},
      {user_id: 'u2', event_count: 1},
    ])
  })

  it('replays only the letters set aside in the --since/--before window', async () => {
    const r = JSON.parse(
      (await mau(['deadletter', 'replay', '--since', '2022-12-02', '--before', '2022-12-03', '--json'])).stdout,
    )
    expect(r).toMatchObject({examined: 1, replayed: 1})
    expect(await letters()).toEqual([0, 2, 3])
  })
})

describe('mau deadletter replay after an upgrade', () => {
  it('applies the events an older version refused exactly once, removes kinds no longer counted, and keeps cut letters', async () => {
    await query(db.settings, 'DELETE FROM mau_dead_letter')
    const flutter = encodeActivity({
      kind: 'evaluation',
      environmentId: 'env-7',
      userId: 'u9',
      sourceId: 8,
      time: LAST_SEEN,
    })
    const metrics = encodeOtherEnvelope('type.googleapis.com/bucketeer.event.client.MetricsEvent', 'env-7')
    await query(db.settings, insert, [
      'g',
      'events',
      0,
      10,
      'decode: Event wraps an EvaluationEvent',
      flutter,
      LAST_SEEN,
    ])
    await query(db.settings, insert, ['g', 'events', 0, 11, 'decode: Event wraps a MetricsEvent', metrics, LAST_SEEN])
    await query(
      db.settings,
      `${insert.replace('payload, created_at', 'payload, payload_bytes, created_at').replace('?, ?)', '?, ?, ?)')}`,
      ['g', 'events', 0, 12, 'decode: x', flutter.subarray(0, 10), flutter.length, LAST_SEEN],
    )
    const r = JSON.parse((await mau(['deadletter', 'replay', '--format', 'protobuf', '--json'])).stdout)
    expect(r).toMatchObject({examined: 3, replayed: 1, ignored: 1, kept: {cut: 1}})
    expect(await query(db.settings, 'SELECT environment_namespace, source_id, user_id, event_count FROM mau')).toEqual([
      {environment_namespace: 'env-7', source_id: 'FLUTTER', user_id: 'u9', event_count: 1},
    ])
    expect(await letters()).toEqual([12])
    expect(JSON.parse((await mau(['deadletter', 'replay', '--format', 'protobuf', '--json'])).stdout)).toMatchObject({
      examined: 1,
      replayed: 0,
    })
  })
})

describe('mau deadletter replay past retention', () => {
  it('removes letters of months past retention as expired, writing and replaying none of them', async () => {
    await query(db.settings, "UPDATE mau_setting SET value = '13' WHERE name = 'retain_months'")
    const r = JSON.parse((await mau(['deadletter', 'replay', '--json'])).stdout)
    expect(r).toMatchObject({examined: 4, replayed: 0, events: 0, expired: 3, rowsUpserted: 0, kept: {decode: 1}})
    expect(await rows()).toEqual([])
    expect(await letters()).toEqual([3])
  })
})

describe('mau deadletter purge', () => {
  it('--dry-run counts what is older than --before; without it deletes exactly those', async () => {
    const dry = await mau(['deadletter', 'purge', '--before', '2022-12-03', '--dry-run', '--json'])
    expect(JSON.parse(dry.stdout)).toEqual({dryRun: true, before: '2022-12-03T00:00:00.000Z', purged: 2})
    expect(await letters()).toEqual([0, 1, 2, 3])
    const done = await mau(['deadletter', 'purge', '--before', '2022-12-03'])
    expect(done.stdout).toContain('Deleted 2 dead letters set aside before 2022-12-03T00:00:00.000Z.')
    expect(await letters()).toEqual([2, 3])
  })

  it('needs --before, and says so', async () => {
    const r = await mau(['deadletter', 'purge', '--json'])
    expect(r.code).toBe(2)
    expect(JSON.parse(r.stdout).error).toMatchObject({code: 'BAD_FLAGS', exitCode: 2})
    expect(JSON.parse(r.stdout).error.message).toMatch(/--before/)
  })
})
