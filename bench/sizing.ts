/**
 * npm run bench:sizing [-- --users N,M --events-per-user E --environments K --id-length L]
 * How much disk the mau tables take per row and per million monthly users, measured: for each N, a fresh
 * database is migrated and one month of N users' events is written through the consumer's own write path
 * (prepareBatch + persistWindow, windows of 20,000 events, users' events in random order), then
 * ANALYZE TABLE and information_schema's DATA_LENGTH + INDEX_LENGTH of every table are read.
 * Writes bench/results/sizing.md.
 */
import {cpus} from 'node:os'
import {parseArgs} from 'node:util'
import type {RowDataPacket} from 'mysql2/promise'
import {openDb, type Db} from '../src/core/db.js'
import {MonthResolver} from '../src/core/month.js'
import {decoder} from '../src/ingest/decode.js'
import {seedOffsets} from '../src/ingest/offsets.js'
import {prepareBatch} from '../src/ingest/batch.js'
import {persistWindow} from '../src/ingest/writer.js'
import {writerPool} from '../src/mau/rows.js'
import {createTestDatabase, schemaAt} from '../test/fixtures/services.js'
import {rng} from '../test/fixtures/events.js'
import {publish} from './results.js'

const {values: args} = parseArgs({
  options: {
    users: {type: 'string', default: '100000,1000000'},
    'events-per-user': {type: 'string', default: '3'},
    environments: {type: 'string', default: '20'},
    /** Characters of a user and an environment id: the platform's are UUIDs (36). */
    'id-length': {type: 'string', default: '36'},
  },
})
const SIZES = args.users.split(',').map(Number)
const EVENTS_PER_USER = Number(args['events-per-user'])
const ENVIRONMENTS = Number(args.environments)
const ID_LENGTH = Number(args['id-length'])
const WINDOW = 20_000
const SOURCES = ['ANDROID', 'IOS', 'WEB']
const zone = 'UTC'
const log = (m: string) => console.error(`[bench:sizing] ${m}`)

/** A deterministic id of exactly ID_LENGTH characters. */
const id = (prefix: string, n: number) => `${prefix}${n.toString(16)}`.padStart(ID_LENGTH, '0')

/**
 * The month's events of `users` users, in random order: each user in one environment (60% in the first),
 * with EVENTS_PER_USER events, all on one source, or alternating between two for one user in five.
 */
function* monthEvents(users: number, from: number, to: number): Generator<Buffer> {
  const random = rng(34)
  const order = Array.from({length: users * EVENTS_PER_USER}, (_, i) => i)
  for (let i = order.length - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1))
    ;[order[i], order[j]] = [order[j]!, order[i]!]
  }
  for (const i of order) {
    const u = i % users
    const nth = Math.floor(i / users)
    const env = u % 5 < 3 ? 0 : 1 + (u % (ENVIRONMENTS - 1))
    yield Buffer.from(
      JSON.stringify({
        environment_id: id('e', env),
        user_id: id('u', u),
        source_id: SOURCES[(u + (u % 5 === 4 ? nth % 2 : 0)) % SOURCES.length],
        last_seen: from + Math.floor(random() * (to - from)),
      }),
    )
  }
}

interface TableSize {
  table: string
  rows: number
  bytes: number
}

async function tableSizes(db: Db, database: string): Promise<TableSize[]> {
  const [tables] = await db.query<RowDataPacket[]>(
    'SELECT TABLE_NAME AS t FROM information_schema.TABLES WHERE TABLE_SCHEMA = ? ORDER BY TABLE_NAME',
    [database],
  )
  const out: TableSize[] = []
  for (const {t} of tables) {
    // InnoDB's sizes are its persistent statistics: brought up to date first.
    await db.query(`ANALYZE TABLE \`${t}\``)
    const [[size]] = await db.query<RowDataPacket[]>(
      'SELECT DATA_LENGTH + INDEX_LENGTH AS bytes FROM information_schema.TABLES WHERE TABLE_SCHEMA = ? AND TABLE_NAME = ?',
      [database, t],
    )
    const [[count]] = await db.query<RowDataPacket[]>(`SELECT COUNT(*) AS n FROM \`${t}\``)
    out.push({table: String(t), rows: Number(count!.n), bytes: Number(size!.bytes)})
  }
  return out
}

