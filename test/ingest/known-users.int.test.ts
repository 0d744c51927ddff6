/**
 * The known users against the real MariaDB: a window leaves out the users it knows, and a database whose
 * offsets another hand changed (a restored dump, a failover to a replica behind, a partition moved on) is
 * found out in the next window's transaction, before anything is skipped, so the month's summary stays exact.
 */
import {afterEach, beforeEach, describe, expect, it} from 'vitest'
import {openDb, type Db} from '../../src/core/db.js'
import {currentMonth, MonthResolver} from '../../src/core/month.js'
import {prepareBatch} from '../../src/ingest/batch.js'
import {decodeJson} from '../../src/ingest/decode.js'
import {KnownUsers} from '../../src/ingest/known-users.js'
import {persistWindow, type WindowChunk} from '../../src/ingest/writer.js'
import {sent, writerPool} from '../../src/mau/rows.js'
import {checkSummary} from '../../src/mau/summary.js'
import {query, startPartitions} from '../fixtures/mau.js'
import {createTestDatabase, type TestDatabase} from '../fixtures/services.js'

let db: TestDatabase
let pool: Db
const month = currentMonth('UTC')
const months = new MonthResolver('UTC')

beforeEach(async () => {
  db = await createTestDatabase({migrated: true})
  pool = openDb(db.settings, writerPool(2))
})
afterEach(async () => {
  await pool.end()
  await db.drop()
})

/** Partition 0's messages from `from` on, one event each of this month. */
function chunk(from: number, users: string[], partition = 0): WindowChunk {
  const t = Math.floor(Date.now() / 1000) - 60
  const messages = users.map((u, i) => ({
    offset: String(from + i),
    value: Buffer.from(JSON.stringify({environment_namespace: 'prod', user_id: u, source_id: 'IOS', last_seen: t})),
  }))
  return {ref: {group: 'g', topic: 't', partition}, from, batch: prepareBatch(messages, decodeJson, t + 60)}
}
const write = (known: KnownUsers, ...chunks: WindowChunk[]) =>
  persistWindow(pool, chunks, months, Math.floor(Date.now() / 1000), {known})
const userMonths = async () =>
  (await query(db.settings, 'SELECT user_id FROM mau_user_month ORDER BY 1')).map((r) => String(r.user_id))

describe('known users', () => {
  it('leaves out the users it knows, and the summary still counts each user once', async () => {
    const known = new KnownUsers(1000, () => currentMonth('UTC'))
    await startPartitions(pool, [chunk(0, [])])
    await write(known, chunk(0, ['alice', 'bob']))
    const before = sent.bytes
    await write(known, chunk(2, ['alice', 'bob']))
    const known2 = sent.bytes - before
    await write(known, chunk(4, ['alice', 'carol']))
    expect(known.count).toBe(3)
    // The second window recorded no user: only the upsert of its two rows went out.
    expect(known2).toBeLessThan(1000)
    expect(await userMonths()).toEqual(['alice', 'bob', 'carol'])
    expect((await checkSummary(pool, month)).ok).toBe(true)
  })

  it('forgets what it knew when the database lost a window it learned from, and records those users again', async () => {
    const known = new KnownUsers(1000, () => currentMonth('UTC'))
    await startPartitions(pool, [chunk(0, []), chunk(0, [], 1)])
    await write(known, chunk(0, ['alice', 'bob']))
    expect(known.has('prod', month, 'alice')).toBe(true)
    // A dump taken before that window is restored: its rows and its offset are gone.
    for (const table of ['mau', 'mau_user_month', 'mau_summary']) await query(db.settings, `DELETE FROM ${table}`)
    await query(db.settings, 'UPDATE mau_consumer_offset SET next_offset = 0')
    // The next window is of partition 1 only (partition 0 has nothing new yet): partition 0's stored
    // offset, which this window does not lock, is what shows the loss.
    const generation = known.generation
    await write(known, chunk(0, ['alice', 'erin'], 1))
    expect(known.generation).toBe(generation + 1)
    await write(known, chunk(0, ['alice', 'bob', 'carol']))
    expect(await userMonths()).toEqual(['alice', 'bob', 'carol', 'erin'])
    const check = await checkSummary(pool, month)
    expect(check.differences).toEqual([])
  })

  it('forgets what it knew when another writer moved a partition on, and counts every user once after', async () => {
    const known = new KnownUsers(1000, () => currentMonth('UTC'))
    await startPartitions(pool, [chunk(0, []), chunk(0, [], 1)])
    await write(known, chunk(0, ['alice']), chunk(0, ['bob'], 1))
    // Partition 1 went to another replica, or an operator moved it on: after a lost window the two look alike.
    await query(db.settings, 'UPDATE mau_consumer_offset SET next_offset = 50 WHERE kafka_partition = 1')
    const generation = known.generation
    await write(known, chunk(1, ['alice', 'carol']))
    expect(known.generation).toBe(generation + 1)
    expect(known.has('prod', month, 'carol')).toBe(true)
    expect(known.has('prod', month, 'bob')).toBe(false)
    expect((await checkSummary(pool, month)).differences).toEqual([])
  })
})
