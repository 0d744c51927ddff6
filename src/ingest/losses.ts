/**
 * Messages Kafka deleted before the consumer applied them (mau_offset_loss): recorded, in the transaction
 * that moves the stored offset past them, and unacknowledged until an operator has found out why.
 */
import type {RowDataPacket} from 'mysql2/promise'
import type {Queryable} from '../core/db.js'
import type {Loss} from './continuity.js'
import type {PartitionRef} from './offsets.js'

export interface RecordedLoss extends Loss {
  id: number
  group: string
  /** Unix seconds. */
  detectedAt: number
  acknowledgedAt: number | null
}

export async function recordLoss(
  conn: Queryable,
  ref: PartitionRef,
  loss: Omit<Loss, 'topic' | 'partition'>,
  now: number,
): Promise<void> {
  // INSERT IGNORE: the same gap found again (a replica that positioned at the same moment) is one loss.
  await conn.query(
    'INSERT IGNORE INTO mau_offset_loss (consumer_group, topic, kafka_partition, from_offset, to_offset, messages, detected_at) VALUES (?, ?, ?, ?, ?, ?, ?)',
    [ref.group, ref.topic, ref.partition, loss.from, loss.to, loss.messages, now],
  )
}

export interface LossFilter {
  group?: string
  topic?: string
  partition?: number
  /** Also the acknowledged ones. */
  all?: boolean
}

function where(f: LossFilter): {sql: string; values: unknown[]} {
  const filters = (
    [
      ['consumer_group', f.group],
      ['topic', f.topic],
      ['kafka_partition', f.partition],
    ] as const
  ).filter(([, v]) => v !== undefined)
  const clauses = [...(f.all ? [] : ['acknowledged_at IS NULL']), ...filters.map(([column]) => `${column} = ?`)]
  return {sql: clauses.length > 0 ? `WHERE ${clauses.join(' AND ')}` : '', values: filters.map(([, v]) => v)}
}

export async function listLosses(db: Queryable, f: LossFilter = {}): Promise<RecordedLoss[]> {
  const w = where(f)
  const [rows] = await db.query<RowDataPacket[]>(
    `SELECT id, consumer_group, topic, kafka_partition, from_offset, to_offset, messages, detected_at, acknowledged_at FROM mau_offset_loss ${w.sql} ORDER BY id`,
    w.values,
  )
  return rows.map((r) => ({
    id: Number(r.id),
    group: String(r.consumer_group),
    topic: String(r.topic),
    partition: Number(r.kafka_partition),
    from: Number(r.from_offset),
    to: Number(r.to_offset),
    messages: Number(r.messages),
    detectedAt: Number(r.detected_at),
    acknowledgedAt: r.acknowledged_at === null ? null : Number(r.acknowledged_at),
  }))
}

/** Acknowledges the unacknowledged losses the filter selects; returns them. */
export async function acknowledgeLosses(
  db: Queryable,
  f: Omit<LossFilter, 'all'>,
  now: number,
): Promise<RecordedLoss[]> {
  const losses = await listLosses(db, f)
  if (losses.length === 0) return []
  await db.query(
    `UPDATE mau_offset_loss SET acknowledged_at = ? WHERE acknowledged_at IS NULL AND id IN (${losses.map(() => '?').join(',')})`,
    [now, ...losses.map((l) => l.id)],
  )
  return losses.map((l) => ({...l, acknowledgedAt: now}))
}
