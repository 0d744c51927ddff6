import {createHmac} from 'node:crypto'
import {afterEach, beforeEach, describe, expect, it} from 'vitest'
import {rebuildSummary} from '../../src/mau/summary.js'
import {deliverAll, idempotencyKey, parseDestination, type RetryPolicy} from '../../src/report/deliver.js'
import {buildReport} from '../../src/report/build.js'
import {toSlackText} from '../../src/report/format.js'
import {openDb, type Db} from '../../src/core/db.js'
import {query} from '../fixtures/mau.js'
import {scriptedServer} from '../helpers/http.js'
import {createTestDatabase, type TestDatabase} from '../fixtures/services.js'

let db: TestDatabase
let pool: Db
const fast: RetryPolicy = {timeoutMs: 300, maxAttempts: 4, baseDelayMs: 20, maxDelayMs: 2_000}

beforeEach(async () => {
  db = await createTestDatabase({migrated: true})
  pool = openDb(db.settings)
  const insert =
    'INSERT INTO mau (environment_namespace, yearmonth, source_id, user_id, event_count, created_at, updated_at) VALUES (?, ?, ?, ?, ?, 0, 0)'
  for (const [ns, ym, src, user, n] of [
    ['prod', '202212', 'IOS', 'alice', 3],
    ['prod', '202212', 'ANDROID', 'alice', 2],
    ['prod', '202212', 'WEB', 'bob', 1],
    ['dev', '202212', 'WEB', 'carol', 4],
    ['prod', '202211', 'IOS', 'alice', 9],
  ] as const)
    await query(db.settings, insert, [ns, ym, src, user, n])
  for (const m of ['202211', '202212']) await rebuildSummary(pool, m)
})
afterEach(async () => {
  await pool.end()
  await db.drop()
})

const report = () => buildReport(pool, '202212', [], new Date('2023-01-01T00:05:00Z'))

describe('the report document', () => {
  it('holds each environment with the month before, and totals', async () => {
    const doc = await report()
    expect(doc).toMatchObject({
      month: '202212',
      previous_month: '202211',
      generated_at: '2023-01-01T00:05:00.000Z',
      totals: {users: 3, events: 10, previous: {users: 1, events: 9}},
    })
    expect(doc.environments.map((e) => [e.environment_namespace, e.users, e.events, e.previous])).toEqual([
      ['dev', 1, 4, null],
      ['prod', 2, 6, {users: 1, events: 9}],
    ])
  })
})

describe('deliverAll', () => {
  it('posts the JSON document with an Idempotency-Key and an HMAC signature, then skips it on a second run', async () => {
    const server = await scriptedServer((_, res) => res.writeHead(200).end('ok'))
    try {
      const d = parseDestination(`webhook:${server.url}`, {})
      const first = await deliverAll(pool, await report(), [d], {
        force: false,
        retry: fast,
        webhookSecret: 'shh-signing-key',
      })
      expect(first).toEqual([{destination: d.key, status: 'sent', attempts: 1, message: 'delivered'}])
      const [req] = server.received
      expect(JSON.parse(req!.body)).toEqual(JSON.parse(JSON.stringify(await report())))
      expect(req!.headers['idempotency-key']).toBe(idempotencyKey('202212', d.key))
      expect(req!.headers['x-mau-signature']).toBe(
        `sha256=${createHmac('sha256', 'shh-signing-key').update(req!.body).digest('hex')}`,
      )
      const second = await deliverAll(pool, await report(), [d], {force: false, retry: fast})
      expect(second[0]).toMatchObject({
        status: 'skipped',
        message: 'already delivered for 202212 (use --force to send again)',
      })
      expect(server.received).toHaveLength(1)
      await deliverAll(pool, await report(), [d], {force: true, retry: fast})
      expect(server.received).toHaveLength(2)
    } finally {
      await server.close()
    }
  })

  it('retries a 500 twice, then succeeds on the third attempt', async () => {
    const server = await scriptedServer((n, res) => res.writeHead(n <= 2 ? 500 : 200).end(n <= 2 ? 'busy' : 'ok'))
    try {
      const [r] = await deliverAll(pool, await report(), [parseDestination(`webhook:${server.url}`, {})], {
        force: false,
        retry: fast,
      })
      expect(r).toMatchObject({status: 'sent', attempts: 3})
      expect(server.received).toHaveLength(3)
    } finally {
      await server.close()
    }
  })

  it("waits as long as a 429's Retry-After says before trying again", async () => {
    const server = await scriptedServer((n, res) =>
      n === 1 ? res.writeHead(429, {'retry-after': '1'}).end('slow down') : res.writeHead(200).end(),
    )
    try {
      const [r] = await deliverAll(pool, await report(), [parseDestination(`webhook:${server.url}`, {})], {
        force: false,
        retry: fast,
      })
      expect(r).toMatchObject({status: 'sent', attempts: 2})
      expect(server.received[1]!.at - server.received[0]!.at).toBeGreaterThanOrEqual(950)
    } finally {
      await server.close()
    }
  })

  it('gives up on a server that never answers, and still delivers to the other destinations', async () => {
    const hanging = await scriptedServer(() => undefined)
    const ok = await scriptedServer((_, res) => res.writeHead(200).end())
    try {
      const results = await deliverAll(
        pool,
        await report(),
        [parseDestination(`webhook:${hanging.url}`, {}), parseDestination(`webhook:${ok.url}`, {})],
        {force: false, retry: fast},
      )
      expect(results.map((r) => r.status)).toEqual(['failed', 'sent'])
      expect(results[0]).toMatchObject({attempts: 4, message: 'gave up after 4 attempts: no answer within 300 ms'})
      expect(hanging.received).toHaveLength(4)
      const recorded = await query(db.settings, 'SELECT destination FROM mau_report_delivery')
      expect(recorded).toEqual([{destination: `webhook:${ok.url}`}]) // a failure is not recorded: the next run tries again
    } finally {
      await hanging.close()
      await ok.close()
    }
  })

  it("fails at once on a 4xx other than 429, with the response's message", async () => {
    const server = await scriptedServer((_, res) => res.writeHead(400).end('unknown field "totals"'))
    try {
      const [r] = await deliverAll(pool, await report(), [parseDestination(`webhook:${server.url}`, {})], {
        force: false,
        retry: fast,
      })
      expect(r).toMatchObject({status: 'failed', attempts: 1, message: 'HTTP 400: unknown field "totals"'})
      expect(server.received).toHaveLength(1)
    } finally {
      await server.close()
    }
  })

  it.each([6000, 5060, 10080])('fails at once, without retrying, on port %i that fetch refuses', async (port) => {
    const [r] = await deliverAll(
      pool,
      await report(),
      [parseDestination(`webhook:http://127.0.0.1:${port}/hook`, {})],
      {force: false, retry: fast},
    )
    expect(r).toMatchObject({
      status: 'failed',
      attempts: 1,
      message: `fetch refuses port ${port} (a "bad port" of the Fetch standard): use another port for the receiver`,
    })
  })

  it('posts the Slack text as the message to the incoming webhook', async () => {
    const server = await scriptedServer((_, res) => res.writeHead(200).end('ok'))
    try {
      await deliverAll(pool, await report(), [parseDestination('slack', {slackUrl: server.url})], {
        force: false,
        retry: fast,
      })
      expect(JSON.parse(server.received[0]!.body)).toEqual({text: toSlackText(await report())})
    } finally {
      await server.close()
    }
  })
})
