/**
 * The double write as it runs in production, on real services: a producer sends user events at a steady
 * rate for the whole file while `mau consume` (the CLI) writes MariaDB and a real Druid's Kafka supervisor
 * (deploy/druid's spec) ingests the same topic. `mau verify-migration` runs again and again meanwhile.
 */
import {type ChildProcess, spawn} from 'node:child_process'
import {afterAll, beforeAll, describe, expect, it} from 'vitest'
import {MonthResolver} from '../../src/core/month.js'
import {exited} from '../helpers/child.js'
import {mauAsync} from '../helpers/cli.js'
import {DRUID_BROKER_URL, OVERLORD_URL, startSupervisor, supervisorOffsets} from '../fixtures/druid-real.js'
import {query} from '../fixtures/mau.js'
import {
  connectAdmin,
  createTestDatabase,
  createTopic,
  groupOf,
  kafka,
  uniqueName,
  type TestDatabase,
} from '../fixtures/services.js'

const SOURCES = ['ANDROID', 'IOS', 'WEB', 3]
const started = Math.floor(Date.now() / 1000)
const month = new MonthResolver('UTC').resolve(started)
const datasource = uniqueName('double_write')
let db: TestDatabase
let topic: {topic: string; drop: () => Promise<void>}
let supervisor: {stop: () => Promise<void>}
let consumer: ChildProcess | undefined
const traffic = {sent: 0, stop: () => {}, done: Promise.resolve()}
const timings: {what: string; ms: number; code: number | null; verdict?: string}[] = []

/** Both generations of the user event: the environment id of today, the namespace of 2022. */
function liveEvent(i: number): string {
  const user = `live-${i % 1500}`
  const source = SOURCES[i % SOURCES.length]
  return JSON.stringify(
    i % 3 === 0
      ? {environment_namespace: 'prod', user_id: user, source_id: source, last_seen: started}
      : {
          environment_id: `env-${i % 2}`,
          environment_namespace: '',
          user_id: user,
          source_id: source,
          last_seen: started,
        },
  )
}

/** About 200 events a second, on both partitions, until stopped. */
function startTraffic(): void {
  const producer = kafka('mau-test-traffic').producer()
  let running = true
  traffic.stop = () => (running = false)
  traffic.done = (async () => {
    await producer.connect()
    while (running) {
      const messages = Array.from({length: 20}, (_, j) => ({
        value: liveEvent(traffic.sent + j),
        partition: (traffic.sent + j) % 2,
      }))
      await producer.send({topic: topic.topic, acks: -1, messages})
      traffic.sent += messages.length
      await new Promise((r) => setTimeout(r, 100))
    }
    await producer.disconnect()
  })()
}

function startConsumer(): void {
  consumer = spawn(
    'node',
    [
      'bin/run.js',
      'consume',
      '--topic',
      topic.topic,
      '--group',
      groupOf(topic.topic),
      '--timezone',
      'UTC',
      '--batch-size',
      '500',
    ],
    {
      env: {...process.env, MAU_MYSQL_URL: db.url, MAU_LOG_LEVEL: 'warn'},
      stdio: 'ignore',
    },
  )
}

async function stopConsumer(): Promise<void> {
  const c = consumer
  if (!c) return
  c.kill('SIGTERM')
  await exited(c)
}

const env = () => ({
  MAU_MYSQL_URL: db.url,
  MAU_DRUID_URL: DRUID_BROKER_URL,
  MAU_DRUID_OVERLORD_URL: OVERLORD_URL,
  MAU_DRUID_DATASOURCE: datasource,
  MAU_KAFKA_TOPICS: topic.topic,
  MAU_KAFKA_GROUP: groupOf(topic.topic),
  MAU_TIMEZONE: 'UTC',
})

async function verify(what: string, args: string[] = []) {
  const t0 = Date.now()
  const r = await mauAsync(['verify-migration', '--month', month, '--users', '20', '--json', ...args], env())
  const doc = r.stdout ? JSON.parse(r.stdout) : {}
  timings.push({what, ms: Date.now() - t0, code: r.code, verdict: doc.verdict ?? doc.error?.code})
  return {...r, doc}
}

async function until(what: string, check: () => Promise<boolean>, timeoutMs = 120_000): Promise<void> {
  const deadline = Date.now() + timeoutMs
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`${what}: not within ${timeoutMs / 1000} s`)
    await new Promise((r) => setTimeout(r, 500))
  }
}

