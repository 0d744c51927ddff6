import {cpSync, appendFileSync, mkdtempSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import type {RowDataPacket} from 'mysql2/promise'
import {afterEach, beforeEach, describe, expect, it} from 'vitest'
import {MIGRATIONS_DIR, migrate, status} from '../src/migrate.js'
import {currentMonth, addMonths} from '../src/month.js'
import {readPartitions} from '../src/partitions.js'
import {openConnection} from '../src/store.js'
import {createTestDatabase, LATEST_VERSION, MIGRATION_VERSIONS, type TestDatabase} from './helpers/services.js'

let db: TestDatabase
beforeEach(async () => {
  db = await createTestDatabase()
})
afterEach(async () => {
  await db.drop()
})

describe('migrate', () => {
  it('applies every migration once, then nothing', async () => {
    const first = await migrate(db.settings)
    expect(MIGRATION_VERSIONS).toEqual([1, 2, 3, 4, 5])
    expect(first.applied.map((m) => m.version)).toEqual(MIGRATION_VERSIONS)
    expect(first.version).toBe(LATEST_VERSION)
    const second = await migrate(db.settings)
    expect(second.applied).toEqual([])
    expect(second.partitionsCreated).toEqual([])
  })

  it('gives the current and three coming months their own partition, keeping pmax', async () => {
    await migrate(db.settings, {timezone: 'UTC', aheadMonths: 3})
    const conn = await openConnection(db.settings)
    const names = (await readPartitions(conn)).map((p) => p.name)
    await conn.end()
    const now = currentMonth('UTC')
    expect(names).toEqual([0, 1, 2, 3].map((i) => `p${addMonths(now, i)}`).concat('pmax'))
  })

  it('stores an event of a month without its own partition in pmax instead of rejecting it', async () => {
    await migrate(db.settings)
    const conn = await openConnection(db.settings)
    await conn.query("INSERT INTO mau VALUES ('u1', '209912', 'IOS', 1, 0, 0, 'ns')")
    const [rows] = await conn.query<RowDataPacket[]>('SELECT COUNT(*) AS n FROM mau PARTITION (pmax)')
    await conn.end()
    expect(rows[0]?.n).toBe(1)
  })

  it('lets two concurrent runs apply each migration exactly once', async () => {
    const [a, b] = await Promise.all([migrate(db.settings), migrate(db.settings)])
    expect([...a.applied, ...b.applied].map((m) => m.version).sort((x, y) => x - y)).toEqual(MIGRATION_VERSIONS)
  })

  it('refuses to run when an applied migration was edited, and status names it', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'mau-migrations-'))
    cpSync(MIGRATIONS_DIR, dir, {recursive: true})
    await migrate(db.settings, {migrationsDir: dir})
    appendFileSync(join(dir, '001.do.create-mau.sql'), '\n-- an edit after the fact\n')
    await expect(migrate(db.settings, {migrationsDir: dir})).rejects.toMatchObject({
      exitCode: 5,
      message: expect.stringMatching(/An applied migration was edited: .*migration \[1\]/),
    })
    const s = await status(db.settings, {migrationsDir: dir})
    expect(s.edited).toEqual([{version: 1, name: 'create-mau'}])
  })

  it('reports pending migrations before the first run', async () => {
    const s = await status(db.settings)
    expect(s).toMatchObject({version: 0, latest: LATEST_VERSION})
    expect(s.pending.map((m) => m.version)).toEqual(MIGRATION_VERSIONS)
  })
})
