/**
 * A month's life after it ends, against the real MariaDB: retention holds for every row however it
 * arrived, a dropped month keeps its totals for every reader, an expired event never brings it back,
 * and a rotate cut short by a crash leaves a consistent state that the next one finishes.
 */
import {spawn} from 'node:child_process'
import type {RowDataPacket} from 'mysql2/promise'
import {afterEach, beforeEach, describe, expect, it} from 'vitest'
import {openDb, type Db} from '../../src/core/db.js'
import {addMonths, currentMonth, MonthResolver, type YearMonth} from '../../src/core/month.js'
import {prepareBatch} from '../../src/ingest/batch.js'
import {decodeJson} from '../../src/ingest/decode.js'
import {persistWindow} from '../../src/ingest/writer.js'
import {writerPool} from '../../src/mau/rows.js'
import {keepTotals} from '../../src/schema/retention.js'
import {ensureMonthPartition} from '../../src/schema/rotate.js'
import {consumeAll, produce, query, startPartitions} from '../fixtures/mau.js'
import {startServe} from '../fixtures/serve.js'
import {createTestDatabase, createTopic, schemaAt, type TestDatabase} from '../fixtures/services.js'
import {exited} from '../helpers/child.js'
import {mauAsync} from '../helpers/cli.js'

let db: TestDatabase
let pool: Db
let offset = 0
const now = currentMonth('UTC')

beforeEach(async () => {
  db = await createTestDatabase({migrated: true})
  await query(db.settings, "UPDATE mau_setting SET value = '13' WHERE name = 'retain_months'")
  pool = openDb(db.settings, writerPool(2))
})
afterEach(async () => {
  await pool.end()
  await db.drop()
})

const mid = (month: YearMonth) => Date.UTC(Number(month.slice(0, 4)), Number(month.slice(4)) - 1, 15) / 1000
/** Events written through the consumer's own write path, without retention: as an older version, a replay or a backfill wrote them. */
async function write(month: YearMonth, users: string[], env = 'prod'): Promise<void> {
  const t = Math.floor(Date.now() / 1000)
  const messages = users.map((u, i) => ({
    offset: String(offset++),
    value: Buffer.from(
      JSON.stringify({environment_id: env, user_id: u, source_id: i % 2 ? 'IOS' : 'WEB', last_seen: mid(month)}),
    ),
  }))
  const chunks = [
    {
      ref: {group: 'g', topic: 't', partition: 0},
      from: Number(messages[0]!.offset),
      batch: prepareBatch(messages, decodeJson, t),
    },
  ]
  await startPartitions(pool, chunks)
  await persistWindow(pool, chunks, new MonthResolver('UTC'), t)
}
const mau = (args: string[]) => mauAsync(args, {MAU_MYSQL_URL: db.url})
const rowMonths = async () =>
  (await query<RowDataPacket>(db.settings, 'SELECT DISTINCT yearmonth FROM mau ORDER BY 1')).map((r) =>
    String(r.yearmonth),
  )
const kept = async () =>
  (
    await query<RowDataPacket>(
      db.settings,
      'SELECT yearmonth, environment_namespace, source_id, users, events FROM mau_month_total ORDER BY 1, 2, 3',
    )
  ).map((r) => ({...r}))
const rotate = (o: {retainMonths?: number; dryRun?: boolean} = {}) =>
  schemaAt(db.settings).rotate({
    timezone: 'UTC',
    retainMonths: 13,
    aheadMonths: 3,
    dryRun: false,
    lockWaitSeconds: 10,
    ...o,
  })

describe('retention for every row', () => {
  it('drops a month written below the oldest partition once expired, keeping its totals, and isolates the kept one', async () => {
    await write('202510', ['a', 'b', 'c'])
    await write('202601', ['a'])
    const before = JSON.parse((await mau(['count', '--month', '202510', '--by', 'source', '--json'])).stdout)
    const dry = await rotate({dryRun: true})
    expect(dry.keptTotals).toEqual(['202510'])
    expect(dry.statements.join('\n')).toMatch(
      /REORGANIZE PARTITION pmin INTO .*PARTITION p202510 VALUES LESS THAN \('202511'\)/,
    )
    const r = await rotate()
    expect(r.plan.drop).toEqual(['p202510'])
    expect(await rowMonths()).toEqual(['202601'])
    const list = JSON.parse((await mau(['partitions', 'list', '--json'])).stdout)
    expect(list.partitions.find((p: {name: string}) => p.name === 'p202601')).toMatchObject({
      months: ['202601'],
      rows: expect.any(Number),
    })
    // Every reader answers the dropped month from its kept totals, with the numbers it had.
    const after = JSON.parse((await mau(['count', '--month', '202510', '--by', 'source', '--json'])).stdout)
    expect(after).toEqual({...before, rows: 'dropped'})
    expect(after.total).toEqual({users: 3, events: 3})
    expect((await mau(['count', '--month', '202510'])).stdout).toContain('202510: rows dropped by retention')
    const range = JSON.parse((await mau(['count', '--from', '202509', '--to', '202601', '--json'])).stdout)
    expect(
      range.months.map((m: {month: string; total: {users: number}; rows?: string}) => [m.month, m.total.users, m.rows]),
    ).toEqual([
      ['202509', 0, undefined],
      ['202510', 3, 'dropped'],
      ['202511', 0, undefined],
      ['202512', 0, undefined],
      ['202601', 1, undefined],
    ])
    const report = JSON.parse((await mau(['report', 'show', '--month', '202511', '--months', '3', '--json'])).stdout)
    expect(report.history.find((h: {month: string}) => h.month === '202510')).toMatchObject({users: 3, events: 3})
    const served = await startServe({MAU_MYSQL_URL: db.url})
    try {
      expect(await (await served.http('/v1/mau?month=202510')).json()).toEqual({...before, rows: 'dropped'})
      expect(await (await served.http('/v1/mau_count?environment_id=prod&year_month=202510')).json()).toEqual({
        eventCount: '3',
        userCount: '3',
      })
      const series = (
        await (await served.http('/v1/insights/monthly_summary?environment_ids=prod&source_ids=WEB')).json()
      ).series
      expect(series[0].data).toEqual([
        {yearmonth: '202510', mau: '2', requests: '2'},
        {yearmonth: '202601', mau: '1', requests: '1'},
      ])
    } finally {
      await served.stop()
    }
  })

  it('refuses what needs the rows of a dropped month, naming the retention (exit 2)', async () => {
    await write('202510', ['a'])
    await rotate()
    const druid = ['--druid-url', 'http://127.0.0.1:9']
    for (const args of [
      ['count', '--month', '202510', '--scan'],
      ['summary', 'check', '--month', '202510'],
      ['summary', 'rebuild', '--month', '202510'],
      ['verify-migration', '--month', '202510', ...druid],
      ['backfill', '--from', 'druid', '--month', '202510', ...druid],
    ]) {
      const r = await mau([...args, '--json'])
      expect([args.join(' '), r.code]).toEqual([args.join(' '), 2])
      expect(JSON.parse(r.stdout).error.message).toMatch(
        /^The rows of 202510 were dropped by retention \(13 months, mau partitions rotate\)/,
      )
    }
  })
})

