/** The CLI as a Kubernetes Job runs it: exit codes, --json, --csv, and no secret in its output. */
import {afterAll, beforeAll, describe, expect, it} from 'vitest'
import {withDb} from '../../src/core/db.js'
import {backfill} from '../../src/druid/backfill.js'
import {druidReader} from '../../src/druid/settings.js'
import {writerPool} from '../../src/mau/rows.js'
import {DRUID_DEFAULTS} from '../fixtures/druid-events.js'
import {mauAsync} from '../helpers/cli.js'
import {query} from '../fixtures/mau.js'
import {druidStandin} from '../helpers/druid-standin.js'
import {createTestDatabase, type TestDatabase} from '../fixtures/services.js'

let db: TestDatabase
let standin: Awaited<ReturnType<typeof druidStandin>>
const at = (day: number) => Date.UTC(2022, 11, day)
const events = [
  {__time: at(1), environment_namespace: 'prod', user_id: 'alice', source_id: 'IOS'},
  {__time: at(2), environment_namespace: 'prod', user_id: 'alice', source_id: 'IOS'},
  {__time: at(3), environment_namespace: 'prod', user_id: 'bob', source_id: 'ANDROID'},
  {__time: at(4), environment_namespace: 'dev', user_id: 'carol', source_id: 'WEB'},
]

beforeAll(async () => {
  db = await createTestDatabase({migrated: true})
  standin = await druidStandin({user_events: events})
  // Both sides got the same events: MySQL's filled from the stand-in (test/commands/backfill.int.test.ts covers the CLI).
  const reader = druidReader(
    {...DRUID_DEFAULTS, 'druid-url': standin.url},
    {useApproximateCountDistinct: false, sqlTimeZone: 'UTC'},
  )
  await withDb(db.settings, writerPool(2), (pool) => backfill(pool, reader, {month: '202212', timezone: 'UTC'}))
  standin.queries.length = 0
})
afterAll(async () => {
  await standin.close()
  await db.drop()
})

// The stand-in is a Druid loaded once, standing still: no supervisor, so differences are judged as they are.
const env = () => ({
  MAU_MYSQL_URL: db.url,
  MAU_DRUID_URL: standin.url,
  MAU_DRUID_TIMEOUT_SECONDS: '5',
  MAU_VERIFY_IN_FLIGHT: 'false',
})
const verify = (args: string[], extra: Record<string, string> = {}) =>
  mauAsync(['verify-migration', '--month', '202212', ...args], {...env(), ...extra})

