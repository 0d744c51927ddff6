/**
 * npm run bench:partitions [-- --rows N]
 * Fills one month's partition with N rows (default 5,000,000), copies the table, then in the same run
 * times `rotate` dropping that month against `DELETE FROM ... WHERE yearmonth = ?` on the copy, and the
 * time `rotate` takes to split a pmax holding N/5 rows, a daily rotate with nothing to do, and the first rotate
 * of a schema from before pmin (its lowest partition holding N/5 rows). Writes bench/results/partitions.md.
 */
import {schemaAt} from '../test/fixtures/services.js'
import {cpus} from 'node:os'
import {parseArgs} from 'node:util'
import type {RowDataPacket} from 'mysql2/promise'
import {addMonths, currentMonth} from '../src/core/month.js'
import {openDb} from '../src/core/db.js'
import {publish} from './results.js'
import {createNumbers} from './rows.js'
import {createTestDatabase} from '../test/fixtures/services.js'

const {values: args} = parseArgs({options: {rows: {type: 'string', default: '5000000'}}})
const N = Number(args.rows)
const log = (m: string) => console.error(`[bench:partitions] ${m}`)
const at = (m: string) => new Date(Date.UTC(Number(m.slice(0, 4)), Number(m.slice(4)) - 1, 15))

const db = await createTestDatabase()
const conn = openDb(db.settings)
const count = async (sql: string, values: unknown[] = []) =>
  Number((await conn.query<RowDataPacket[]>(sql, values))[0][0]?.n)
