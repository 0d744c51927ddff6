import {createServer} from 'node:net'
import {afterAll, beforeAll, describe, expect, it} from 'vitest'
import {rebuildSummary} from '../../src/mau/summary.js'
import {openDb} from '../../src/core/db.js'
import {mau, mauAsync} from '../helpers/cli.js'
import {query} from '../fixtures/mau.js'
import {scriptedServer} from '../helpers/http.js'
import {createTestDatabase, type TestDatabase} from '../fixtures/services.js'

/** A port nothing listens on: taken from the OS, then released. */
const closedPort = () =>
  new Promise<number>((resolve) => {
    const server = createServer().listen(0, '127.0.0.1', () => {
      const {port} = server.address() as {port: number}
      server.close(() => resolve(port))
    })
  })

let db: TestDatabase
beforeAll(async () => {
  db = await createTestDatabase({migrated: true})
  await query(db.settings, "INSERT INTO mau VALUES ('alice', '202212', 'IOS', 3, 0, 0, 'prod')")
  const pool = openDb(db.settings)
  await rebuildSummary(pool, '202212')
  await pool.end()
})
afterAll(async () => {
  await db.drop()
})

describe('mau report show', () => {
  it('renders the report as Slack text, CSV or JSON without sending it', async () => {
    const env = {MAU_MYSQL_URL: db.url}
    const text = await mauAsync(['report', 'show', '--month', '202212'], env)
    expect(text.code).toBe(0)
    expect(text.stdout).toMatch(/\*Monthly active users, 2022-12\*/)
    expect(text.stdout).toMatch(/prod\s+1\s+3\s+-\s+-\s+new/)
    const csv = await mauAsync(['report', 'show', '--month', '202212', '--csv'], env)
    expect(csv.stdout.split('\n').slice(0, 2)).toEqual([
      'month,environment_namespace,source_id,users,events,previous_users,previous_events',
      '202212,prod,,1,3,,',
    ])
    const json = await mauAsync(['report', 'show', '--month', '202212', '--json'], env)
    expect(JSON.parse(json.stdout)).toMatchObject({
      month: '202212',
      previous_month: '202211',
      totals: {users: 1, events: 3},
    })
  })
})