describe('mau verify-migration', () => {
  it('exits 0 when both sides agree, asking Druid for exact distinct counts', async () => {
    const r = await verify([])
    expect(r.code).toBe(0)
    expect(r.stdout).toMatch(/PASS: 5 lines agree\./)
    // Druid approximates COUNT(DISTINCT) unless told otherwise: every query must say so.
    expect(standin.queries.length).toBeGreaterThan(0)
    expect(
      standin.queries.every((q) => q.context.useApproximateCountDistinct === false && q.context.sqlTimeZone === 'UTC'),
    ).toBe(true)
    expect(r.stdout).toMatch(/│ prod\s+│ all\s+│\s+2 │\s+3 │\s+2 │\s+3 │\s+0 0% │\s+0 0% │ match/)
  })

  it('exits 1 on a mismatch, with the line in --json and --csv', async () => {
    await query(db.settings, "UPDATE mau SET event_count = event_count + 1 WHERE user_id = 'carol'")
    await query(db.settings, "UPDATE mau_summary SET events = events + 1 WHERE environment_namespace = 'dev'")
    const r = await verify(['--json'])
    expect(r.code).toBe(1)
    const doc = JSON.parse(r.stdout)
    expect(doc).toMatchObject({ok: false, mismatches: 2})
    expect(
      doc.rows.find(
        (x: {environment_namespace: string; source_id: string}) =>
          x.environment_namespace === 'dev' && x.source_id === '',
      ),
    ).toMatchObject({
      druid: {users: 1, events: 1},
      mysql: {users: 1, events: 2},
      difference: {users: 0, events: 1},
      percent: {users: 0, events: 100},
      verdict: 'mismatch',
    })
    const csv = await verify(['--csv', '--namespace', 'dev'])
    expect(csv.code).toBe(1)
    expect(csv.stdout.split('\n')[1]).toBe('202212,dev,,1,1,0,0,1,2,1,100,mismatch')
    const prodOnly = await verify(['--namespace', 'prod'])
    expect(prodOnly.code).toBe(0)
    // Judged against the traffic where Druid has no supervisor: nothing is in flight, so the way out is --no-in-flight (exit 2, not a retry).
    const unjudged = await verify(['--in-flight', '--druid-supervisor', 'user_events_kafka', '--json'])
    expect(unjudged.code).toBe(2)
    const error = JSON.parse(unjudged.stdout).error
    expect(error).toMatchObject({code: 'DRUID_NO_SUPERVISOR', exitCode: 2})
    expect(error.message).toContain('has no supervisor "user_events_kafka": it is not ingesting from Kafka')
    expect(error.suggestions[0]).toContain('--no-in-flight')
    // Where every line matches, positions are not needed: a pass, with a note.
    const matching = await verify(['--in-flight', '--namespace', 'prod', '--json'])
    expect(matching.code).toBe(0)
    expect(JSON.parse(matching.stdout).caveats.join(' ')).toMatch(
      /positions were not read .*no supervisor "user_events"/,
    )
  })

  it("exits 2 with Druid's message when it rejects the query", async () => {
    const r = await verify(['--druid-datasource', 'no_such_events', '--json'])
    expect(r.code).toBe(2)
    expect(JSON.parse(r.stdout).error).toMatchObject({code: 'DRUID_QUERY_REJECTED', exitCode: 2})
    expect(JSON.parse(r.stdout).error.message).toMatch(
      /Druid rejected query mau-[0-9a-f-]+ \(HTTP 400, INVALID_INPUT\/invalidInput \(for user\): Object 'no_such_events' not found\)/,
    )
  })

  it('exits 4 when Druid times out or cannot be reached, and 2 when it refuses the credentials, never printing the password', async () => {
    standin.behaviour.delayMs = 4_000
    const slow = await verify(['--druid-timeout', '1'])
    standin.behaviour.delayMs = 0
    expect(slow.code).toBe(4)
    expect(slow.stderr).toMatch(/Druid at http:\/\/127\.0\.0\.1:\d+ did not answer within 1 s/)
    const down = await verify([], {MAU_DRUID_URL: 'http://127.0.0.1:9'})
    expect(down.code).toBe(4)
    expect(down.stderr).toMatch(/Druid at http:\/\/127\.0\.0\.1:9 is unavailable/)
    standin.behaviour.credentials = {user: 'mau', password: 'the-real-pw'}
    const refused = await verify(['--json'], {MAU_DRUID_USER: 'mau', MAU_DRUID_PASSWORD: 'a-wrong-pw'})
    const ok = await verify(['--namespace', 'prod'], {MAU_DRUID_USER: 'mau', MAU_DRUID_PASSWORD: 'the-real-pw'})
    standin.behaviour.credentials = undefined
    expect(refused.code).toBe(2)
    expect(JSON.parse(refused.stdout).error.code).toBe('DRUID_AUTH')
    expect(refused.stdout + refused.stderr).not.toContain('a-wrong-pw')
    expect(ok.code).toBe(0)
  })

  it('exits 2 naming a bad flag value', async () => {
    const r = await verify(['--since', 'last week'])
    expect(r.code).toBe(2)
    expect(r.stderr).toMatch(/Invalid --since "last week": expected an ISO 8601 time/)
    const sent = standin.queries.length
    expect((await verify(['--approximate', '--namespace', 'prod'])).code).toBe(0)
    expect(standin.queries.slice(sent).every((q) => q.context.useApproximateCountDistinct === true)).toBe(true)
    const column = await verify(['--druid-user-column', 'user\nid'])
    expect(column.code).toBe(2)
    expect(column.stderr.replace(/\s*›\s*/g, ' ')).toMatch(
      /Invalid Druid user column "user\\nid": expected 1 to 255 printable characters/,
    )
    const t = await verify(['--approximate', '--tolerance', 'lots'])
    expect(t.stderr).toMatch(/Invalid --tolerance "lots": expected a percentage from 0 to 100/)
  })
})