describe('backfill of a past month', () => {
  it('gets the month its own partition first, so that retention can later drop it alone', async () => {
    await ensureMonthPartition(pool, '202601', 'UTC')
    const names = JSON.parse((await mau(['partitions', 'list', '--json'])).stdout).partitions.map(
      (p: {name: string}) => p.name,
    )
    expect(names.slice(0, 3)).toEqual(['pmin', 'p202601', `p${addMonths(now, -1)}`])
    await write('202601', ['a'])
    expect(await query(db.settings, 'SELECT COUNT(*) AS n FROM mau PARTITION (p202601)')).toEqual([{n: 1}])
  })
})

describe('an event of a month past retention', () => {
  it('is counted as expired, not written: the dropped month stays dropped, with no partition, row or summary', async () => {
    await write('202510', ['a', 'b'])
    await rotate()
    const totals = await kept()
    const topic = await createTopic(1)
    try {
      await produce(topic.topic, [
        JSON.stringify({environment_id: 'prod', user_id: 'late', source_id: 'IOS', last_seen: mid('202510')}),
        JSON.stringify({
          environment_id: 'prod',
          user_id: 'now',
          source_id: 'IOS',
          last_seen: Math.floor(Date.now() / 1000),
        }),
      ])
      const summary = await consumeAll(pool, topic.topic)
      expect(summary).toMatchObject({consumed: 2, deadLettered: 0, expired: {'202510': 1}})
    } finally {
      await topic.drop()
    }
    expect(await rowMonths()).toEqual([now])
    expect(await query(db.settings, "SELECT COUNT(*) AS n FROM mau_summary WHERE yearmonth = '202510'")).toEqual([
      {n: 0},
    ])
    expect(await kept()).toEqual(totals)
    expect(
      JSON.parse((await mau(['partitions', 'list', '--json'])).stdout).partitions.map((p: {name: string}) => p.name),
    ).not.toContain('p202510')
    expect(JSON.parse((await mau(['count', '--month', '202510', '--json'])).stdout).total).toEqual({
      users: 2,
      events: 2,
    })
  })
})

describe('a rotate cut short', () => {
  it('after keeping the totals: readers answer from them, and the next rotate finishes the job', async () => {
    await write('202510', ['a', 'b'])
    await keepTotals(pool, '202511')
    expect(await rowMonths()).toEqual(['202510'])
    expect(JSON.parse((await mau(['count', '--month', '202510', '--json'])).stdout)).toMatchObject({
      rows: 'dropped',
      total: {users: 2, events: 2},
    })
    await rotate()
    expect(await rowMonths()).toEqual([])
    expect(await query(db.settings, "SELECT COUNT(*) AS n FROM mau_summary WHERE yearmonth = '202510'")).toEqual([
      {n: 0},
    ])
    expect(await kept()).toHaveLength(3)
  })

  it('killed (SIGKILL) at any point: either the rows and their summary, or the totals; the next rotate finishes', async () => {
    for (const [i, delay] of [150, 400, 700].entries()) {
      const month = `20250${i + 4}`
      await write(month, ['a', 'b', 'c'])
      const child = spawn('node', ['bin/run.js', 'partitions', 'rotate', '--json'], {
        env: {...process.env, MAU_MYSQL_URL: db.url},
      })
      await new Promise((r) => setTimeout(r, delay))
      child.kill('SIGKILL')
      await exited(child)
      const rows = (await rowMonths()).includes(month)
      const totals = (await kept()).some((k) => k.yearmonth === month)
      // Rows without totals, rows with totals (cut between the two), or totals alone: never neither.
      expect([month, rows || totals]).toEqual([month, true])
      expect(JSON.parse((await mau(['count', '--month', month, '--json'])).stdout).total).toEqual({users: 3, events: 3})
      await rotate()
      expect(await rowMonths()).not.toContain(month)
      expect(JSON.parse((await mau(['count', '--month', month, '--json'])).stdout)).toMatchObject({
        rows: 'dropped',
        total: {users: 3, events: 3},
      })
    }
  })
})
