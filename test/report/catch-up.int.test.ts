/**
 * report send without --month, run at chosen instants (libfaketime) against a real database and real
 * deliveries (a webhook and files): a month leaves once it has ended in the recorded zone, within the day
 * wherever that zone is, every month missed is caught up oldest first, and none is sent twice.
 */
import {mkdtempSync, readdirSync, readFileSync, rmSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {afterAll, beforeAll, describe, expect, it} from 'vitest'
import {openDb} from '../../src/core/db.js'
import {rebuildSummary} from '../../src/mau/summary.js'
import {query} from '../fixtures/mau.js'
import {createTestDatabase, type TestDatabase} from '../fixtures/services.js'
import {mauAt} from '../helpers/cli.js'
import {scriptedServer} from '../helpers/http.js'

type Hook = Awaited<ReturnType<typeof scriptedServer>>
let hook: Hook
const databases: TestDatabase[] = []
let dir: string

beforeAll(async () => {
  hook = await scriptedServer((_, res) => res.writeHead(200).end('ok'))
  dir = mkdtempSync(join(tmpdir(), 'mau-catch-up-'))
})
afterAll(async () => {
  await hook.close()
  await Promise.all(databases.map((d) => d.drop()))
  rmSync(dir, {recursive: true, force: true})
})

/** A database whose months hold one user each, its zone recorded by a first workload run with MAU_TIMEZONE. */
async function database(zone: string, months: string[]): Promise<TestDatabase> {
  const db = await createTestDatabase({migrated: true})
  databases.push(db)
  const pool = openDb(db.settings)
  try {
    for (const [i, m] of months.entries()) {
      await query(db.settings, 'INSERT INTO mau VALUES (?, ?, ?, ?, 0, 0, ?)', [`user-${i}`, m, 'IOS', i + 1, 'prod'])
      await rebuildSummary(pool, m)
    }
  } finally {
    await pool.end()
  }
  const first = await mauAt('2026-09-15 12:00:00', ['db', 'timezone', '--set', zone, '--force', '--json'], {
    MAU_MYSQL_URL: db.url,
  })
  expect(first.code, first.stderr).toBe(0)
  return db
}

/** The months the webhook received for a database's key, in order of arrival. */
const monthsReceived = (since: number) =>
  hook.received.slice(since).map((r) => (JSON.parse(r.body) as {month: string}).month)

const send = async (
  at: string,
  db: TestDatabase,
  to: string[],
  extra: string[] = [],
  env: Record<string, string> = {},
) => {
  const r = await mauAt(at, ['report', 'send', ...to.flatMap((t) => ['--to', t]), ...extra, '--json'], {
    MAU_MYSQL_URL: db.url,
    ...env,
  })
  return {
    ...r,
    json:
      r.code === 0 || r.code === 1
        ? (JSON.parse(r.stdout) as {
            timezone: string
            currentMonth: string
            months: {month: string; deliveries: {destination: string; status: string}[]}[]
          })
        : undefined,
  }
}

describe('report send on the 1st, in any zone (the report CronJob runs daily at 01:30 UTC)', () => {
  // At 01:30 UTC on 1 December it is still 30 November in Los Angeles, already 1 December in Tokyo and UTC.
  it.each([
    ['America/Los_Angeles', [], ['202611']],
    ['Asia/Tokyo', ['202611'], []],
    ['UTC', ['202611'], []],
  ])('%s: 01:30 UTC sends %j, 09:00 UTC sends %j, and November goes once', async (zone, at0130, at0900) => {
    const db = await database(zone, ['202609', '202610', '202611'])
    const to = `webhook:${hook.url}?db=${zone}`
    const before = hook.received.length
    // October was delivered in its time.
    expect((await send('2026-11-02 10:00:00', db, [to])).json?.months.map((m) => m.month)).toEqual(['202610'])
    const early = await send('2026-12-01 01:30:00', db, [to])
    expect(early.code, early.stderr).toBe(0)
    expect(early.json).toMatchObject({timezone: zone})
    expect(early.json!.months.map((m) => m.month)).toEqual(at0130)
    const later = await send('2026-12-01 09:00:00', db, [to])
    expect(later.code, later.stderr).toBe(0)
    expect(later.json!.months.map((m) => m.month)).toEqual(at0900)
    expect(later.json!.currentMonth).toBe('202612')
    expect(monthsReceived(before)).toEqual(['202610', '202611'])
  })
})

describe('report send catches up', () => {
  it('sends every month missed, oldest first, to each destination from its own last delivery, to a webhook and to files', async () => {
    const db = await database('America/Los_Angeles', ['202608', '202609', '202610', '202611'])
    const webhook = `webhook:${hook.url}?db=missed`
    const file = `file:${join(dir, 'mau-{month}.json')}`
    const before = hook.received.length
    expect((await send('2026-09-01 12:00:00', db, [webhook])).json?.months.map((m) => m.month)).toEqual(['202608'])
    // The cluster was down through October and November: the next run, on 2 December, sends September, October and November.
    const r = await send('2026-12-02 01:30:00', db, [webhook, file])
    expect(r.code, r.stderr).toBe(0)
    expect(r.json!.months.map((m) => [m.month, m.deliveries.map((d) => `${d.destination} ${d.status}`)])).toEqual([
      ['202609', [`${webhook} sent`]],
      ['202610', [`${webhook} sent`]],
      ['202611', [`${webhook} sent`, `${file} sent`]],
    ])
    expect(monthsReceived(before)).toEqual(['202608', '202609', '202610', '202611'])
    // The file had no delivery before: just the month before the current one.
    expect(readdirSync(dir).filter((f) => f.startsWith('mau-'))).toEqual(['mau-202611.json'])
    expect(JSON.parse(readFileSync(join(dir, 'mau-202611.json'), 'utf8'))).toMatchObject({
      month: '202611',
      totals: {users: 1, events: 4},
    })
    // Each month is sent once: the day after, nothing is due.
    const again = await send('2026-12-03 01:30:00', db, [webhook, file])
    expect(again.json!.months).toEqual([])
    expect(again.stdout + again.stderr).not.toContain('"sent"')
    expect(monthsReceived(before)).toHaveLength(4)
  })

  it("holds a destination's later months after one fails, and the next run sends them in order", async () => {
    let fail = false
    const flaky = await scriptedServer((_, res) =>
      fail ? res.writeHead(503).end('down') : res.writeHead(200).end('ok'),
    )
    try {
      const db = await database('UTC', ['202609', '202610', '202611'])
      const to = `webhook:${flaky.url}`
      expect((await send('2026-10-02 01:30:00', db, [to])).json?.months.map((m) => m.month)).toEqual(['202609'])
      fail = true
      const failed = await send('2026-12-02 01:30:00', db, [to], ['--max-attempts', '1'])
      expect(failed.code).toBe(1)
      expect(failed.json!.months.map((m) => [m.month, m.deliveries[0]!.status])).toEqual([
        ['202610', 'failed'],
        ['202611', 'skipped'],
      ])
      fail = false
      const retried = await send('2026-12-03 01:30:00', db, [to])
      expect(retried.code, retried.stderr).toBe(0)
      expect(retried.json!.months.map((m) => [m.month, m.deliveries[0]!.status])).toEqual([
        ['202610', 'sent'],
        ['202611', 'sent'],
      ])
      expect(flaky.received.map((r) => (JSON.parse(r.body) as {month: string}).month)).toEqual([
        '202609',
        '202610',
        '202610',
        '202611',
      ])
    } finally {
      await flaky.close()
    }
  })
})

describe('a month not over', () => {
  it('is never sent without --allow-partial, with or without --month', async () => {
    const db = await database('America/Los_Angeles', ['202610', '202611'])
    const file = `file:${join(dir, 'partial-{month}.json')}`
    // 1 December 07:00 UTC: 23:00 on 30 November in Los Angeles.
    const named = await send('2026-12-01 07:00:00', db, [file], ['--month', '202611'])
    expect(named.code).toBe(2)
    expect(named.stdout).toContain('Month 202611 is not over yet in America/Los_Angeles')
    const due = await send('2026-12-01 07:00:00', db, [file])
    expect(due.json!.months.map((m) => m.month)).toEqual(['202610'])
    const partial = await send('2026-12-01 07:00:00', db, [file], ['--allow-partial'])
    expect(partial.json!.months.map((m) => m.month)).toEqual(['202611'])
    expect(
      readdirSync(dir)
        .filter((f) => f.startsWith('partial-'))
        .sort(),
    ).toEqual(['partial-202610.json', 'partial-202611.json'])
  })
})

describe('month ends on a daylight-saving transition', () => {
  // Los Angeles leaves daylight time on Sunday 1 November 2026 at 02:00: October ends at 00:00 PDT, 07:00 UTC (not 08:00).
  // Berlin leaves it on Sunday 31 October 2027 at 03:00: October ends at 00:00 CET, 23:00 UTC (not 22:00);
  // it entered it on Sunday 31 March 2024 at 02:00: March ended at 00:00 CEST, 22:00 UTC (not 23:00).
  it.each([
    ['America/Los_Angeles', '202609', '202610', '2026-10-05 12:00:00', '2026-11-01 06:59:00', '2026-11-01 07:00:30'],
    ['Europe/Berlin', '202709', '202710', '2027-10-05 12:00:00', '2027-10-31 22:59:00', '2027-10-31 23:00:30'],
    ['Europe/Berlin', '202402', '202403', '2024-03-05 12:00:00', '2024-03-31 21:59:00', '2024-03-31 22:00:30'],
  ])(
    '%s: %s sent, then %s stays until its last minute has passed and leaves at its end',
    async (zone, sent, month, first, lastMinute, justAfter) => {
      const db = await database(zone, [sent, month])
      const to = `file:${join(dir, `dst-${zone.replace('/', '-')}-{month}.json`)}`
      expect((await send(first, db, [to])).json?.months.map((m) => m.month)).toEqual([sent])
      const before = await send(lastMinute, db, [to])
      expect(before.json).toMatchObject({currentMonth: month, months: []})
      const after = await send(justAfter, db, [to])
      expect(after.json!.months.map((m) => m.month)).toEqual([month])
    },
  )
})
