/**
 * One clock per database: the zone is recorded by the first `db migrate` given one or the first workload,
 * every later run reads it, one given another zone exits 2, and `mau db timezone` changes it only as its
 * help says. The months of rotate and count are read in the recorded zone at a chosen instant (libfaketime).
 */
import {afterAll, describe, expect, it} from 'vitest'
import {openDb} from '../../src/core/db.js'
import {rebuildSummary} from '../../src/mau/summary.js'
import {query} from '../fixtures/mau.js'
import {createTestDatabase, type TestDatabase} from '../fixtures/services.js'
import {mau, mauAsync, mauAt} from '../helpers/cli.js'

const databases: TestDatabase[] = []
afterAll(async () => {
  await Promise.all(databases.map((d) => d.drop()))
})
const fresh = async (migrated = true) => {
  const db = await createTestDatabase({migrated})
  databases.push(db)
  return db
}
const recorded = (db: TestDatabase) =>
  JSON.parse(mau(['db', 'timezone', '--json'], {MAU_MYSQL_URL: db.url}).stdout) as {
    zone: string | null
    monthsCounted: string[]
  }

describe('the zone recorded', () => {
  it("is the first workload's on a database that has none (as after an upgrade), and every later run uses it", async () => {
    const db = await fresh()
    expect(recorded(db).zone).toBeNull()
    const first = mau(['count', '--json'], {MAU_MYSQL_URL: db.url, MAU_TIMEZONE: 'Asia/Tokyo'})
    expect(first.code, first.stderr).toBe(0)
    expect(recorded(db).zone).toBe('Asia/Tokyo')
    // Without MAU_TIMEZONE a run takes the recorded zone: at 16:00 UTC on 31 December it is already January in Tokyo.
    const count = await mauAt('2026-12-31 16:00:00', ['count', '--json'], {MAU_MYSQL_URL: db.url})
    expect(JSON.parse(count.stdout)).toMatchObject({month: '202701'})
    const rotate = await mauAt('2026-12-31 16:00:00', ['partitions', 'rotate', '--dry-run', '--json'], {
      MAU_MYSQL_URL: db.url,
    })
    expect(rotate.code, rotate.stderr).toBe(0)
    expect(JSON.parse(rotate.stdout).plan.current).toBe('202701')
  })

  it('is recorded by db migrate only when given one, and then refuses another', async () => {
    const db = await fresh(false)
    const plain = mau(['db', 'migrate', '--json'], {MAU_MYSQL_URL: db.url, MAU_TIMEZONE: ''})
    expect(plain.code, plain.stderr).toBe(0)
    expect(JSON.parse(plain.stdout).timezone).toBeNull()
    const given = mau(['db', 'migrate', '--timezone', 'America/Los_Angeles', '--json'], {MAU_MYSQL_URL: db.url})
    expect(JSON.parse(given.stdout).timezone).toBe('America/Los_Angeles')
    const other = mau(['db', 'migrate', '--json'], {MAU_MYSQL_URL: db.url, MAU_TIMEZONE: 'UTC'})
    expect(other.code).toBe(2)
  })
})

describe('a workload given another zone', () => {
  it.each([
    ['report send', ['report', 'send', '--to', 'stdout']],
    ['partitions rotate', ['partitions', 'rotate']],
    ['count', ['count']],
    ['consume', ['consume', '--topic', 'none', '--stop-at-end']],
    ['serve', ['serve', '--grpc-port', '0', '--http-port', '0']],
  ])('%s exits 2 naming both zones and how to change the record, before doing anything', async (_, args) => {
    const db = await fresh()
    expect(mau(['db', 'timezone', '--set', 'Asia/Tokyo'], {MAU_MYSQL_URL: db.url}).code).toBe(0)
    const r = await mauAsync([...args, '--json'], {MAU_MYSQL_URL: db.url, MAU_TIMEZONE: 'UTC'})
    expect(r.code, r.stderr).toBe(2)
    const {error} = JSON.parse(r.stdout) as {error: {code: string; message: string; suggestions: string[]}}
    expect(error.code).toBe('TIMEZONE_CONFLICT')
    expect(error.message).toBe(
      'The database records time zone Asia/Tokyo for its months; this run was given UTC (--timezone or MAU_TIMEZONE).',
    )
    expect(error.suggestions.join('\n')).toContain('mau db timezone --set UTC')
    expect(recorded(db).zone).toBe('Asia/Tokyo')
  })

  it("is refused by doctor's timezone check", async () => {
    const db = await fresh()
    mau(['db', 'timezone', '--set', 'Asia/Tokyo'], {MAU_MYSQL_URL: db.url})
    const r = mau(['doctor', '--topic', 'none', '--json'], {
      MAU_MYSQL_URL: db.url,
      MAU_TIMEZONE: 'Europe/Berlin',
      MAU_KAFKA_BROKERS: '127.0.0.1:1',
    })
    const check = (JSON.parse(r.stdout) as {checks: {name: string; ok: boolean; detail: string}[]}).checks.find(
      (c) => c.name === 'timezone',
    )
    expect(check).toMatchObject({ok: false, detail: expect.stringContaining('records time zone Asia/Tokyo')})
  })
})

describe('mau db timezone', () => {
  it('changes the zone while no month has counts; once months have, only with --force', async () => {
    const db = await fresh()
    expect(
      JSON.parse(mau(['db', 'timezone', '--set', 'Asia/Tokyo', '--json'], {MAU_MYSQL_URL: db.url}).stdout),
    ).toMatchObject({zone: 'Asia/Tokyo', changedFrom: null})
    expect(mau(['db', 'timezone', '--set', 'Europe/Berlin'], {MAU_MYSQL_URL: db.url}).code).toBe(0)
    await query(db.settings, "INSERT INTO mau VALUES ('alice', '202611', 'IOS', 3, 0, 0, 'prod')")
    const pool = openDb(db.settings)
    await rebuildSummary(pool, '202611')
    await pool.end()
    const refused = mau(['db', 'timezone', '--set', 'UTC', '--json'], {MAU_MYSQL_URL: db.url})
    expect(refused.code).toBe(2)
    expect(JSON.parse(refused.stdout).error).toMatchObject({
      code: 'TIMEZONE_IN_USE',
      message: expect.stringContaining('202611'),
    })
    expect(recorded(db).zone).toBe('Europe/Berlin')
    const forced = mau(['db', 'timezone', '--set', 'UTC', '--force', '--json'], {MAU_MYSQL_URL: db.url})
    expect(JSON.parse(forced.stdout)).toMatchObject({
      zone: 'UTC',
      changedFrom: 'Europe/Berlin',
      monthsCounted: ['202611'],
    })
    expect(mau(['db', 'timezone', '--set', 'Mars/Olympus'], {MAU_MYSQL_URL: db.url}).code).toBe(2)
    expect(mau(['db', 'timezone', '--help']).stdout).toMatch(
      /Months already counted keep the rows the old zone put in them/,
    )
  })
})