async function highWaterMarks(): Promise<Record<string, number>> {
  const admin = await connectAdmin()
  const marks = await admin.fetchTopicOffsets(topic.topic)
  await admin.disconnect()
  return Object.fromEntries(marks.map((m) => [String(m.partition), Number(m.high)]))
}

async function mauOffsets(): Promise<Record<string, number>> {
  const rows = await query(
    db.settings,
    'SELECT kafka_partition, next_offset FROM mau_consumer_offset WHERE topic = ?',
    [topic.topic],
  )
  return Object.fromEntries(rows.map((r) => [String(r.kafka_partition), Number(r.next_offset)]))
}

const fileStarted = Date.now()

beforeAll(async () => {
  db = await createTestDatabase({migrated: true})
  topic = await createTopic(2)
  // Users seen once, before the traffic: nothing in flight can ever explain one of them missing.
  const producer = kafka('mau-test-quiet').producer()
  await producer.connect()
  await producer.send({
    topic: topic.topic,
    acks: -1,
    messages: Array.from({length: 200}, (_, i) => ({
      value: JSON.stringify({environment_id: 'env-0', user_id: `quiet-${i}`, source_id: 'IOS', last_seen: started}),
      partition: i % 2,
    })),
  })
  await producer.disconnect()
  startTraffic()
  startConsumer()
  supervisor = await startSupervisor(datasource, topic.topic)
  // Both sides have applied the quiet users and some traffic.
  await until(
    'both sides ingesting',
    async () => {
      const [m, d] = [await mauOffsets(), await supervisorOffsets(datasource).catch((): Record<string, number> => ({}))]
      return ['0', '1'].every((p) => (m[p] ?? 0) > 200 && (d[p] ?? 0) > 200)
    },
    180_000,
  )
})

afterAll(async () => {
  traffic.stop()
  await traffic.done.catch(() => undefined)
  await stopConsumer()
  await supervisor?.stop()
  await topic?.drop()
  await db?.drop()
  console.log(
    `double write, ${((Date.now() - fileStarted) / 1000).toFixed(0)} s in all; verify-migration runs:\n${timings.map((t) => `  ${t.what}: ${t.ms} ms, exit ${t.code}, ${t.verdict}`).join('\n')}`,
  )
})

