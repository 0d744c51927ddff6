import {spawn, spawnSync, type ChildProcess} from 'node:child_process'
import type {RowDataPacket} from 'mysql2/promise'
import {afterEach, beforeEach, describe, expect, it} from 'vitest'
import {rng} from '../fixtures/events.js'
import {checkSummary} from '../../src/mau/summary.js'
import {openDb} from '../../src/core/db.js'
import {eventsApplied, produceSample, query, readRows, thisMonthSoFar} from '../fixtures/mau.js'
import {createTestDatabase, createTopic, groupOf, type TestDatabase} from '../fixtures/services.js'

// The built CLI in child processes, killed and stopped as Kubernetes would.
let db: TestDatabase
let topic: {topic: string; drop: () => Promise<void>} | undefined

beforeEach(async () => {
  db = await createTestDatabase({migrated: true})
})
afterEach(async () => {
  await topic?.drop()
  topic = undefined
  await db.drop()
})

function start(args: string[]): {
  child: ChildProcess
  exit: Promise<{code: number | null; signal: string | null; stdout: string}>
} {
  const child = spawn(
    'node',
    [
      'bin/run.js',
      'consume',
      '--topic',
      topic!.topic,
      '--group',
      groupOf(topic!.topic),
      '--batch-size',
      '500',
      '--session-timeout',
      '6',
      ...args,
    ],
    {
      env: {...process.env, MAU_MYSQL_URL: db.url, MAU_LOG_LEVEL: 'warn'},
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  )
  let stdout = ''
  child.stdout.on('data', (d) => (stdout += d))
  child.stderr.resume()
  const exit = new Promise<{code: number | null; signal: string | null; stdout: string}>((resolve) =>
    child.on('exit', (code, signal) => resolve({code, signal, stdout})),
  )
  return {child, exit}
}

const appliedSoFar = () => eventsApplied(db.settings)

describe('mau consume under kill -9', () => {
  it('ends with exactly the ground truth after being killed at random points and restarted', async () => {
    topic = await createTopic(3)
    const truth = await produceSample(topic.topic, 3, {
      events: 60_000,
      users: 5_000,
      namespaces: 4,
      seed: 7,
      ...thisMonthSoFar(),
    })

    const random = rng(Date.now())
    const killedAt: number[] = []
    for (let i = 0; i < 5; i++) {
      const before = await appliedSoFar()
      const {child, exit} = start(['--stop-at-end'])
      // Kill only once this process is writing, at a random moment of it: mid-batch, mid-commit or between.
      while ((await appliedSoFar()) === before && child.exitCode === null) await new Promise((r) => setTimeout(r, 20))
      await new Promise((r) => setTimeout(r, random() * 150))
      child.kill('SIGKILL')
      await exit
      killedAt.push(await appliedSoFar())
    }
    const last = start(['--stop-at-end', '--json'])
    const result = await last.exit
    expect(result.code).toBe(0)

    expect(killedAt.filter((n) => n > 0 && n < 60_000).length).toBeGreaterThanOrEqual(4) // the kills landed mid-stream
    expect(await readRows(db.settings)).toEqual(truth.rows)
    const offsets = await query<RowDataPacket>(
      db.settings,
      'SELECT CAST(SUM(next_offset) AS SIGNED) AS n FROM mau_consumer_offset',
    )
    expect(offsets[0]?.n).toBe(60_000)
    const pool = openDb(db.settings)
    for (const month of new Set([...truth.rows.keys()].map((k) => k.split('|')[1]!)))
      expect(await checkSummary(pool, month)).toMatchObject({ok: true, differences: []}) // the counters survived the kills too
    await pool.end()
  })
})

describe('mau consume on SIGTERM', () => {
  it('stops cleanly within the grace period, exits 0 and leaves rows and offsets consistent', async () => {
    topic = await createTopic(2)
    await produceSample(topic.topic, 2, {events: 30_000, users: 3_000, namespaces: 3, seed: 9})
    const {child, exit} = start(['--json'])
    const deadline = Date.now() + 30_000
    while ((await appliedSoFar()) === 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100))
    const sentAt = Date.now()
    child.kill('SIGTERM')
    const result = await exit
    expect(Date.now() - sentAt).toBeLessThan(30_000)
    expect(result.code).toBe(0)
    expect(JSON.parse(result.stdout)).toMatchObject({stoppedBy: 'signal'})
    const offsets = await query<RowDataPacket>(
      db.settings,
      'SELECT CAST(SUM(GREATEST(next_offset, 0)) AS SIGNED) AS n FROM mau_consumer_offset',
    )
    expect(await appliedSoFar()).toBe(offsets[0]?.n)
  })
})

