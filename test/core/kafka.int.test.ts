/**
 * A rolling upgrade as the pods' logs show it: consumer B joins A's group, then A stops. Each rebalance
 * makes kafkajs log the broker's "The group is rebalancing" answers; they must be info lines, so that an
 * error line in a pod still means an error. The built CLI, against the real broker.
 */
import {spawn, type ChildProcess} from 'node:child_process'
import {afterEach, beforeEach, describe, expect, it} from 'vitest'
import {createTestDatabase, createTopic, groupOf, type TestDatabase} from '../fixtures/services.js'
import {exited} from '../helpers/child.js'

let db: TestDatabase
let topic: {topic: string; drop: () => Promise<void>}
const children: ChildProcess[] = []

beforeEach(async () => {
  db = await createTestDatabase({migrated: true})
  topic = await createTopic(4)
})
afterEach(async () => {
  for (const c of children.splice(0)) {
    c.kill('SIGKILL')
    await exited(c)
  }
  await topic.drop()
  await db.drop()
})

interface Consumer {
  child: ChildProcess
  records: () => {level: string; msg: string; error?: string}[]
}

function startConsumer(): Consumer {
  const child = spawn(
    'node',
    ['bin/run.js', 'consume', '--topic', topic.topic, '--group', groupOf(topic.topic), '--session-timeout', '10'],
    {
      env: {...process.env, MAU_MYSQL_URL: db.url, MAU_LOG_LEVEL: 'info'},
    },
  )
  children.push(child)
  let stderr = ''
  child.stderr.on('data', (d) => (stderr += d))
  child.stdout.resume()
  const records = () =>
    stderr
      .split('\n')
      .filter((l) => l.startsWith('{'))
      .map((l) => JSON.parse(l) as {level: string; msg: string; error?: string})
  return {child, records}
}

async function until(what: () => boolean, ms = 60_000): Promise<void> {
  for (const end = Date.now() + ms; !what();) {
    if (Date.now() > end) throw new Error('timed out waiting')
    await new Promise((r) => setTimeout(r, 50))
  }
}

const joins = (c: Consumer) => c.records().filter((r) => r.msg === 'joined consumer group').length
const rebalancing = (c: Consumer) => c.records().filter((r) => /group is rebalancing/.test(`${r.msg} ${r.error ?? ''}`))

describe('kafkajs logs during a rolling upgrade of the consumers', () => {
  it('logs the rebalances as a member joins and another leaves at info, and nothing at error', async () => {
    const a = startConsumer()
    await until(() => joins(a) === 1)
    const b = startConsumer()
    // A hears of the rebalance at its next heartbeat and joins again, beside B.
    await until(() => joins(a) === 2 && joins(b) === 1)
    a.child.kill('SIGTERM')
    expect((await exited(a.child)).code).toBe(0)
    // B hears of A leaving, and takes every partition.
    await until(() => joins(b) === 2)
    b.child.kill('SIGTERM')
    expect((await exited(b.child)).code).toBe(0)

    for (const c of [a, b]) {
      expect(rebalancing(c).length).toBeGreaterThan(0)
      expect(rebalancing(c).map((r) => r.level)).toEqual(rebalancing(c).map(() => 'info'))
      expect(c.records().filter((r) => r.level === 'error' || r.level === 'fatal')).toEqual([])
    }
  }, 120_000)
})
