import {schemaAt} from '../fixtures/services.js'
import {cpSync, appendFileSync, mkdtempSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import type {RowDataPacket} from 'mysql2/promise'
import {afterEach, beforeEach, describe, expect, it} from 'vitest'
import {MIGRATIONS_DIR} from '../../src/schema/migrate.js'
import {currentMonth, addMonths} from '../../src/core/month.js'
import {readPartitions} from '../../src/schema/partitions.js'
import {openDb} from '../../src/core/db.js'
import {createTestDatabase, LATEST_VERSION, MIGRATION_VERSIONS, type TestDatabase} from '../fixtures/services.js'

let db: TestDatabase
beforeEach(async () => {
  db = await createTestDatabase()
})
afterEach(async () => {
  await db.drop()
})

describe('migrate', () => {
  it('applies every migration once, then nothing', async () => {
    const first = await schemaAt(db.settings).migrate()
    expect(first.applied.map((m) => m.version)).toEqual(MIGRATION_VERSIONS)
    expect(first.version).toBe(LATEST_VERSION)
    const second = await schemaAt(db.settings).migrate()
    expect(second.applied).toEqual([])
    expect(second.partitionsCreated).toEqual([])
  })

  it('gives the current and three coming months their own partition, keeping pmax', async () => {
    await schemaAt(db.settings).migrate({timezone: 'UTC', aheadMonths: 3})
    const conn = openDb(db.settings)
    const names = (await readPartitions(conn)).map((p) => p.name)
    await conn.end()
    const now = currentMonth('UTC')
    expect(names).toEqual(['pmin', ...[0, 1, 2, 3].map((i) => `p${addMonths(now, i)}`), 'pmax'])
  })

  it('stores an event of a month without its own partition in pmax instead of rejecting it', async () => {
    await schemaAt(db.settings).migrate()
    const conn = openDb(db.settings)
    await conn.query("INSERT INTO mau VALUES ('u1', '209912', 'IOS', 1, 0, 0, 'ns')")
    const [rows] = await conn.query<RowDataPacket[]>('SELECT COUNT(*) AS n FROM mau PARTITION (pmax)')
    await conn.end()
    expect(rows[0]?.n).toBe(1)
  })

  it('lets two concurrent runs apply each migration exactly once', async () => {
    const [a, b] = await Promise.all([schemaAt(db.settings).migrate(), schemaAt(db.settings).migrate()])
    expect([...a.applied, ...b.applied].map((m) => m.version).sort((x, y) => x - y)).toEqual(MIGRATION_VERSIONS)
  })

  it('refuses to run when an applied migration was edited, and status names it', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'mau-migrations-'))
    cpSync(MIGRATIONS_DIR, dir, {recursive: true})
    await schemaAt(db.settings).migrate({migrationsDir: dir})
    appendFileSync(join(dir, '001.do.create-mau.sql'), '\n-- an edit after the fact\n')
    await expect(schemaAt(db.settings).migrate({migrationsDir: dir})).rejects.toMatchObject({
      exitCode: 5,
      message: expect.stringMatching(/An applied migration was edited: .*migration \[1\]/),
    })
    const s = await schemaAt(db.settings).status({migrationsDir: dir})
    expect(s.edited).toEqual([{version: 1, name: 'create-mau'}])
  })

  it('reports pending migrations before the first run', async () => {
    const s = await schemaAt(db.settings).status()
    expect(s).toMatchObject({version: 0, latest: LATEST_VERSION})
    expect(s.pending.map((m) => m.version)).toEqual(MIGRATION_VERSIONS)
  })
})
