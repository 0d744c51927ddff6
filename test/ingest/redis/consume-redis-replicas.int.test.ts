/**
 * The built CLI (`mau consume --source redis`) as a Deployment runs it: SIGKILLed while it writes and
 * started again, and two replicas sharing the streams through their MySQL locks, one SIGKILLed while it
 * reads. Exact against the ground truth each time.
 */
import {type ChildProcess, spawn} from 'node:child_process'
import type {RowDataPacket} from 'mysql2/promise'
import {afterEach, beforeEach, describe, expect, it} from 'vitest'
import {DECEMBER_2022, eventsApplied, query} from '../../fixtures/mau.js'
import {platformStream} from '../../fixtures/platform.js'
import {publish} from '../../fixtures/redis-streams.js'
import {createTestDatabase, type TestDatabase} from '../../fixtures/services.js'
import {exited} from '../../helpers/child.js'
import {mauAsync} from '../../helpers/cli.js'
import {type RedisServer, startRedis} from '../../helpers/redis-server.js'

let db: TestDatabase
let redis: RedisServer
const children: ChildProcess[] = []

beforeEach(async () => {
  db = await createTestDatabase({migrated: true})
  redis = await startRedis()
})
afterEach(async () => {
  for (const c of children.splice(0)) {
    c.kill('SIGKILL')
    await exited(c)
  }
  await redis.stop()
  await db.drop()
})

const TWO_MONTHS = {from: DECEMBER_2022.from, to: DECEMBER_2022.to + 31 * 86_400}
const args = () => [
  'consume',
  '--source',
  'redis',
  '--redis-url',
  redis.url,
  '--redis-stream',
  'evaluation,goal',
  '--format',
  'protobuf',
  '--batch-size',
  '2000',
  '--group',
  'mau-redis',
]
const env = () => ({MAU_MYSQL_URL: db.url, MAU_LOG_LEVEL: 'info'})
const rows = async () => {
  const r = await query<RowDataPacket>(
    db.settings,
    'SELECT environment_namespace, yearmonth, source_id, user_id, event_count FROM mau',
  )
  return new Map(
    r.map((x) => [[x.environment_namespace, x.yearmonth, x.source_id, x.user_id].join('|'), Number(x.event_count)]),
  )
}
const total = (t: Map<string, number>) => [...t.values()].reduce((a, b) => a + b, 0)
const sum = (...truths: Map<string, number>[]) => {
  const out = new Map<string, number>()
  for (const t of truths) for (const [k, n] of t) out.set(k, (out.get(k) ?? 0) + n)
  return out
}
const until = async (what: () => Promise<boolean>, ms = 90_000) => {
  for (const end = Date.now() + ms; !(await what());) {
    if (Date.now() > end) throw new Error(`timed out waiting (applied ${await eventsApplied(db.settings)})`)
    await new Promise((r) => setTimeout(r, 100))
  }
}
function replica(): {child: ChildProcess; log: () => string} {
  const child = spawn('node', ['bin/run.js', ...args()], {env: {...process.env, ...env()}})
  let log = ''
  child.stderr.on('data', (d) => (log += d))
  child.stdout.resume()
  children.push(child)
  return {child, log: () => log}
}

describe('mau consume --source redis, killed and shared', () => {
  it('SIGKILLed while it writes, then started again, counts every entry exactly once', async () => {
    const c = redis.client()
    const evaluation = platformStream({events: 60_000, seed: 31, format: 'protobuf', ...TWO_MONTHS})
    const goal = platformStream({events: 10_000, seed: 32, format: 'protobuf', ...TWO_MONTHS})
    await publish(c, 'evaluation', evaluation.messages)
    await publish(c, 'goal', goal.messages)
    c.disconnect()
    const {child} = replica()
    await until(async () => (await eventsApplied(db.settings)) > 0)
    child.kill('SIGKILL')
    await exited(child)
    const killedAt = await eventsApplied(db.settings)
    const truth = sum(evaluation.truth, goal.truth)
    expect(killedAt).toBeLessThan(total(truth))
    const again = await mauAsync([...args(), '--stop-at-end', '--json'], env())
    expect(again.code, again.stderr).toBe(0)
    expect(JSON.parse(again.stdout)).toMatchObject({stoppedBy: 'end-of-topics'})
    expect(await rows()).toEqual(truth)
  })

  it('two replicas share the streams; one SIGKILLed, the other takes its streams and the count is exact', async () => {
    const c = redis.client()
    const first = platformStream({events: 20_000, seed: 41, format: 'protobuf', ...TWO_MONTHS})
    await publish(c, 'evaluation', first.messages)
    const a = replica()
    await until(async () => a.log().includes('took streams'))
    const b = replica()
    // A gives up half for B: each reads 16 of the 32 streams.
    await until(async () => a.log().includes('gave up streams') && b.log().includes('took streams'))
    const tookB = b
      .log()
      .split('\n')
      .filter((l) => l.includes('took streams'))
      .map((l) => JSON.parse(l) as {streams: string[]})
    expect(tookB.flatMap((l) => l.streams)).toHaveLength(16)
    const second = platformStream({events: 20_000, seed: 42, format: 'protobuf', ...TWO_MONTHS})
    await publish(c, 'evaluation', second.messages, 16, 'second')
    await until(async () => (await eventsApplied(db.settings)) > total(first.truth))
    a.child.kill('SIGKILL')
    await exited(a.child)
    // Written after A died: to streams of both replicas' shares.
    const third = platformStream({events: 5_000, seed: 43, format: 'protobuf', ...TWO_MONTHS})
    await publish(c, 'goal', third.messages, 16, 'third')
    c.disconnect()
    // B takes A's streams once MySQL has freed A's locks (its connection closed with the process).
    await until(
      async () =>
        b
          .log()
          .split('\n')
          .filter((l) => l.includes('took streams')).length >= 2,
    )
    const tookAll = b
      .log()
      .split('\n')
      .filter((l) => l.includes('took streams'))
      .flatMap((l) => (JSON.parse(l) as {streams: string[]}).streams)
    expect(new Set(tookAll).size).toBe(32)
    const truth = sum(first.truth, second.truth, third.truth)
    await until(async () => (await eventsApplied(db.settings)) >= total(truth))
    b.child.kill('SIGTERM')
    expect((await exited(b.child)).code).toBe(0)
    expect(await rows()).toEqual(truth)
  })
})
