/** Events the consumer could not use, set aside in mau_dead_letter with the reason, and read back. */
import type {PoolConnection, RowDataPacket} from 'mysql2/promise'
import {type Db, placeholders} from '../core/db.js'
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

export interface DeadLetterQuery {
  limit: number
  topic?: string
  group?: string
  /** Unix seconds. */
  since?: number
}

export async function listDeadLetters(db: Db, q: DeadLetterQuery): Promise<{total: number; entries: DeadLetterEntry[]}> {
  const filters: [string, unknown][] = []
  if (q.topic) filters.push(['topic = ?', q.topic])
  if (q.group) filters.push(['consumer_group = ?', q.group])
  if (q.since !== undefined) filters.push(['created_at >= ?', q.since])
  const clause = filters.length ? `WHERE ${filters.map(([sql]) => sql).join(' AND ')}` : ''
  const values = filters.map(([, v]) => v)
  const [[count]] = await db.query<RowDataPacket[]>(`SELECT COUNT(*) AS n FROM mau_dead_letter ${clause}`, values)
  const [rows] = await db.query<RowDataPacket[]>(
    `SELECT id, consumer_group, topic, kafka_partition, kafka_offset, reason, payload, created_at FROM mau_dead_letter ${clause} ORDER BY id DESC LIMIT ?`,
    [...values, q.limit],
  )
  return {
    total: Number(count?.n ?? 0),
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

/** Pure: a payload as text when it is valid UTF-8 without control characters, else as base64. */
export function showPayload(payload: Buffer | null): Pick<DeadLetterEntry, 'payload' | 'payloadEncoding'> {
  if (payload === null) return {payload: null, payloadEncoding: null}
  const text = payload.toString('utf8')
  const printable = Buffer.from(text, 'utf8').equals(payload) && !/[\u0000-\u0008\u000e-\u001f]/.test(text)
  return printable ? {payload: text, payloadEncoding: 'utf8'} : {payload: payload.toString('base64'), payloadEncoding: 'base64'}
}
