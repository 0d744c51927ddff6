/**
 * Migration 006 on a database that the previous schema filled: ids that PAD SPACE merged stay merged
 * (their events cannot be split), the note says how many rows may hold such merges, the counters agree
 * with the rows afterwards, and from then on every id is its own.
 */
import {cpSync, mkdtempSync, readdirSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {afterAll, beforeAll, describe, expect, it} from 'vitest'
import {openDb, type Db} from '../../src/core/db.js'
import {MonthResolver} from '../../src/core/month.js'
import {prepareBatch} from '../../src/ingest/batch.js'
import {decodeJson} from '../../src/ingest/decode.js'
import {persistWindow} from '../../src/ingest/writer.js'
import {count, countByScan} from '../../src/mau/count.js'
import {writerPool} from '../../src/mau/rows.js'
import {checkSummary} from '../../src/mau/summary.js'
import {MIGRATIONS_DIR, type MigrateResult} from '../../src/schema/migrate.js'
import {query, startPartitions} from '../fixtures/mau.js'
import {createTestDatabase, MIGRATION_VERSIONS, schemaAt, type TestDatabase} from '../fixtures/services.js'

let db: TestDatabase
let pool: Db
let offset = 0
const months = new MonthResolver('UTC')
const event = (ns: string, source: string, user: string) =>
  JSON.stringify({environment_namespace: ns, user_id: user, source_id: source, last_seen: Date.UTC(2022, 11, 5) / 1000})
const consume = async (values: string[]) => {
  const now = Math.floor(Date.now() / 1000)
  const messages = values.map((v) => ({offset: String(offset++), value: Buffer.from(v)}))
  const chunks = [
    {
      ref: {group: 'g', topic: 't', partition: 0},
      from: Number(messages[0]!.offset),
      batch: prepareBatch(messages, decodeJson, now),
    },
  ]
  await startPartitions(pool, chunks)
  await persistWindow(pool, chunks, months, now)
}

/** The migrations before 006, in a folder of their own: the schema as the previous version left it. */
function previousSchema(): string {
  const dir = mkdtempSync(join(tmpdir(), 'mau-migrations-'))
  for (const f of readdirSync(MIGRATIONS_DIR).filter((name) => Number(name.split('.')[0]) < 6))
    cpSync(join(MIGRATIONS_DIR, f), join(dir, f))
  return dir
}

let migrated: MigrateResult
beforeAll(async () => {
  db = await createTestDatabase()
  await schemaAt(db.settings).migrate({migrationsDir: previousSchema()})
  pool = openDb(db.settings, writerPool(2))
  await consume([
    event('prod', 'IOS', 'a'),
    event('prod', 'WEB', 'a '),
    event('prod', 'IOS', 'a  '), // PAD SPACE: 'a  ' lands on the row of 'a'
    event('prod', 'WEB', 'c'),
    event('prod ', 'WEB', 'b'), // and 'prod ' shares the summary line of 'prod'
  ])
  migrated = await schemaAt(db.settings).migrate()
})
afterAll(async () => {
  await pool.end()
  await db.drop()
})

describe('migration 006: exact ids', () => {
  it('converts the populated, partitioned tables without losing a row or an event', async () => {
    expect(migrated.applied.map((m) => m.version)).toEqual(MIGRATION_VERSIONS.filter((v) => v >= 6))
    const rows = await query(
      db.settings,
      'SELECT environment_namespace, source_id, user_id, event_count FROM mau ORDER BY environment_namespace, source_id, user_id',
    )
    expect(rows.map((r) => [r.environment_namespace, r.source_id, r.user_id, Number(r.event_count)])).toEqual([
      ['prod', 'IOS', 'a', 2],
      ['prod', 'WEB', 'a ', 1],
      ['prod', 'WEB', 'c', 1],
      ['prod ', 'WEB', 'b', 1],
    ])
    const [column] = await query(
      db.settings,
      "SELECT DATA_TYPE AS t FROM information_schema.COLUMNS WHERE TABLE_SCHEMA = DATABASE() AND TABLE_NAME = 'mau' AND COLUMN_NAME = 'user_id'",
    )
    expect(String(column!.t).toLowerCase()).toBe('varbinary')
  })

  it('says how many rows may hold merged ids, and leaves counters that agree with the rows', async () => {
    expect(migrated.notes).toEqual([
      {
        version: 6,
        note: expect.stringMatching(
          /^ids are now compared by their exact bytes\. 2 rows of mau, in 1 environment-month\(s\), have an id or environment ending in a space/,
        ),
      },
    ])
    expect(await checkSummary(pool, '202212')).toMatchObject({ok: true})
    expect(
      (await count(pool, {month: '202212'})).environments.map((e) => [e.environment_namespace, e.users, e.events]),
    ).toEqual([
      ['prod', 3, 4],
      ['prod ', 1, 1],
    ])
  })

  it('keeps every id apart from then on, and the counters stay exact', async () => {
    await consume([event('prod', 'IOS', 'a '), event('prod', 'IOS', 'a  '), event('prod ', 'WEB', 'c')])
    const scan = await countByScan(pool, {month: '202212'})
    expect(await count(pool, {month: '202212'})).toEqual(scan)
    expect(scan.environments.map((e) => [e.environment_namespace, e.users, e.events])).toEqual([
      ['prod', 4, 6],
      ['prod ', 2, 2],
    ])
  })
})
