/** mau deadletter list as an operator runs it: filters, JSON, and a clear error for a bad --since. */
import {afterAll, beforeAll, describe, expect, it} from 'vitest'
import {query} from '../fixtures/mau.js'
import {createTestDatabase, type TestDatabase} from '../fixtures/services.js'
import {mauAsync} from '../helpers/cli.js'

let db: TestDatabase
beforeAll(async () => {
  db = await createTestDatabase({migrated: true})
  const insert =
    'INSERT INTO mau_dead_letter (consumer_group, topic, kafka_partition, kafka_offset, reason, payload, created_at) VALUES (?, ?, ?, ?, ?, ?, ?)'
  await query(db.settings, insert, [
    'g',
    'events',
    0,
    5,
    'decode: not valid JSON',
    Buffer.from('{oops'),
    Date.UTC(2022, 11, 1, 12) / 1000,
  ])
  await query(db.settings, insert, [
    'other-group',
    'events',
    1,
    9,
    'decode: not a valid protobuf',
    Buffer.from([0xff, 0x00]),
    Date.UTC(2022, 11, 3) / 1000,
  ])
})
afterAll(async () => {
  await db.drop()
})

const list = (args: string[]) => mauAsync(['deadletter', 'list', ...args], {MAU_MYSQL_URL: db.url})

describe('mau deadletter list', () => {
  it('shows every entry with its reason and payload, newest first', async () => {
    const r = await list([])
    expect(r.code).toBe(0)
    expect(r.stdout).toMatch(/events\/1@9.*decode: not a valid protobuf.*base64:\/wA=/)
    expect(r.stdout).toMatch(/events\/0@5.*decode: not valid JSON.*\{oops/)
    expect(r.stdout).toMatch(/2 of 2 dead-lettered events/)
  })

  it('filters by group and by an instant read in --timezone', async () => {
    const byGroup = JSON.parse((await list(['--group', 'g', '--json'])).stdout)
    expect(byGroup.entries.map((e: {offset: number}) => e.offset)).toEqual([5])
    // Noon of 1 December in UTC is 21:00 in Tokyo: "2022-12-01T20:00" there lets it in, "2022-12-01T22:00" does not.
    const early = JSON.parse((await list(['--since', '2022-12-01T20:00', '--timezone', 'Asia/Tokyo', '--json'])).stdout)
    const late = JSON.parse((await list(['--since', '2022-12-01T22:00', '--timezone', 'Asia/Tokyo', '--json'])).stdout)
    expect([early.total, late.total]).toEqual([2, 1])
  })

  it('exits 2 naming a --since it cannot read', async () => {
    const r = await list(['--since', 'yesterday', '--json'])
    expect(r.code).toBe(2)
    expect(JSON.parse(r.stdout).error.message).toMatch(/^Invalid --since "yesterday": expected an ISO 8601 time/)
  })

  it('exits 5 asking for db migrate on a database without migration 011 (no stream_entry_id)', async () => {
    const old = await createTestDatabase({migrated: true})
    try {
      await query(old.settings, 'ALTER TABLE mau_dead_letter DROP COLUMN stream_entry_id')
      const r = await mauAsync(['deadletter', 'list', '--json'], {MAU_MYSQL_URL: old.url})
      expect(r.code, r.stderr).toBe(5)
      expect(JSON.parse(r.stdout)).toMatchObject({error: {code: 'SCHEMA_MISSING'}})
      expect(r.stdout).toContain('mau db migrate')
    } finally {
      await old.drop()
    }
  })
})