const timed = async (fn: () => Promise<unknown>) => {
  const t = process.hrtime.bigint()
  await fn()
  return Number(process.hrtime.bigint() - t) / 1e6
}
try {
  const now = currentMonth('UTC')
  const expired = addMonths(now, -14)
  await schemaAt(db.settings).migrate()
  await schemaAt(db.settings).rotate({
    timezone: 'UTC',
    retainMonths: 24,
    aheadMonths: 0,
    dryRun: false,
    lockWaitSeconds: 10,
    now: at(expired),
  })

  // Rows generated inside the server (a 5,000-row number table crossed with itself): fast, no client traffic.
  await createNumbers(conn)
  const fill = (month: string, rows: number, table = 'mau') =>
    conn.query(
      `INSERT INTO ${table} (environment_namespace, yearmonth, source_id, user_id, event_count, created_at, updated_at)
       SELECT CONCAT('env-', a.n % 20), ?, ELT(1 + b.n % 3, 'ANDROID', 'IOS', 'WEB'), CONCAT('user-', a.n, '-', b.n), 1 + b.n % 7, 0, 0
         FROM bench_n a JOIN bench_n b ON b.n < ?`,
      [month, Math.ceil(rows / 5000)],
    )
  log(`filling p${expired} with ${N} rows`)
  const fillMs = await timed(() => fill(expired, N))
  await fill(now, 10_000)
  const rows = await count('SELECT COUNT(*) AS n FROM mau WHERE yearmonth = ?', [expired])
  log(`copying into mau_copy (same partitions) for DELETE`)
  await conn.query('CREATE TABLE mau_copy LIKE mau')
  await conn.query('INSERT INTO mau_copy SELECT * FROM mau')
  const keptBefore = await count('SELECT COUNT(*) AS n FROM mau WHERE yearmonth = ?', [now])

  log('rotate (drops the expired month)')
  let dropped: string[] = []
  let dropStatementsMs = 0
  const dropMs = await timed(async () => {
    const r = await schemaAt(db.settings).rotate({
      timezone: 'UTC',
      retainMonths: 13,
      aheadMonths: 3,
      dryRun: false,
      lockWaitSeconds: 10,
    })
    dropped = r.plan.drop
    dropStatementsMs = r.executed.filter((e) => e.kind === 'drop').reduce((a, e) => a + e.ms, 0)
  })
  const keptAfter = await count('SELECT COUNT(*) AS n FROM mau WHERE yearmonth = ?', [now])
  const left = await count('SELECT COUNT(*) AS n FROM mau WHERE yearmonth = ?', [expired])
  log('DELETE on the copy')
  const deleteMs = await timed(() => conn.query('DELETE FROM mau_copy WHERE yearmonth = ?', [expired]))

  const future = addMonths(now, 6)
  const pmaxRows = Math.round(N / 5)
  log(`splitting a pmax that holds ${pmaxRows} rows of ${future}`)
  await fill(future, pmaxRows)
  let splitMs = 0
  const splitTotal = await timed(async () => {
    const r = await schemaAt(db.settings).rotate({
      timezone: 'UTC',
      retainMonths: 13,
      aheadMonths: 0,
      dryRun: false,
      lockWaitSeconds: 10,
      now: at(future),
    })
    splitMs = r.executed.find((e) => e.kind === 'split')?.ms ?? 0
  })
  const inOwn = await count(`SELECT COUNT(*) AS n FROM mau PARTITION (p${future}) WHERE yearmonth = ?`, [future])

  log('the daily rotate with nothing to do: it reads what pmin (empty) and partitions of several months hold')
  const dailyMs = await timed(() =>
    schemaAt(db.settings).rotate({
      timezone: 'UTC',
      retainMonths: 13,
      aheadMonths: 0,
      dryRun: false,
      lockWaitSeconds: 10,
      now: at(future),
    }),
  )

  // A schema from before pmin: its lowest partition holds every older month. Made by folding pmin into it.
  const lowest = (
    await schemaAt(db.settings).listPartitions({timezone: 'UTC', retainMonths: 13, aheadMonths: 0, now: at(future)})
  ).partitions.find((p) => p.name !== 'pmin')!
  for (const table of ['mau', 'mau_user_month'])
    await conn.query(
      `ALTER TABLE ${table} REORGANIZE PARTITION pmin, ${lowest.name} INTO (PARTITION ${lowest.name} VALUES LESS THAN ('${lowest.lessThan}'))`,
    )
  const lowestMonth = lowest.name.slice(1)
  await fill(lowestMonth, pmaxRows)
  const lowestRows = await count(`SELECT COUNT(*) AS n FROM mau PARTITION (${lowest.name})`)
  log(`first rotate of an older schema: ${lowest.name} holds ${lowestRows} rows; pmin is made below it`)
  let pminMs = 0
  const pminTotal = await timed(async () => {
    const r = await schemaAt(db.settings).rotate({
      timezone: 'UTC',
      retainMonths: 13,
      aheadMonths: 0,
      dryRun: false,
      lockWaitSeconds: 10,
      now: at(future),
    })
    pminMs = r.executed.filter((e) => e.kind === 'split').reduce((a, e) => a + e.ms, 0)
  })
  const pminNames = (
    await schemaAt(db.settings).listPartitions({timezone: 'UTC', retainMonths: 13, aheadMonths: 0, now: at(future)})
  ).partitions.map((p) => p.name)
  const [[version]] = await conn.query<RowDataPacket[]>('SELECT VERSION() AS v')

  const lines = [
    '# bench:partitions',
    '',
    `Run: ${new Date().toISOString()} on ${cpus().length} cores, MariaDB ${version?.v} (defaults: 128 MB buffer pool), node ${process.version}.`,
    '',
    '| measure | value |',
    '| --- | --- |',
    `| rows in the expired month's partition p${expired} | ${rows.toLocaleString('en-US')} (filled in ${(fillMs / 1000).toFixed(1)} s) |`,
    `| **mau partitions rotate**, dropping it (${dropped.join(', ')}), whole command incl. lock, plan and kept totals | **${dropMs.toFixed(0)} ms** (the DROP PARTITION statements alone: ${dropStatementsMs} ms) |`,
    `| DELETE FROM mau_copy WHERE yearmonth = '${expired}' on an identical copy | ${(deleteMs / 1000).toFixed(1)} s |`,
    `| rows of the expired month left after rotate | ${left} |`,
    `| rows of the kept month ${now} before / after rotate | ${keptBefore} / ${keptAfter} |`,
    `| rotate splitting a pmax that holds ${pmaxRows.toLocaleString('en-US')} rows of ${future} (the REORGANIZE alone) | ${(splitTotal / 1000).toFixed(1)} s (${(splitMs / 1000).toFixed(1)} s) |`,
    `| rows of ${future} in p${future} afterwards | ${inOwn.toLocaleString('en-US')} |`,
    `| the daily rotate with nothing to do (reads pmin and any partition of several months below the oldest month kept) | ${dailyMs.toFixed(0)} ms |`,
    `| first rotate of a schema from before pmin, its lowest partition ${lowest.name} holding ${lowestRows.toLocaleString('en-US')} rows (both tables' REORGANIZE alone) | ${(pminTotal / 1000).toFixed(1)} s (${(pminMs / 1000).toFixed(1)} s); then ${pminNames.slice(0, 2).join(', ')}, … |`,
    '',
    'Target (issue 5): the drop under 1 second.',
  ]
  publish('partitions', lines)
} finally {
  await conn.end()
  await db.drop()
}
process.exit(0)
