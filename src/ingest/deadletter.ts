/** Events the consumer could not use, set aside in mau_dead_letter with the reason, and read back. */
import type {PoolConnection, ResultSetHeader, RowDataPacket} from 'mysql2/promise'
import {type Db, placeholders, type Queryable} from '../core/db.js'
import type {DeadLetter} from './batch.js'
import type {PartitionRef} from './offsets.js'

/** In the batch's transaction: a dead letter is stored exactly when its offset is applied. */
export async function insertDeadLetters(conn: PoolConnection, ref: PartitionRef, items: DeadLetter[], now: number): Promise<void> {
  if (items.length === 0) return
  const values: unknown[] = []
  for (const d of items) values.push(ref.group, ref.topic, ref.partition, d.offset, `${d.rejection.code}: ${d.rejection.message}`.slice(0, 1024), d.payload, now)
  await conn.query(
    `INSERT IGNORE INTO mau_dead_letter (consumer_group, topic, kafka_partition, kafka_offset, reason, payload, created_at) VALUES ${placeholders(items.length, 7)}`,
    values,
  )
}

export interface DeadLetterEntry {
  id: number
  consumerGroup: string
  topic: string
  partition: number
  offset: number
  reason: string
  createdAt: string
  /** The message as text when it is valid UTF-8 without control characters, else base64. */
  payload: string | null
  payloadEncoding: 'utf8' | 'base64' | null
}

/** Which dead letters a command is about; every filter optional. */
export interface DeadLetterFilter {
  topic?: string
  group?: string
  /** Unix seconds: set aside at or after. */
  since?: number
  /** Unix seconds: set aside before. */
  before?: number
}

export interface DeadLetterQuery extends DeadLetterFilter {
  limit: number
}

function where(f: DeadLetterFilter, extra: [string, unknown][] = []): {sql: string; values: unknown[]} {
  const filters: [string, unknown][] = [...extra]
  if (f.topic) filters.push(['topic = ?', f.topic])
  if (f.group) filters.push(['consumer_group = ?', f.group])
  if (f.since !== undefined) filters.push(['created_at >= ?', f.since])
  if (f.before !== undefined) filters.push(['created_at < ?', f.before])
  return {sql: filters.length ? `WHERE ${filters.map(([sql]) => sql).join(' AND ')}` : '', values: filters.map(([, v]) => v)}
}

export async function countDeadLetters(db: Queryable, f: DeadLetterFilter): Promise<number> {
  const w = where(f)
  const [[count]] = await db.query<RowDataPacket[]>(`SELECT COUNT(*) AS n FROM mau_dead_letter ${w.sql}`, w.values)
  return Number(count?.n ?? 0)
}

export async function listDeadLetters(db: Db, q: DeadLetterQuery): Promise<{total: number; entries: DeadLetterEntry[]}> {
  const w = where(q)
  const [rows] = await db.query<RowDataPacket[]>(
    `SELECT id, consumer_group, topic, kafka_partition, kafka_offset, reason, payload, created_at FROM mau_dead_letter ${w.sql} ORDER BY id DESC LIMIT ?`,
    [...w.values, q.limit],
  )
  return {
    total: await countDeadLetters(db, q),
    entries: rows.map((r) => ({
      id: Number(r.id),
      consumerGroup: String(r.consumer_group),
      topic: String(r.topic),
      partition: Number(r.kafka_partition),
      offset: Number(r.kafka_offset),
      reason: String(r.reason),
      createdAt: new Date(Number(r.created_at) * 1000).toISOString(),
      ...showPayload(r.payload as Buffer | null),
    })),
  }
}

/**
 * The next page of dead letters after an id, oldest first. With lock, the rows stay locked until the
 * transaction ends: two replays cannot both take the same letter.
 */
export async function deadLetterPage(conn: Queryable, f: DeadLetterFilter, afterId: number, limit: number, lock: boolean): Promise<{id: number; payload: Buffer | null}[]> {
  const w = where(f, [['id > ?', afterId]])
  const [rows] = await conn.query<RowDataPacket[]>(`SELECT id, payload FROM mau_dead_letter ${w.sql} ORDER BY id LIMIT ?${lock ? ' FOR UPDATE' : ''}`, [...w.values, limit])
  return rows.map((r) => ({id: Number(r.id), payload: (r.payload as Buffer | null) ?? null}))
}

export async function deleteDeadLetters(conn: Queryable, ids: number[]): Promise<void> {
  if (ids.length > 0) await conn.query(`DELETE FROM mau_dead_letter WHERE id IN (${ids.map(() => '?').join(',')})`, ids)
}

/** Deletes the matching dead letters in chunks (short transactions, no long lock); returns how many. */
export async function purgeDeadLetters(db: Db, f: DeadLetterFilter, chunk = 10_000): Promise<number> {
  const w = where(f)
  let purged = 0
  for (;;) {
    const [r] = await db.query<ResultSetHeader>(`DELETE FROM mau_dead_letter ${w.sql} ORDER BY id LIMIT ?`, [...w.values, chunk])
    purged += r.affectedRows
    if (r.affectedRows < chunk) return purged
  }
}

/** Pure: a payload as text when it is valid UTF-8 without control characters, else as base64. */
export function showPayload(payload: Buffer | null): Pick<DeadLetterEntry, 'payload' | 'payloadEncoding'> {
  if (payload === null) return {payload: null, payloadEncoding: null}
  const text = payload.toString('utf8')
  const printable = Buffer.from(text, 'utf8').equals(payload) && !/[\u0000-\u0008\u000e-\u001f]/.test(text)
  return printable ? {payload: text, payloadEncoding: 'utf8'} : {payload: payload.toString('base64'), payloadEncoding: 'base64'}
}