describe('mau report send', () => {
  it("delivers once, says so on the second run, and never prints the webhook URL's secret or the signing key", async () => {
    const slack = await scriptedServer((_, res) => res.writeHead(200).end('ok'))
    const secretUrl = `${slack.url}/T000/B000/XoXoSeCrEtToKeN`
    const env = {MAU_MYSQL_URL: db.url, MAU_SLACK_WEBHOOK_URL: secretUrl, MAU_WEBHOOK_SECRET: 'hmac-signing-key-123'}
    try {
      const first = await mauAsync(['report', 'send', '--month', '202212', '--to', 'slack', '--json'], env)
      expect(first.code).toBe(0)
      expect(JSON.parse(first.stdout).months).toEqual([
        {month: '202212', deliveries: [{destination: 'slack', status: 'sent', attempts: 1, message: 'delivered'}]},
      ])
      const second = await mauAsync(['report', 'send', '--month', '202212', '--to', 'slack'], env)
      expect(second.code).toBe(0)
      expect(second.stdout).toContain('already delivered for 202212')
      expect(slack.received).toHaveLength(1)
      for (const out of [first, second]) {
        expect(out.stdout + out.stderr).not.toContain('XoXoSeCrEtToKeN')
        expect(out.stdout + out.stderr).not.toContain('hmac-signing-key-123')
      }
    } finally {
      await slack.close()
    }
  })

  it('exits 1 when a destination fails, naming it, without the secret in the message', async () => {
    const failing = await scriptedServer((_, res) => res.writeHead(403).end('invalid token'))
    try {
      // --force: the first test already delivered this month to slack
      const r = await mauAsync(['report', 'send', '--month', '202212', '--to', 'slack', '--force', '--json'], {
        MAU_MYSQL_URL: db.url,
        MAU_SLACK_WEBHOOK_URL: `${failing.url}/XoXoSeCrEtToKeN`,
      })
      expect(r.code).toBe(1)
      expect(JSON.parse(r.stdout).months[0].deliveries[0]).toMatchObject({
        status: 'failed',
        message: 'HTTP 403: invalid token',
      })
      expect(r.stdout + r.stderr).not.toContain('XoXoSeCrEtToKeN')
    } finally {
      await failing.close()
    }
  })

  it('refuses a month that is not over yet, and a destination it does not know', () => {
    const partial = mau(['report', 'send', '--month', '209901', '--to', 'stdout'], {MAU_MYSQL_URL: db.url})
    expect(partial.code).toBe(2)
    expect(partial.stderr).toContain('Month 209901 is not over yet in UTC')
    const bad = mau(['report', 'send', '--month', '202212', '--to', 'email:ops@example.com'], {MAU_MYSQL_URL: db.url})
    expect(bad.code).toBe(2)
    expect(bad.stderr).toContain('Invalid destination "email:ops@example.com": expected slack,')
  })

  it('prints the document on stdout as CSV, and only the document: the outcome goes to stderr', () => {
    const r = mau(['report', 'send', '--month', '202212', '--to', 'stdout:csv'], {MAU_MYSQL_URL: db.url})
    expect(r.code).toBe(0)
    expect(r.stdout).toBe(
      'month,environment_namespace,source_id,users,events,previous_users,previous_events\n202212,prod,,1,3,,\n202212,prod,IOS,1,3,,\n202212,,,1,3,0,0\n',
    )
    expect(r.stderr).toMatch(/stdout.*sent/)
  })

  it('with --to stdout --json, stdout carries the report and then the result, one JSON document per line', () => {
    const r = mau(['report', 'send', '--month', '202212', '--to', 'stdout', '--json'], {MAU_MYSQL_URL: db.url})
    expect(r.code).toBe(0)
    const [report, result, ...rest] = r.stdout
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l))
    expect(rest).toEqual([])
    expect(report).toMatchObject({month: '202212', totals: {users: 1, events: 3}})
    expect(result).toEqual({
      timezone: 'UTC',
      currentMonth: expect.stringMatching(/^\d{6}$/),
      months: [
        {month: '202212', deliveries: [{destination: 'stdout', status: 'sent', attempts: 1, message: 'delivered'}]},
      ],
    })
  })

  it('names the cause of a failed delivery (connection refused), not only "fetch failed"', async () => {
    const port = await closedPort()
    const r = await mauAsync(
      [
        'report',
        'send',
        '--month',
        '202212',
        '--to',
        `webhook:http://127.0.0.1:${port}/hook`,
        '--max-attempts',
        '1',
        '--json',
      ],
      {MAU_MYSQL_URL: db.url},
    )
    expect(r.code).toBe(1)
    expect(JSON.parse(r.stdout).months[0].deliveries[0]).toMatchObject({
      status: 'failed',
      message: `gave up after 1 attempts: fetch failed: connect ECONNREFUSED 127.0.0.1:${port}`,
    })
  })

  it('takes --timeout and --max-attempts from the environment', async () => {
    // A closed port, not port 1: fetch refuses that one before trying (a "bad port"), and it is not retried.
    const r = await mauAsync(
      ['report', 'send', '--month', '202212', '--to', `webhook:http://127.0.0.1:${await closedPort()}/hook`, '--json'],
      {MAU_MYSQL_URL: db.url, MAU_REPORT_MAX_ATTEMPTS: '2'},
    )
    expect(JSON.parse(r.stdout).months[0].deliveries[0]).toMatchObject({status: 'failed', attempts: 2})
  })
})

describe('mau report show --months', () => {
  it('adds the totals of the months before, with their change', async () => {
    const env = {MAU_MYSQL_URL: db.url}
    const json = JSON.parse(
      (await mauAsync(['report', 'show', '--month', '202301', '--months', '3', '--json'], env)).stdout,
    )
    expect(json.history).toEqual([
      {month: '202211', users: 0, events: 0, users_change_percent: null, events_change_percent: null},
      {month: '202212', users: 1, events: 3, users_change_percent: null, events_change_percent: null},
      {month: '202301', users: 0, events: 0, users_change_percent: -100, events_change_percent: -100},
    ])
    const text = (await mauAsync(['report', 'show', '--month', '202301', '--months', '3'], env)).stdout
    expect(text).toMatch(/\*Last 3 months\*[\s\S]*2022-12\s+1\s+new\s+3\s+new[\s\S]*2023-01\s+0\s+-100\.0%/)
  })
})
