/**
 * Each stream's position in MySQL (mau_consumer_offset): the stream is a topic of one partition (0), its
 * next_offset counts entries (streams.ts) and stream_entry_id is the last entry applied. Written by the
 * window's transaction (writer.ts) and, for a stream's first position or a loss, here.
 */
import type {RowDataPacket} from 'mysql2/promise'
import {type Db, inTransaction, schemaMissing} from '../../core/db.js'
import {recordLoss} from '../losses.js'
import {lockStoredOffset, type PartitionRef} from '../offsets.js'
import {FIRST_ID, type StreamLoss, type StreamPosition} from './streams.js'

/** A stream is one partition. */
export const STREAM_PARTITION = 0

export const streamRef = (group: string, key: string): PartitionRef => ({
  group,
  topic: key,
  partition: STREAM_PARTITION,
})

/** Fails with exit 5 before anything is read if migration 011 (the entry id column) is not applied. */
export async function requireStreamColumns(db: Db): Promise<void> {
  try {
    await db.query('SELECT stream_entry_id FROM mau_consumer_offset LIMIT 1')
  } catch (error) {
    if ((error as {code?: string}).code === 'ER_BAD_FIELD_ERROR')
      throw schemaMissing('mau_consumer_offset has no stream_entry_id (migration 011).')
    throw error
  }
}

/** The stored positions of these streams (a row with no entry id: nothing applied yet). */
export async function storedPositions(
  db: Db,
  group: string,
  keys: readonly string[],
): Promise<Map<string, StreamPosition>> {
  if (keys.length === 0) return new Map()
  const [rows] = await db.query<RowDataPacket[]>(
    `SELECT topic, next_offset, stream_entry_id FROM mau_consumer_offset WHERE consumer_group = ? AND kafka_partition = ? AND topic IN (${keys.map(() => '?').join(',')})`,
    [group, STREAM_PARTITION, ...keys],
  )
  return new Map(
    rows
      .filter((r) => Number(r.next_offset) >= 0)
      .map((r) => [
        String(r.topic),
        {id: r.stream_entry_id === null ? FIRST_ID : String(r.stream_entry_id), next: Number(r.next_offset)},
      ]),
  )
}

/** A stream's first position; a row another replica wrote meanwhile is kept. Returns what is stored. */
export async function seedPosition(
  db: Db,
  group: string,
  key: string,
  position: StreamPosition,
  now: number,
): Promise<StreamPosition> {
  await db.query(
    'INSERT IGNORE INTO mau_consumer_offset (consumer_group, topic, kafka_partition, next_offset, stream_entry_id, updated_at) VALUES (?, ?, ?, ?, ?, ?)',
    [group, key, STREAM_PARTITION, position.next, position.id, now],
  )
  return (await storedPositions(db, group, [key])).get(key) ?? position
}

/**
 * Entries trimmed before they were applied: recorded in mau_offset_loss, in the transaction that moves the
 * count past them. False when the stored position moved meanwhile (another replica): position again.
 */
export async function skipLost(
  db: Db,
  group: string,
  key: string,
  stored: StreamPosition,
  lost: StreamLoss,
  now: number,
): Promise<boolean> {
  const ref = streamRef(group, key)
  return inTransaction(db, async (conn) => {
    if ((await lockStoredOffset(conn, ref)) !== stored.next) return false
    await recordLoss(conn, ref, lost, now)
    await conn.query(
      'UPDATE mau_consumer_offset SET next_offset = ?, updated_at = ? WHERE consumer_group = ? AND topic = ? AND kafka_partition = ?',
      [lost.to + 1, now, group, key, STREAM_PARTITION],
    )
    return true
  })
}
