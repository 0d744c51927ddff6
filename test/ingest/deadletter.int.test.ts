import {afterEach, beforeEach, describe, expect, it} from 'vitest'
import {listDeadLetters} from '../../src/ingest/deadletter.js'
import {openDb, type Db} from '../../src/core/db.js'
import {query} from '../fixtures/mau.js'
import {createTestDatabase, type TestDatabase} from '../fixtures/services.js'

let db: TestDatabase
let pool: Db
beforeEach(async () => {
  db = await createTestDatabase({migrated: true})
  pool = openDb(db.settings)
  const insert =
    'INSERT INTO mau_dead_letter (consumer_group, topic, kafka_partition, kafka_offset, reason, payload, created_at) VALUES (?, ?, ?, ?, ?, ?, ?)'
  await query(db.settings, insert, ['g', 'events', 0, 5, 'decode: not valid JSON', Buffer.from('{oops'), 1_670_000_000])
  await query(db.settings, insert, [
    'g',
    'events',
    1,
    9,
    'decode: not a valid protobuf',
    Buffer.from([0xff, 0x00, 0x01]),
    1_670_100_000,
  ])
  await query(db.settings, insert, ['g', 'other', 0, 1, 'user_id: missing', null, 1_670_200_000])
})
afterEach(async () => {
  await pool.end()
  await db.drop()
})

describe('listDeadLetters', () => {
  it('lists newest first, text payloads as text and binary ones as base64', async () => {
    const r = await listDeadLetters(pool, {limit: 10})
    expect(r.total).toBe(3)
    expect(r.entries.map((e) => [e.topic, e.offset, e.payloadEncoding, e.payload])).toEqual([
      ['other', 1, null, null],
      ['events', 9, 'base64', Buffer.from([0xff, 0x00, 0x01]).toString('base64')],
      ['events', 5, 'utf8', '{oops'],
    ])
  })

  it('filters by topic and time, and counts all matches beyond the limit', async () => {
    const r = await listDeadLetters(pool, {limit: 1, topic: 'events', since: 1_670_000_001})
    expect(r.total).toBe(1)
    expect(r.entries[0]).toMatchObject({
      offset: 9,
      reason: 'decode: not a valid protobuf',
      createdAt: '2022-12-03T20:40:00.000Z',
    })
  })
})
