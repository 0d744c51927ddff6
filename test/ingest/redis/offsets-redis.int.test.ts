/**
 * The tooling with --source redis, as an operator runs it: offsets list (stored position, entry id, lag),
 * a recreated stream refused by consume (exit 2) and started over by offsets reset, and doctor.
 */
import {afterEach, beforeEach, describe, expect, it} from 'vitest'
import {DECEMBER_2022} from '../../fixtures/mau.js'
import {platformStream} from '../../fixtures/platform.js'
import {publish} from '../../fixtures/redis-streams.js'
import {createTestDatabase, type TestDatabase} from '../../fixtures/services.js'
import {mauAsync} from '../../helpers/cli.js'
import {type RedisServer, startRedis} from '../../helpers/redis-server.js'

let db: TestDatabase
let redis: RedisServer
beforeEach(async () => {
  db = await createTestDatabase({migrated: true})
  redis = await startRedis()
})
afterEach(async () => {
  await redis.stop()
  await db.drop()
})

const env = () => ({
  MAU_MYSQL_URL: db.url,
  MAU_EVENT_SOURCE: 'redis',
  MAU_REDIS_URL: redis.url,
  MAU_REDIS_STREAMS: 'goal',
  MAU_REDIS_PARTITIONS: '1',
})
const entries = (n: number, seed: number) =>
  platformStream({events: n, seed, format: 'protobuf', ...DECEMBER_2022}).messages

describe('offsets and doctor with --source redis', () => {
  it("lists each stream's position and lag, refuses a recreated stream, and starts it over with offsets reset", async () => {
    const c = redis.client()
    await publish(c, 'goal', entries(30, 1), 1)
    const broken = await c.xadd('goal-0{stream}', '*', 'broken', Buffer.from([0x12, 0x7f, 0x0a]))
    const first = await mauAsync(['consume', '--stop-at-end', '--json'], env())
    expect(first.code, first.stderr).toBe(0)
    await publish(c, 'goal', entries(7, 2), 1, 'more')
    const last = (await c.xrevrange('goal-0{stream}', '+', '-', 'COUNT', 8))[7]![0]
    const list = await mauAsync(['offsets', 'list', '--json'], env())
    expect(list.code, list.stderr).toBe(0)
    expect(JSON.parse(list.stdout).partitions).toEqual([
      {topic: 'goal-0{stream}', partition: 0, stored: 31, entryId: last, low: 0, high: 38, lag: 7},
    ])

    // Deleted and written again: its ids go on, but fewer entries were ever added than were applied.
    await c.del('goal-0{stream}')
    await publish(c, 'goal', entries(5, 3), 1, 'new')
    const refused = await mauAsync(['consume', '--stop-at-end', '--json'], env())
    expect(refused.code).toBe(2)
    expect(JSON.parse(refused.stdout).error).toMatchObject({code: 'REDIS_BEHIND_MYSQL'})
    const reset = await mauAsync(['offsets', 'reset', '--topic', 'goal', '--to', 'earliest', '--yes', '--json'], env())
    expect(reset.code, reset.stderr).toBe(0)
    expect(JSON.parse(reset.stdout).changes).toEqual([
      {topic: 'goal-0{stream}', partition: 0, stored: 31, next: 0, applyAgain: 0, skip: 0, pastEnd: true},
    ])
    const again = await mauAsync(['consume', '--stop-at-end', '--json'], env())
    expect(again.code, again.stderr).toBe(0)
    expect(JSON.parse(again.stdout)).toMatchObject({consumed: 5})
    // A dead letter names its stream and entry id.
    const letters = await mauAsync(['deadletter', 'list', '--json'], env())
    expect(JSON.parse(letters.stdout).entries).toContainEqual(
      expect.objectContaining({topic: 'goal-0{stream}', partition: 0, offset: 30, entryId: broken}),
    )
    c.disconnect()
  })

  it('doctor checks Redis and its streams, and names streams that are not there', async () => {
    const c = redis.client()
    await publish(c, 'goal', entries(3, 1), 1)
    c.disconnect()
    const ok = await mauAsync(['doctor', '--json'], env())
    expect(ok.code, ok.stdout).toBe(0)
    const checks = JSON.parse(ok.stdout).checks as {name: string; ok: boolean; detail: string}[]
    expect(checks.find((x) => x.name === 'redis')).toMatchObject({
      ok: true,
      detail: expect.stringContaining('plaintext'),
    })
    expect(checks.find((x) => x.name === 'streams')).toMatchObject({ok: true, detail: '1 of 1 exist, 3 entries'})
    expect(checks.some((x) => x.name === 'kafka')).toBe(false)
    const wrong = await mauAsync(['doctor', '--json'], {...env(), MAU_REDIS_STREAMS: 'evaluations'})
    expect(wrong.code).toBe(2)
    expect(JSON.parse(wrong.stdout).checks.find((x: {name: string}) => x.name === 'streams')).toMatchObject({ok: false})
    await redis.stop()
    const down = await mauAsync(['doctor', '--json'], env())
    expect(down.code).toBe(4)
  })
})
