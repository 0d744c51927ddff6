/**
 * Dead letters do not grow forever: the daily `partitions rotate` deletes those past their retention (90 days
 * unless told), in bounded statements, says how many (or would, with --dry-run), and records the retention
 * for the consumer's mau_dead_letters_past_retention. The built CLI and mau's own functions, against MariaDB.
 */
import type {ResultSetHeader, RowDataPacket} from 'mysql2/promise'
import {afterEach, beforeEach, describe, expect, it} from 'vitest'
import {type Db, openDb, type Queryable} from '../../src/core/db.js'
import {ConsumerMetrics} from '../../src/ingest/metrics.js'
import {deadLettersPastRetention, readRotateGauges} from '../../src/ingest/partition-watch.js'
import {DEAD_LETTER_DELETE_BATCH, expireDeadLetters} from '../../src/schema/retention.js'
import {query} from '../fixtures/mau.js'
import {createTestDatabase, type TestDatabase} from '../fixtures/services.js'
import {mau} from '../helpers/cli.js'

let db: TestDatabase
let pool: Db
beforeEach(async () => {
  db = await createTestDatabase({migrated: true})
  pool = openDb(db.settings)
})
afterEach(async () => {
  await pool.end()
  await db.drop()
})

const DAY = 86_400
const nowSeconds = () => Math.floor(Date.now() / 1000)
let nextOffset = 0

/** Dead letters set aside `daysAgo` days ago (plus a minute, so that none sits on the cutoff's second). */
async function setAside(count: number, daysAgo: number): Promise<void> {
  const at = nowSeconds() - daysAgo * DAY - (daysAgo > 0 ? 60 : 0)
  for (let done = 0; done < count; done += 500) {
    const n = Math.min(500, count - done)
    const rows = Array.from({length: n}, () => [
      'g',
      't',
      0,
      nextOffset++,
      'user_id: empty',
      Buffer.from('{"bad":1}'),
      at,
    ])
    await query(
      db.settings,
      `INSERT INTO mau_dead_letter (consumer_group, topic, kafka_partition, kafka_offset, reason, payload, created_at) VALUES ${rows.map(() => '(?,?,?,?,?,?,?)').join(',')}`,
      rows.flat(),
    )
  }
}

const ages = async () =>
  (await query<RowDataPacket>(db.settings, 'SELECT created_at FROM mau_dead_letter ORDER BY created_at')).map((r) =>
    Math.floor((nowSeconds() - Number(r.created_at)) / DAY),
  )
const recorded = async () =>
  (
    await query<RowDataPacket>(db.settings, "SELECT value FROM mau_setting WHERE name = 'dead_letter_retention_days'")
  ).map((r) => String(r.value))
const cli = (...args: string[]) => mau(['partitions', 'rotate', ...args], {MAU_MYSQL_URL: db.url})

describe('partitions rotate and dead letters', () => {
  it('with --dry-run counts those older than 90 days and deletes nothing; a run deletes exactly them, and says so', async () => {
    await setAside(3, 100)
    await setAside(2, 89)
    await setAside(1, 0)

    const dry = cli('--dry-run', '--json')
    expect(dry.code, dry.stderr).toBe(0)
    expect(JSON.parse(dry.stdout).deadLetters).toMatchObject({retentionDays: 90, deleted: 3})
    expect(cli('--dry-run').stdout).toMatch(
      /^-- would delete 3 dead letters set aside before \S+Z \(retention: 90 days\)$/m,
    )
    expect(await ages()).toEqual([100, 100, 100, 89, 89, 0])
    expect(await recorded()).toEqual([])

    const run = cli()
    expect(run.code, run.stderr).toBe(0)
    expect(run.stdout).toMatch(/^deleted 3 dead letters set aside before \S+Z \(retention: 90 days\)$/m)
    expect(await ages()).toEqual([89, 89, 0])
    expect(await recorded()).toEqual(['90'])
    // Nothing left past the retention: a second run deletes nothing.
    expect(JSON.parse(cli('--json').stdout).deadLetters).toMatchObject({deleted: 0})
  })

  it('takes the retention from MAU_DEAD_LETTER_RETENTION_DAYS or the flag, and refuses 0', async () => {
    await setAside(2, 40)
    await setAside(1, 10)
    const r = mau(['partitions', 'rotate', '--json'], {MAU_MYSQL_URL: db.url, MAU_DEAD_LETTER_RETENTION_DAYS: '30'})
    expect(JSON.parse(r.stdout).deadLetters).toMatchObject({retentionDays: 30, deleted: 2})
    expect(JSON.parse(cli('--dead-letter-retention-days', '7', '--json').stdout).deadLetters).toMatchObject({
      retentionDays: 7,
      deleted: 1,
    })
    expect(await ages()).toEqual([])
    const zero = cli('--dead-letter-retention-days', '0', '--json')
    expect(zero.code).toBe(2)
    expect(JSON.parse(zero.stdout).error.message).toContain('greater than or equal to 1 but received: 0')
  })

  it('deletes a backlog larger than one statement in statements of at most 1,000 rows, keeping the recent', async () => {
    await setAside(2_500, 200)
    await setAside(4, 1)
    const deletes: number[] = []
    // mau's own pool; each statement's rows counted as MySQL reports them.
    const counting: Queryable = {
      query: (async (sql: string, values?: unknown[]) => {
        const result = await pool.query(sql, values)
        if (sql.startsWith('DELETE')) deletes.push((result[0] as ResultSetHeader).affectedRows)
        return result
      }) as Queryable['query'],
    }
    const expiry = await expireDeadLetters(counting, {retentionDays: 90, dryRun: false})
    expect(expiry.deleted).toBe(2_500)
    expect(deletes).toEqual([DEAD_LETTER_DELETE_BATCH, DEAD_LETTER_DELETE_BATCH, 500])
    expect(await ages()).toEqual([1, 1, 1, 1])
  })
})

describe("mau_dead_letters_past_retention (the consumer's metric)", () => {
  it('counts what the next rotate deletes, by the retention the last rotate recorded, and is 0 after a run', async () => {
    await setAside(3, 100)
    await setAside(2, 40)
    await setAside(1, 0)
    // No rotate yet: the default retention.
    expect(await deadLettersPastRetention(pool)).toBe(3)

    // As Prometheus reads it from the consumer's /metrics.
    const metrics = new ConsumerMetrics()
    const scrape = async () => {
      await readRotateGauges(pool, metrics, 'UTC')
      return /^mau_dead_letters_past_retention (\d+)$/m.exec(await metrics.registry.metrics())?.[1]
    }
    expect(await scrape()).toBe('3')

    expect(cli('--dead-letter-retention-days', '60', '--dry-run').code).toBe(0)
    expect(await deadLettersPastRetention(pool)).toBe(3)
    expect(cli('--dead-letter-retention-days', '60').code).toBe(0)
    expect(await deadLettersPastRetention(pool)).toBe(0)
    // A letter past the recorded 60 days, not past the default 90: counted.
    await setAside(1, 61)
    expect(await scrape()).toBe('1')
  })
})
