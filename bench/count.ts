/**
 * npm run bench:count [-- --largest N]
 * Loads one month with environments of 10 thousand, 100 thousand, 1 million and N (default 10 million)
 * user rows, plus 200 small environments; builds the summary with `summary rebuild`; then times `count`
 * from the summary (median of 21) for each size against `count --scan` (median of 3) in the same run.
 * Writes bench/results/count.md.
 */
import {cpus} from 'node:os'
import {parseArgs} from 'node:util'
import type {RowDataPacket} from 'mysql2/promise'
import {count, countByScan} from '../src/mau/count.js'
import {rebuildSummary} from '../src/mau/summary.js'
import {currentMonth} from '../src/core/month.js'
import {openDb} from '../src/core/db.js'
import {publish} from './results.js'
import {createNumbers, fillEnvironment} from './rows.js'
import {createTestDatabase} from '../test/fixtures/services.js'

const {values: args} = parseArgs({options: {largest: {type: 'string', default: '10000000'}}})
const sizes = [10_000, 100_000, 1_000_000, Number(args.largest)]
const log = (m: string) => console.error(`[bench:count] ${m}`)
const month = currentMonth('UTC')

const db = await createTestDatabase({migrated: true})
const pool = openDb(db.settings, {connectionLimit: 2})
const ms = async (fn: () => Promise<unknown>) => {
  const t = process.hrtime.bigint()
  await fn()
  return Number(process.hrtime.bigint() - t) / 1e6
}
const median = async (n: number, fn: () => Promise<unknown>) => {
  const times: number[] = []
  for (let i = 0; i < n; i++) times.push(await ms(fn))
  return times.sort((a, b) => a - b)[Math.floor(n / 2)]!
}
try {
  await createNumbers(pool)
  const fill = (env: string, rows: number) => fillEnvironment(pool, {env, month, rows})
  const loadStarted = Date.now()
  for (const size of sizes) {
    log(`loading env-${size} (${size} rows)`)
    await fill(`env-${size}`, size)
  }
  for (let i = 0; i < 200; i++) await fill(`small-${i}`, 100)
  const [[total]] = await pool.query<RowDataPacket[]>('SELECT COUNT(*) AS n FROM mau')
  const loadSeconds = (Date.now() - loadStarted) / 1000
  log('summary rebuild')
  const rebuildMs = await ms(() => rebuildSummary(pool, month))

  const lines: string[] = []
  for (const size of sizes) {
    const env = `env-${size}`
    const fromSummary = await count(pool, {month, namespaces: [env]})
    const summaryMs = await median(21, () => count(pool, {month, namespaces: [env]}))
    log(`scanning ${env}`)
    const scanMs = await median(3, () => countByScan(pool, {month, namespaces: [env]}))
    const scanned = await countByScan(pool, {month, namespaces: [env]})
    const same = JSON.stringify(scanned) === JSON.stringify(fromSummary) ? 'equal' : 'DIFFERENT'
    lines.push(
      `| ${size.toLocaleString('en-US')} | ${fromSummary.total.users.toLocaleString('en-US')} | ${summaryMs.toFixed(2)} ms | ${(scanMs / 1000).toFixed(2)} s | ${same} |`,
    )
  }
  const allMs = await median(21, () => count(pool, {month}))
  const [[version]] = await pool.query<RowDataPacket[]>('SELECT VERSION() AS v')
  const out = [
    '# bench:count',
    '',
    `Run: ${new Date().toISOString()} on ${cpus().length} cores, MariaDB ${version?.v} (defaults: 128 MB buffer pool), node ${process.version}.`,
    `Month ${month}: ${Number(total?.n).toLocaleString('en-US')} user rows in ${sizes.length + 200} environments, loaded in ${loadSeconds.toFixed(0)} s;`,
    `\`summary rebuild\` of the month (a full scan, then the summary written) took ${(rebuildMs / 1000).toFixed(1)} s.`,
    '',
    '| environment size (users) | users counted | `count` from the summary (median of 21) | `count --scan` (median of 3) | summary vs scan |',
    '| --- | --- | --- | --- | --- |',
    ...lines,
    '',
    `\`count\` of the whole month (all ${sizes.length + 200} environments, from the summary, median of 21): ${allMs.toFixed(2)} ms.`,
    '',
    'Target (issue 4): `count` under 50 ms median for the largest month, and flat (within 2x) from 10 thousand to 10 million users.',
  ]
  publish('count', out)
} finally {
  await pool.end()
  await db.drop()
}
process.exit(0)