describe('verify-migration while mau consume and a Druid Kafka supervisor both ingest live traffic', () => {
  it('passes every run during the traffic, as match or in-flight', async () => {
    for (let run = 1; run <= 5; run++) {
      const r = await verify(`during traffic #${run}`)
      expect(r.stderr).toBe('')
      expect(r.code, r.stdout).toBe(0)
      expect(['match', 'in-flight']).toContain(r.doc.verdict)
      expect(r.doc.ok).toBe(true)
      if (r.doc.verdict === 'in-flight') {
        expect(r.doc.inFlight.partitions).toHaveLength(2)
        expect(
          r.doc.rows
            .filter((x: {verdict: string}) => x.verdict === 'in-flight')
            .every((x: {inFlight: {events: number}}) => x.inFlight.events > 0),
        ).toBe(true)
      }
    }
  })

  // doctor --druid against the real thing (test/druid/double-write: the stand-in has no supervisor API).
  it("doctor --druid reports the supervisor running on the consumer's topic, its lag, and the datasource's columns", async () => {
    const denv = {...env(), MAU_KAFKA_TOPICS: topic.topic}
    const good = await mauAsync(['doctor', '--druid', '--json'], denv)
    expect(good.code, good.stdout).toBe(0)
    const checks = JSON.parse(good.stdout).checks as {name: string; ok: boolean; detail: string}[]
    expect(checks.find((c) => c.name === 'druid supervisor')).toMatchObject({
      ok: true,
      detail: expect.stringMatching(
        new RegExp(`^"${datasource}" RUNNING on ${topic.topic}, lag (\\d+ messages|unknown)$`),
      ),
    })
    expect(checks.find((c) => c.name === 'druid datasource')).toMatchObject({
      ok: true,
      detail: expect.stringContaining('columns __time, user_id, environment_namespace, source_id;'),
    })
    const badColumn = await mauAsync(['doctor', '--druid', '--json', '--druid-user-column', 'userId'], denv)
    expect(badColumn.code).toBe(2)
    expect(JSON.parse(badColumn.stdout).checks.find((c: {name: string}) => c.name === 'druid datasource').detail).toBe(
      `${datasource} at ${DRUID_BROKER_URL} lacks column userId`,
    )
    const otherTopic = await mauAsync(['doctor', '--druid', '--json'], {...denv, MAU_KAFKA_TOPICS: 'user-events'})
    expect(otherTopic.code).toBe(2)
    expect(JSON.parse(otherTopic.stdout).checks.find((c: {name: string}) => c.name === 'druid supervisor').detail).toBe(
      `"${datasource}" reads topic "${topic.topic}", not the consumer's user-events`,
    )
    const none = await mauAsync(['doctor', '--druid', '--json', '--druid-supervisor', 'no_such_supervisor'], denv)
    expect(none.code).toBe(2)
    const noneCheck = JSON.parse(none.stdout).checks.find((c: {name: string}) => c.name === 'druid supervisor')
    expect(noneCheck.detail).toContain('has no supervisor "no_such_supervisor": it is not ingesting from Kafka')
    expect(noneCheck.fix).toContain('--no-in-flight')
  })

  it('with the consumer stopped for a while, passes or says 4, never fails; a gap over --max-in-flight says 4', async () => {
    await stopConsumer()
    const sentAtStop = traffic.sent
    await until('a gap of 1,500 messages', async () => traffic.sent - sentAtStop >= 1_500)
    const behind = await verify('consumer stopped')
    expect([0, 4]).toContain(behind.code)
    if (behind.code === 0) expect(behind.doc.verdict).toBe('in-flight')
    const tooFar = await verify('consumer stopped, --max-in-flight 500', ['--max-in-flight', '500'])
    expect(tooFar.code).toBe(4)
    expect(tooFar.doc.error).toMatchObject({code: 'IN_FLIGHT_TOO_LARGE', exitCode: 4})
    expect(tooFar.doc.error.message).toMatch(
      /^\d+ messages of mau-test-\S+ lie between MySQL's and Druid's positions: more than --max-in-flight 500/,
    )
    startConsumer()
    await until('the consumer caught up', async () => {
      const [m, marks] = [await mauOffsets(), await highWaterMarks()]
      return ['0', '1'].every((p) => (marks[p] ?? 0) - (m[p] ?? 0) < 300)
    })
    const after = await verify('consumer restarted')
    expect(after.code).toBe(0)
  })

  it('fails every run, naming the user, when an event is missing from MySQL', async () => {
    const [row] = await query(db.settings, "SELECT * FROM mau WHERE user_id = 'quiet-7'")
    expect(row).toBeDefined()
    await query(db.settings, "DELETE FROM mau WHERE user_id = 'quiet-7'")
    await query(db.settings, "DELETE FROM mau_user_month WHERE user_id = 'quiet-7'")
    await query(
      db.settings,
      "UPDATE mau_summary SET users = users - 1, events = events - 1 WHERE environment_namespace = 'env-0' AND yearmonth = ? AND source_id IN ('IOS', '')",
      [month],
    )
    try {
      for (let run = 1; run <= 3; run++) {
        const r = await verify(`quiet-7 removed #${run}`)
        expect(r.code, r.stdout).toBe(1)
        expect(r.doc.verdict).toBe('mismatch')
        const failed = r.doc.rows.filter((x: {verdict: string}) => x.verdict === 'mismatch')
        expect(
          failed
            .map((x: {environment_namespace: string; source_id: string}) => `${x.environment_namespace}/${x.source_id}`)
            .sort(),
        ).toEqual(['env-0/', 'env-0/IOS'])
        for (const line of failed) expect(line.notInFlight).toEqual(['quiet-7'])
      }
      const human = await mauAsync(['verify-migration', '--month', month], env())
      expect(human.code).toBe(1)
      expect(human.stdout).toContain('not explained by the messages in flight (env-0/IOS): "quiet-7"')
    } finally {
      await query(db.settings, 'INSERT INTO mau SET ?', [row])
      await query(
        db.settings,
        "INSERT INTO mau_user_month (environment_namespace, yearmonth, user_id) VALUES ('env-0', ?, 'quiet-7')",
        [month],
      )
      await query(
        db.settings,
        "UPDATE mau_summary SET users = users + 1, events = events + 1 WHERE environment_namespace = 'env-0' AND yearmonth = ? AND source_id IN ('IOS', '')",
        [month],
      )
    }
  })

  it('fails, naming the user, when MySQL holds an event Druid never saw', async () => {
    const [row] = await query(db.settings, "SELECT * FROM mau WHERE user_id = 'quiet-8'")
    await query(db.settings, 'INSERT INTO mau SET ?', [{...row, user_id: 'ghost-1', event_count: 1}])
    await query(
      db.settings,
      "INSERT INTO mau_user_month (environment_namespace, yearmonth, user_id) VALUES ('env-0', ?, 'ghost-1')",
      [month],
    )
    await query(
      db.settings,
      "UPDATE mau_summary SET users = users + 1, events = events + 1 WHERE environment_namespace = 'env-0' AND yearmonth = ? AND source_id IN ('IOS', '')",
      [month],
    )
    try {
      const r = await verify('ghost-1 only in MySQL')
      expect(r.code, r.stdout).toBe(1)
      const line = r.doc.rows.find(
        (x: {environment_namespace: string; source_id: string}) =>
          x.environment_namespace === 'env-0' && x.source_id === 'IOS',
      )
      expect(line).toMatchObject({verdict: 'mismatch', notInFlight: ['ghost-1'], onlyInMysql: ['ghost-1']})
    } finally {
      await query(db.settings, "DELETE FROM mau WHERE user_id = 'ghost-1'")
      await query(db.settings, "DELETE FROM mau_user_month WHERE user_id = 'ghost-1'")
      await query(
        db.settings,
        "UPDATE mau_summary SET users = users - 1, events = events - 1 WHERE environment_namespace = 'env-0' AND yearmonth = ? AND source_id IN ('IOS', '')",
        [month],
      )
    }
  })

  it('says match once the traffic stops and both sides have caught up', async () => {
    traffic.stop()
    await traffic.done
    const marks = await highWaterMarks()
    await until('both sides at the end of the topic', async () => {
      const [m, d] = [await mauOffsets(), await supervisorOffsets(datasource)]
      return ['0', '1'].every((p) => m[p] === marks[p] && d[p] === marks[p])
    })
    const r = await verify('traffic stopped')
    expect(r.code, r.stdout).toBe(0)
    expect(r.doc.verdict).toBe('match')
    expect(r.doc.rows.every((x: {verdict: string}) => x.verdict === 'match')).toBe(true)
    const events = r.doc.rows
      .filter((x: {source_id: string}) => x.source_id === '')
      .reduce((n: number, x: {mysql: {events: number}}) => n + x.mysql.events, 0)
    expect(events).toBe(traffic.sent + 200)
  })

  it("says 4, never pass or fail, when lines differ and Druid's position cannot be read; 2 when the supervisor reads another topic", async () => {
    await fetch(`${OVERLORD_URL}/druid/indexer/v1/supervisor/${datasource}/suspend`, {method: 'POST'})
    const producer = kafka('mau-test-after').producer()
    await producer.connect()
    await producer.send({
      topic: topic.topic,
      acks: -1,
      messages: Array.from({length: 50}, (_, i) => ({value: liveEvent(i), partition: i % 2})),
    })
    await producer.disconnect()
    const marks = await highWaterMarks()
    await until('the consumer applied them', async () => {
      const m = await mauOffsets()
      return ['0', '1'].every((p) => m[p] === marks[p])
    })
    const r = await verify('supervisor suspended, MySQL ahead')
    expect(r.code, r.stdout).toBe(4)
    expect(r.doc.error).toMatchObject({code: 'POSITION_UNREADABLE'})
    expect(r.doc.error.message).toMatch(
      new RegExp(
        `^Druid supervisor "${datasource}" is (SUSPENDED|[A-Z_]+ \\(suspended\\)) and no task reports its offsets\\.$`,
      ),
    )
    const other = await mauAsync(['verify-migration', '--month', month, '--json'], {
      ...env(),
      MAU_KAFKA_TOPICS: 'user-events',
    })
    expect(other.code).toBe(2)
    expect(JSON.parse(other.stdout).error).toMatchObject({
      code: 'TOPIC_MISMATCH',
      message: `Druid supervisor "${datasource}" reads topic "${topic.topic}", which mau does not consume (--topic user-events).`,
    })
  })
})