describe('mau consume flags', () => {
  it('still takes the old --from-time, as --since', async () => {
    topic = await createTopic(1)
    await produceSample(topic.topic, 1, {events: 50, users: 10, namespaces: 1, seed: 3})
    const {exit} = start(['--stop-at-end', '--json', '--from-time', '2000-01-01T00:00:00Z'])
    const r = await exit
    expect(r.code).toBe(0)
    expect(JSON.parse(r.stdout)).toMatchObject({consumed: 50, startedFromTime: [{topic: topic.topic, partitions: [0]}]})
  })

  it('refuses a session timeout in milliseconds where seconds are expected', () => {
    const r = spawnSync('node', ['bin/run.js', 'consume', '--session-timeout', '30000', '--json'], {
      encoding: 'utf8',
      env: {...process.env, MAU_MYSQL_URL: db.url},
    })
    expect(r.status).toBe(2)
    expect(JSON.parse(r.stdout).error.message).toMatch(/3600/)
  })
})

describe('mau consume --stop-at-end at a terminal', () => {
  it('shows messages done of the total, the percentage and the rate on one status line', async () => {
    topic = await createTopic(2)
    await produceSample(topic.topic, 2, {events: 20_000, users: 2_000, namespaces: 2, seed: 5})
    // Without CI in the environment: the CLI draws nothing for a CI job, and this is about a person's terminal.
    const {CI: _ci, ...env} = process.env
    const r = spawnSync(
      'script',
      [
        '-qec',
        `stty cols 120 rows 40; node bin/run.js consume --topic ${topic.topic} --group ${groupOf(topic.topic)} --stop-at-end`,
        '/dev/null',
      ],
      {
        encoding: 'utf8',
        timeout: 60_000,
        env: {...env, MAU_MYSQL_URL: db.url},
      },
    )
    expect(r.status).toBe(0)
    expect(r.stdout).toMatch(/Consuming {2}[\d,]+\/20,000 messages {2}\d+%/)
    expect(r.stdout).toMatch(/│\s+20,000 │/)
  })
})

describe('mau consume when a service is missing', () => {
  it("exits 4 naming Kafka when the brokers cannot be reached, with kafkajs' complaints one line each and no stack", () => {
    const r = spawnSync('node', ['bin/run.js', 'consume', '--brokers', '127.0.0.1:1', '--stop-at-end', '--json'], {
      encoding: 'utf8',
      env: {...process.env, MAU_MYSQL_URL: db.url, MAU_LOG_LEVEL: 'info'},
    })
    expect(r.status).toBe(4)
    expect(JSON.parse(r.stdout).error).toMatchObject({
      code: 'KAFKA_UNAVAILABLE',
      message: expect.stringContaining('Kafka at 127.0.0.1:1 is unavailable'),
    })
    expect(r.stderr).not.toMatch(/\n\s+at /)
    for (const line of r.stderr.trim().split('\n')) expect(() => JSON.parse(line), line).not.toThrow()
  })

  it('exits 2 at once naming a topic that does not exist', () => {
    const started = Date.now()
    const r = spawnSync('node', ['bin/run.js', 'consume', '--topic', 'no-such-topic-mau', '--stop-at-end', '--json'], {
      encoding: 'utf8',
      env: {...process.env, MAU_MYSQL_URL: db.url},
    })
    expect(r.status).toBe(2)
    expect(JSON.parse(r.stdout).error).toMatchObject({
      code: 'TOPIC_NOT_FOUND',
      message: 'Kafka topic "no-such-topic-mau" does not exist at 127.0.0.1:9092.',
    })
    expect(Date.now() - started).toBeLessThan(5_000)
  })

  it('exits 5 and says to migrate when the schema is missing', async () => {
    const empty = await createTestDatabase()
    try {
      const r = spawnSync('node', ['bin/run.js', 'consume', '--json'], {
        encoding: 'utf8',
        env: {...process.env, MAU_MYSQL_URL: empty.url},
      })
      expect(r.status).toBe(5)
      expect(JSON.parse(r.stdout).error.suggestions).toEqual(['Run `mau db migrate`.'])
    } finally {
      await empty.drop()
    }
  })
})
