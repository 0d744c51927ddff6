/**
 * npm run bench:exact-ids [-- --rows N]
 * Migration 006 (ids compared by exact bytes) on a month of N (default 5 million) rows written by the
 * previous schema, some ids ending in a space, while a consumer keeps writing through the real batch
 * writer and `count` keeps reading: how long the migration takes, and the longest each of them waited.
 * Writes bench/results/exact-ids.md.
 */
import {cpSync, mkdtempSync, readdirSync} from 'node:fs'
import {cpus, tmpdir} from 'node:os'
import {join} from 'node:path'
import {parseArgs} from 'node:util'
import type {RowDataPacket} from 'mysql2/promise'
import {openDb} from '../src/core/db.js'
import {isTransient} from '../src/core/errors.js'
import {MonthResolver} from '../src/core/month.js'
import {prepareBatch} from '../src/ingest/batch.js'
import {decodeJson} from '../src/ingest/decode.js'
import {seedOffsets} from '../src/ingest/offsets.js'
import {persistWindow} from '../src/ingest/writer.js'
import {count} from '../src/mau/count.js'
import {writerPool} from '../src/mau/rows.js'
import {checkSummary, rebuildSummary} from '../src/mau/summary.js'
import {MIGRATIONS_DIR} from '../src/schema/migrate.js'
import {createTestDatabase, schemaAt} from '../test/fixtures/services.js'
import {publish} from './results.js'
import {createNumbers, fillEnvironment} from './rows.js'

const {values: args} = parseArgs({options: {rows: {type: 'string', default: '5000000'}}})
const rows = Number(args.rows)
const month = '202212'
const log = (m: string) => console.error(`[bench:exact-ids] ${m}`)
const seconds = (since: number) => (Date.now() - since) / 1000

const previous = mkdtempSync(join(tmpdir(), 'mau-migrations-'))
for (const f of readdirSync(MIGRATIONS_DIR).filter((name) => Number(name.split('.')[0]) < 6)) cpSync(join(MIGRATIONS_DIR, f), join(previous, f))

const db = await createTestDatabase()
await schemaAt(db.settings).migrate({migrationsDir: previous})
const pool = openDb(db.settings, writerPool(3))
try {
  await createNumbers(pool)
  log(`loading ${rows} rows of one environment-month, one id in a thousand ending in a space`)
  const loadStarted = Date.now()
  await fillEnvironment(pool, {env: 'prod', month, rows, spaceEvery: 1000})
  await pool.query('INSERT INTO mau_user_month (environment_namespace, yearmonth, user_id) SELECT DISTINCT environment_namespace, yearmonth, user_id FROM mau')
  await rebuildSummary(pool, month)
  const [[loaded]] = await pool.query<RowDataPacket[]>('SELECT COUNT(*) AS n FROM mau')
  const loadSeconds = seconds(loadStarted)

  // A consumer writing one event at a time through the real writer, and a reader of the counts, all along.
  const waits = {write: [] as number[], read: [] as number[]}
  let running = true
  let retries = 0
  const months = new MonthResolver('UTC')
  const writer = (async () => {
    await seedOffsets(pool, 'bench', 'live', [{partition: 0, offset: 0}], 0)
    for (let offset = 0; running; offset++) {
      const now = Math.floor(Date.now() / 1000)
      const value = Buffer.from(JSON.stringify({environment_namespace: 'live', user_id: `live-${offset % 50}${offset % 3 === 0 ? ' ' : ''}`, source_id: 'IOS', last_seen: Date.UTC(2022, 11, 9) / 1000}))
      const t = Date.now()
      // As the consumer does (ingest/consume.ts): a transient error (a deadlock with the migration) rolls back and retries.
      for (;;) {
        try {
          await persistWindow(pool, [{ref: {group: 'bench', topic: 'live', partition: 0}, from: offset, batch: prepareBatch([{offset: String(offset), value}], decodeJson, now)}], months, now)
          break
        } catch (error) {
          if (!isTransient(error)) throw error
          retries++
        }
      }
      waits.write.push(Date.now() - t)
      await new Promise((r) => setTimeout(r, 100))
    }
  })()
  const reader = (async () => {
    while (running) {
      const t = Date.now()
      await count(pool, {month})
      waits.read.push(Date.now() - t)
      await new Promise((r) => setTimeout(r, 100))
    }
  })()

  log('migrating (006)')
  const started = Date.now()
  const migrated = await schemaAt(db.settings).migrate()
  const migrateSeconds = seconds(started)
  await new Promise((r) => setTimeout(r, 500))
  running = false
  await Promise.all([writer, reader])
  const check = await checkSummary(pool, month)
  const [[version]] = await pool.query<RowDataPacket[]>('SELECT VERSION() AS v')
  const max = (xs: number[]) => Math.max(...xs)
  const p50 = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!
  publish('exact-ids', [
    '# bench:exact-ids',
    '',
    `Run: ${new Date().toISOString()} on ${cpus().length} cores, MariaDB ${version?.v} (defaults: 128 MB buffer pool), node ${process.version}.`,
    `Month ${month}: ${Number(loaded?.n).toLocaleString('en-US')} rows of \`mau\` (and as many of \`mau_user_month\`) written by the schema before 006,`,
    `one id in a thousand ending in a space; loaded in ${loadSeconds.toFixed(0)} s.`,
    '',
    '| what | result |',
    '| --- | --- |',
    `| migration 006, applied by \`mau db migrate\` | ${migrateSeconds.toFixed(1)} s |`,
    `| a consumer writing one event every 100 ms meanwhile (the real batch writer): longest wait | ${(max(waits.write) / 1000).toFixed(1)} s (median ${p50(waits.write)} ms, ${waits.write.length} batches, ${retries} retried after a deadlock) |`,
    `| \`count\` of the month every 100 ms meanwhile: longest wait | ${(max(waits.read) / 1000).toFixed(1)} s (median ${p50(waits.read)} ms, ${waits.read.length} reads) |`,
    `| \`summary check\` afterwards | ${check.ok ? 'agrees with the rows' : `DIFFERS: ${JSON.stringify(check.differences.slice(0, 3))}`} |`,
    '',
    `Note the migration left: ${migrated.notes.map((n) => n.note).join(' ')}`,
  ])
} finally {
  await pool.end()
  await db.drop()
}
