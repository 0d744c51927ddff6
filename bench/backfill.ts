/**
 * npm run bench:backfill [-- --events N]
 * Loads N realistic user events of one month into a real Druid (scripts/druid.sh, native batch), then
 * times `backfill` from it into a fresh MariaDB database, checks the rows against ground truth, and
 * times `verify-migration` (exact distinct counts) over the result. Writes bench/results/backfill.md.
 */
import {writerPool} from '../src/mau/rows.js'
import {execFileSync} from 'node:child_process'
import {cpus, totalmem} from 'node:os'
import {parseArgs} from 'node:util'
import {backfill} from '../src/druid/backfill.js'
import {checkSummary} from '../src/mau/summary.js'
import {DruidClient} from '../src/druid/client.js'
import {DruidUserEvents} from '../src/druid/events.js'
import {monthBounds} from '../src/core/month.js'
import {openDb} from '../src/core/db.js'
import {verifyMigration} from '../src/druid/verify.js'
import {readRows} from '../test/fixtures/mau.js'
import {DRUID_BROKER_URL, ingest} from '../test/fixtures/druid-real.js'
import {sample, SCHEMA} from '../test/fixtures/druid-events.js'
import {createTestDatabase, MYSQL_ROOT_URL, uniqueName} from '../test/fixtures/services.js'
import {publish} from './results.js'
import {Truth} from '../test/fixtures/events.js'

const {values: args} = parseArgs({
  options: {events: {type: 'string', default: '1000000'}, 'page-size': {type: 'string', default: '10000'}},
})
const N = Number(args.events)
const log = (m: string) => console.error(`[bench:backfill] ${m}`)
const seconds = async <T>(fn: () => Promise<T>): Promise<[T, number]> => {
  const t = Date.now()
  const r = await fn()
  return [r, (Date.now() - t) / 1000]
}

execFileSync('bash', ['scripts/services.sh', 'start'], {
  stdio: 'inherit',
  env: {...process.env, MAU_MYSQL_URL: MYSQL_ROOT_URL},
})
execFileSync('bash', ['scripts/druid.sh', 'start'], {stdio: 'inherit'})
const november = monthBounds('202211', 'UTC')
const {events, rows} = sample({
  events: N,
  users: 200_000,
  namespaces: 50,
  from: november.start,
  to: november.end,
  seed: 2022,
})
const truth = new Truth('UTC')
for (const e of events) truth.add(e)
const datasource = uniqueName('bench_backfill')
log(`ingesting ${N} events into Druid datasource ${datasource}`)
const [, ingestSeconds] = await seconds(() => ingest(datasource, rows, 900_000))
const db = await createTestDatabase({migrated: true})
const pool = openDb(db.settings, writerPool(2))
try {
  const client = new DruidClient({url: DRUID_BROKER_URL, timeoutMs: 600_000})
  // Time spent waiting on Druid, to tell it apart from MySQL's share.
  const query = client.query.bind(client)
  const waited = {ms: 0, queries: 0}
  client.query = async (...a: Parameters<typeof query>) => {
    const t = Date.now()
    try {
      return await query(...a)
    } finally {
      waited.ms += Date.now() - t
      waited.queries++
    }
  }
  const druid = new DruidUserEvents(client, {...SCHEMA, datasource}, {useApproximateCountDistinct: false})
  log('backfill')
  const [result, backfillSeconds] = await seconds(() =>
    backfill(pool, druid, {month: '202211', timezone: 'UTC', pageSize: Number(args['page-size'])}),
  )
  const druidShare = {...waited}
  const actual = await readRows(db.settings)
  const exact =
    actual.size === truth.rows.size &&
    [...truth.rows].every(([k, v]) => JSON.stringify(actual.get(k)) === JSON.stringify(v))
  if (!exact)
    throw new Error(`backfilled rows differ from ground truth (${actual.size} rows, expected ${truth.rows.size})`)
  if (!(await checkSummary(pool, '202211')).ok) throw new Error('summary counters differ from the rows after backfill')
  log('verify-migration')
  const [verdict, verifySeconds] = await seconds(() =>
    verifyMigration(pool, druid, {month: '202211', timezone: 'UTC', approximate: false, tolerancePercent: 0}),
  )
  const [, againSeconds] = await seconds(() =>
    backfill(pool, druid, {month: '202211', timezone: 'UTC', pageSize: Number(args['page-size'])}),
  )
  const fmt = (n: number) => Math.round(n).toLocaleString('en-US')
  publish('backfill', [
    '# bench:backfill',
    '',
    `Run: ${new Date().toISOString()} on ${cpus().length} cores (${cpus()[0]?.model ?? 'unknown'}), ${(totalmem() / 2 ** 30).toFixed(0)} GiB, node ${process.version};`,
    'Apache Druid 33.0.0 from Maven Central (scripts/druid.sh: ZooKeeper, coordinator-overlord, broker, historical, indexer), MariaDB and mau all on this one machine.',
    '',
    `Events: ${N} user events of November 2022, 50 environments (60% in one), Zipf-skewed over 200000 users, 3 sources; page size ${args['page-size']} users.`,
    '',
    '| measure | value |',
    '| --- | --- |',
    `| ingest into Druid (native batch, setup) | ${ingestSeconds.toFixed(1)} s |`,
    `| **backfill** the month (${result.environments.length} environments) | **${backfillSeconds.toFixed(1)} s**: ${fmt(result.total.rows)} rows, ${fmt(result.total.rows / backfillSeconds)} rows/s, ${fmt(result.total.events / backfillSeconds)} events/s |`,
    `| of which waiting on Druid | ${(druidShare.ms / 1000).toFixed(1)} s in ${druidShare.queries} queries |`,
    `| result | ${exact ? 'exact' : 'DIFFERENT'}: ${fmt(truth.rows.size)} rows and ${fmt(truth.events)} events equal ground truth; summary counters equal a scan |`,
    `| backfill again (replace, same rows) | ${againSeconds.toFixed(1)} s |`,
    `| verify-migration, exact distinct counts | ${verifySeconds.toFixed(1)} s, ${verdict.ok ? 'pass' : 'FAIL'} (${verdict.rows.length} lines) |`,
  ])
} finally {
  await pool.end()
  await db.drop()
}
process.exit(0)
