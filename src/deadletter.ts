/** Reading back the events the consumer set aside, with why. */
import type {RowDataPacket} from 'mysql2/promise'
import type {Db} from './store.js'

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
  const where = filters.map(([sql]) => sql)
  const values = filters.map(([, v]) => v)
  const clause = where.length ? `WHERE ${where.join(' AND ')}` : ''
  const [[count]] = await db.query<RowDataPacket[]>(`SELECT COUNT(*) AS n FROM mau_dead_letter ${clause}`, values)
  const [rows] = await db.query<RowDataPacket[]>(
    `SELECT id, consumer_group, topic, kafka_partition, kafka_offset, reason, payload, created_at FROM mau_dead_letter ${clause} ORDER BY id DESC LIMIT ?`,
    [...values, q.limit],
  )
  return {
    total: Number(count?.n ?? 0),
    entries: rows.map((r) => {
      const payload = r.payload as Buffer | null
      const text = payload?.toString('utf8')
      const printable = text !== undefined && Buffer.from(text, 'utf8').equals(payload!) && !/[\u0000-\u0008\u000e-\u001f]/.test(text)
      return {
        id: Number(r.id),
        consumerGroup: String(r.consumer_group),
        topic: String(r.topic),
        partition: Number(r.kafka_partition),
        offset: Number(r.kafka_offset),
        reason: String(r.reason),
        createdAt: new Date(Number(r.created_at) * 1000).toISOString(),
        payload: payload === null ? null : printable ? text! : payload.toString('base64'),
        payloadEncoding: payload === null ? null : printable ? 'utf8' : 'base64',
      }
    }),
  }
}
