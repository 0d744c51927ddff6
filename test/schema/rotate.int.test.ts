import {schemaAt} from '../fixtures/services.js'
import type {RowDataPacket} from 'mysql2/promise'
import {afterEach, beforeEach, describe, expect, it} from 'vitest'
import {addMonths, currentMonth} from '../../src/core/month.js'
import type {RotateOptions} from '../../src/schema/rotate.js'
import {openDb} from '../../src/core/db.js'
import {query} from '../fixtures/mau.js'
import {createTestDatabase, type TestDatabase} from '../fixtures/services.js'

let db: TestDatabase
beforeEach(async () => {
  db = await createTestDatabase({migrated: true})
})
afterEach(async () => {
  await db.drop()
})

const now = currentMonth('UTC')
const at = (month: string) => new Date(Date.UTC(Number(month.slice(0, 4)), Number(month.slice(4)) - 1, 15))
const opts = (month: string, o: Partial<RotateOptions> = {}): RotateOptions => ({
  timezone: 'UTC',
  retainMonths: 13,
  aheadMonths: 3,
  dryRun: false,
  lockWaitSeconds: 10,
  now: at(month),
  ...o,
})

async function addRows(months: string[], perMonth = 50): Promise<void> {
  for (const m of months) {
    const rows = Array.from({length: perMonth}, (_, i) => ['ns', m, 'IOS', `user-${i}`, 1, 0, 0])
    await query(
      db.settings,
      `INSERT INTO mau (environment_namespace, yearmonth, source_id, user_id, event_count, created_at, updated_at) VALUES ${rows.map(() => '(?,?,?,?,?,?,?)').join(',')}`,
      rows.flat(),
    )
  }
}
const rowsPerMonth = async () =>
  Object.fromEntries(
    (await query<RowDataPacket>(db.settings, 'SELECT yearmonth, COUNT(*) AS n FROM mau GROUP BY yearmonth')).map(
      (r) => [r.yearmonth, Number(r.n)],
    ),
  )
const names = async () =>
  (await schemaAt(db.settings).listPartitions({timezone: 'UTC', retainMonths: 13, aheadMonths: 3})).partitions.map(
    (p) => p.name,
  )
const inPartition = async (name: string) =>
  Number((await query<RowDataPacket>(db.settings, `SELECT COUNT(*) AS n FROM mau PARTITION (${name})`))[0]?.n)

describe('partitions rotate', () => {
  it('does nothing on a freshly migrated, empty table, and nothing on a second run', async () => {
    const first = await schemaAt(db.settings).rotate(opts(now))
    expect(first.executed).toEqual([])
    expect(await names()).toEqual(['pmin', ...[0, 1, 2, 3].map((i) => `p${addMonths(now, i)}`), 'pmax'])
  })

  it('creates the months a table is missing when time has moved on, then nothing on a second run', async () => {
    const later = addMonths(now, 6)
    const first = await schemaAt(db.settings).rotate(opts(later, {retainMonths: 24}))
    expect(first.plan.create).toEqual([0, 1, 2, 3].map((i) => addMonths(later, i)))
    expect((await schemaAt(db.settings).rotate(opts(later, {retainMonths: 24}))).executed).toEqual([])
    // The months skipped while rotate did not run (now+4, now+5) are not due any more: they share later's partition.
    expect(await names()).toEqual(['pmin', ...[0, 1, 2, 3, 6, 7, 8, 9].map((i) => `p${addMonths(now, i)}`), 'pmax'])
  })

  it('moves rows that were in pmax into their new month partitions, losing none', async () => {
    const later = addMonths(now, 5)
    const pmaxMonths = [addMonths(now, 4), later, addMonths(later, 1), addMonths(later, 12)]
    await addRows([now, ...pmaxMonths])
    expect(await inPartition('pmax')).toBe(200)
    const before = await rowsPerMonth()
    const result = await schemaAt(db.settings).rotate(opts(later, {retainMonths: 24}))
    expect(result.executed.map((e) => e.kind)).toEqual(['split', 'split']) // mau and mau_user_month
    expect(await rowsPerMonth()).toEqual(before)
    expect(await inPartition(`p${later}`)).toBe(100) // later, and now+4 which had no partition of its own in time
    expect(await inPartition(`p${addMonths(later, 1)}`)).toBe(50)
    expect(await inPartition('pmax')).toBe(50) // a year ahead: still in the catch-all
  })

  it("drops only expired months and leaves the kept months' rows as they were", async () => {
    const later = addMonths(now, 3)
    await addRows([now, addMonths(now, 1), addMonths(now, 2), later])
    const before = await rowsPerMonth()
    const result = await schemaAt(db.settings).rotate(opts(later, {retainMonths: 2}))
    expect(result.plan.drop).toEqual([`p${now}`, `p${addMonths(now, 1)}`])
    const after = await rowsPerMonth()
    expect(after).toEqual({[addMonths(now, 2)]: before[addMonths(now, 2)], [later]: before[later]})
  })

  it('lets two concurrent runs do the work once', async () => {
    const later = addMonths(now, 4)
    const [a, b] = await Promise.all([
      schemaAt(db.settings).rotate(opts(later)),
      schemaAt(db.settings).rotate(opts(later)),
    ])
    expect([a.executed.length, b.executed.length].sort()).toEqual([0, 2])
  })

  it('exits 3 with a clear message when another run holds the lock past --lock-wait', async () => {
    const other = openDb(db.settings)
    await other.query('SELECT GET_LOCK(?, 0)', [`mau.partitions.${db.settings.database}`])
    try {
      await expect(schemaAt(db.settings).rotate(opts(now, {lockWaitSeconds: 1}))).rejects.toMatchObject({
        exitCode: 3,
        message: expect.stringMatching(/Another run holds the lock "mau\.partitions\./),
      })
    } finally {
      await other.end()
    }
  })

  it('changes nothing with --dry-run but returns the exact SQL', async () => {
    const result = await schemaAt(db.settings).rotate(opts(addMonths(now, 2), {dryRun: true}))
    expect(result.executed).toEqual([])
    expect(result.plan.actions.map((a) => a.sql)).toEqual([
      `ALTER TABLE mau REORGANIZE PARTITION pmax INTO (PARTITION p${addMonths(now, 4)} VALUES LESS THAN ('${addMonths(now, 5)}'), PARTITION p${addMonths(now, 5)} VALUES LESS THAN ('${addMonths(now, 6)}'), PARTITION pmax VALUES LESS THAN (MAXVALUE))`,
    ])
    expect(await names()).toHaveLength(6)
  })
})