async function measure(users: number): Promise<TableSize[]> {
  const db = await createTestDatabase()
  try {
    await schemaAt(db.settings).migrate({timezone: zone})
    const pool = openDb(db.settings, writerPool(2))
    try {
      const now = Math.floor(Date.now() / 1000)
      const monthStart = Date.UTC(new Date().getUTCFullYear(), new Date().getUTCMonth(), 1) / 1000
      // This month, up to an hour ago: every event in its own month's partition, none in the future.
      const to = Math.max(monthStart + 3600, now - 3600)
      const months = new MonthResolver(zone)
      const decode = decoder('json')
      await seedOffsets(pool, 'sizing', 'sizing', [{partition: 0, offset: 0}], now)
      let offset = 0
      let messages: {offset: string; value: Buffer}[] = []
      const flush = async () => {
        if (messages.length === 0) return
        const from = offset - messages.length
        await persistWindow(
          pool,
          [{ref: {group: 'sizing', topic: 'sizing', partition: 0}, from, batch: prepareBatch(messages, decode, now)}],
          months,
          now,
        )
        messages = []
      }
      for (const value of monthEvents(users, monthStart, to)) {
        messages.push({offset: String(offset++), value})
        if (messages.length === WINDOW) await flush()
      }
      await flush()
      log(`${users} users: ${offset} events written`)
      return await tableSizes(pool, db.settings.database)
    } finally {
      await pool.end()
    }
  } finally {
    await db.drop()
  }
}

async function serverVersion(): Promise<string> {
  const db = await createTestDatabase()
  try {
    const pool = openDb(db.settings)
    const [[r]] = await pool.query<RowDataPacket[]>('SELECT VERSION() AS v, @@innodb_page_size AS page')
    await pool.end()
    return `${r!.v} (defaults, InnoDB pages of ${r!.page} bytes)`
  } finally {
    await db.drop()
  }
}

const mb = (bytes: number) => (bytes / 2 ** 20).toFixed(1)
const results = new Map<number, TableSize[]>()
for (const users of SIZES) {
  log(`${users} users: writing one month`)
  results.set(users, await measure(users))
}
const largest = Math.max(...SIZES)
const smallest = Math.min(...SIZES)
const big = results.get(largest)!
const small = results.get(smallest)!
const find = (sizes: TableSize[], table: string) => sizes.find((t) => t.table === table)!
const used = big.filter((t) => t.rows > 0).map((t) => t.table)
const empty = big.filter((t) => t.rows === 0)
const total = (sizes: TableSize[]) => sizes.reduce((a, t) => a + t.bytes, 0)
// What one more row (user) adds: the difference between the two sizes, free of each table's fixed pages.
const marginal = (bytes: number, rows: number) =>
  largest > smallest && rows > 0 ? Math.round(bytes / rows) : undefined
const perRow = (table: string) =>
  marginal(find(big, table).bytes - find(small, table).bytes, find(big, table).rows - find(small, table).rows)
const perMillionUsers = ((total(big) - total(small)) / (largest - smallest)) * 1e6
const lines = [
  '# bench:sizing',
  '',
  `Run: ${new Date().toISOString()} on ${cpus().length} cores (${cpus()[0]?.model ?? 'unknown'}), node ${process.version}, MariaDB ${await serverVersion()}.`,
  '',
  `One month of N users written through the consumer's write path (prepareBatch + persistWindow, windows of ${WINDOW} events, events in random order):`,
  `${EVENTS_PER_USER} events a user, each user in one of ${ENVIRONMENTS} environments (60% in the first), on one source, or on two for one user in five;`,
  `user and environment ids of ${ID_LENGTH} characters (the platform's are UUIDs). Sizes are InnoDB's DATA_LENGTH + INDEX_LENGTH after ANALYZE TABLE,`,
  "in whole 16 KiB pages: every partition of a table has at least one, so small tables show their fixed pages. A row's bytes are what the larger",
  'size adds over the smaller one, per row added.',
  '',
  `| table | ${SIZES.map((n) => `rows at ${n.toLocaleString('en-US')} users | MiB`).join(' | ')} | bytes a row |`,
  `| --- | ${SIZES.map(() => '--- | ---').join(' | ')} | --- |`,
  ...used.map((table) => {
    const cells = SIZES.map((n) => {
      const t = find(results.get(n)!, table)
      return `${t.rows.toLocaleString('en-US')} | ${mb(t.bytes)}`
    })
    return `| ${table} | ${cells.join(' | ')} | ${perRow(table) ?? ''} |`
  }),
  `| ${empty.length} other tables, empty | ${SIZES.map((n) => ` | ${mb(empty.reduce((a, e) => a + find(results.get(n)!, e.table).bytes, 0))}`).join(' | ')} | |`,
  `| **all tables** | ${SIZES.map((n) => ` | **${mb(total(results.get(n)!))}**`).join(' | ')} | |`,
  '',
  `**Per million monthly users, per month kept: ${mb(perMillionUsers)} MiB** (what ${(largest - smallest).toLocaleString('en-US')} more users added, scaled).`,
  'A month dropped by `partitions rotate` leaves only its lines in mau_month_total (per environment and source).',
]
publish('sizing', lines)
