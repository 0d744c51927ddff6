/** Events the consumer could not use, set aside in mau_dead_letter with the reason, and read back. */
import type {PoolConnection, ResultSetHeader, RowDataPacket} from 'mysql2/promise'
import {createHash} from 'node:crypto'
import {
  DEFAULT_STATEMENT_BYTES,
  type Db,
  pieces,
  placeholders,
  type Queryable,
  schemaMissing,
  textBytes,
} from '../core/db.js'
import type {Rejection} from './decode.js'
import type {PartitionRef} from './offsets.js'

/** A message set aside: where it was, why, and enough of it to find it again. */
export interface DeadLetter {
  offset: number
  /** A Redis stream's entry id (offset then counts the stream's entries). */
  entryId?: string
  rejection: Rejection
  /** The message, or its first bytes when it is longer than the dead-letter limit (see setAside). */
  payload: Buffer | null
  /** The whole message's length and SHA-256, so that a cut payload still identifies it. */
  bytes: number
  sha256: Buffer | null
}

/** A dead letter's payload is kept up to this many bytes (--dead-letter-max-bytes): a 5 MB bad message costs 64 KiB. */
export const DEAD_LETTER_MAX_BYTES = 64 * 1024

/** Pure: what is kept of a rejected message: its first maxBytes, its whole length and its SHA-256. */
export function setAside(value: Buffer | null, maxBytes: number): Pick<DeadLetter, 'payload' | 'bytes' | 'sha256'> {
  if (value === null) return {payload: null, bytes: 0, sha256: null}
  // subarray would pin the whole message in memory while the letter waits to be written.
  const payload = value.length > maxBytes ? Buffer.from(value.subarray(0, maxBytes)) : value
  return {payload, bytes: value.length, sha256: createHash('sha256').update(value).digest()}
}

const INSERT =
  'INSERT IGNORE INTO mau_dead_letter (consumer_group, topic, kafka_partition, kafka_offset, reason, payload, payload_bytes, payload_sha256, created_at) VALUES '
const INSERT_ENTRY =
  'INSERT IGNORE INTO mau_dead_letter (consumer_group, topic, kafka_partition, kafka_offset, reason, payload, payload_bytes, payload_sha256, created_at, stream_entry_id) VALUES '
/** A payload is sent as hex (2 bytes a byte), the reason as text: an upper bound of a letter's share of the statement. */
const letterBytes = (ref: PartitionRef, d: DeadLetter, reason: string) =>
  textBytes(ref.group, ref.topic, reason) + 2 * (d.payload?.length ?? 0) + 80 + (d.entryId?.length ?? 0)

/**
 * In the batch's transaction: a dead letter is stored exactly when its offset is applied. Statements are
 * cut to maxStatementBytes: one that outgrew max_allowed_packet lost the connection, and with it the window.
 */
export async function insertDeadLetters(
  conn: PoolConnection,
  ref: PartitionRef,
  items: DeadLetter[],
  now: number,
  maxStatementBytes = DEFAULT_STATEMENT_BYTES,
): Promise<void> {
  const reasons = new Map(items.map((d) => [d, `${d.rejection.code}: ${d.rejection.message}`.slice(0, 1024)]))
  for (const piece of pieces(items, (d) => letterBytes(ref, d, reasons.get(d)!), maxStatementBytes)) {
    const values: unknown[] = []
    // Kafka's letters keep the statement of before migration 011; a stream's name their entry.
    const entries = piece.some((d) => d.entryId !== undefined)
    for (const d of piece) {
      values.push(ref.group, ref.topic, ref.partition, d.offset, reasons.get(d), d.payload, d.bytes, d.sha256, now)
      if (entries) values.push(d.entryId ?? null)
    }
    await conn.query(
      entries ? `${INSERT_ENTRY}${placeholders(piece.length, 10)}` : `${INSERT}${placeholders(piece.length, 9)}`,
      values,
    )
  }
}

export interface DeadLetterEntry {
  id: number
  consumerGroup: string
  topic: string
  partition: number
  offset: number
  /** A Redis stream's entry id (offset then counts the stream's entries). */
  entryId?: string
  reason: string
  createdAt: string
  /** The message as text when it is valid UTF-8 without control characters, else base64; its first bytes when cut. */
  payload: string | null
  payloadEncoding: 'utf8' | 'base64' | null
  /** The whole message's length, and whether what is kept was cut from it (then sha256 names the whole). */
  payloadBytes: number | null
  cut: boolean
  sha256: string | null
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
  return {
    sql: filters.length ? `WHERE ${filters.map(([sql]) => sql).join(' AND ')}` : '',
    values: filters.map(([, v]) => v),
  }
}

export async function countDeadLetters(db: Queryable, f: DeadLetterFilter): Promise<number> {
  const w = where(f)
  const [[count]] = await db.query<RowDataPacket[]>(`SELECT COUNT(*) AS n FROM mau_dead_letter ${w.sql}`, w.values)
  return Number(count?.n ?? 0)
}

export async function listDeadLetters(
  db: Db,
  q: DeadLetterQuery,
): Promise<{total: number; entries: DeadLetterEntry[]}> {
  const w = where(q)
  const [rows] = await db
    .query<RowDataPacket[]>(
      `SELECT id, consumer_group, topic, kafka_partition, kafka_offset, stream_entry_id, reason, payload, payload_bytes, payload_sha256, created_at FROM mau_dead_letter ${w.sql} ORDER BY id DESC LIMIT ?`,
      [...w.values, q.limit],
    )
    .catch((error: unknown) => {
      if ((error as {code?: string}).code === 'ER_BAD_FIELD_ERROR')
        throw schemaMissing('mau_dead_letter has no stream_entry_id (migration 011).')
      throw error
    })
  return {
    total: await countDeadLetters(db, q),
    entries: rows.map((r) => ({
      id: Number(r.id),
      consumerGroup: String(r.consumer_group),
      topic: String(r.topic),
      partition: Number(r.kafka_partition),
      offset: Number(r.kafka_offset),
      ...(r.stream_entry_id === null ? {} : {entryId: String(r.stream_entry_id)}),
      reason: String(r.reason),
      createdAt: new Date(Number(r.created_at) * 1000).toISOString(),
      ...showPayload(r.payload as Buffer | null),
      ...sizeOf(r.payload as Buffer | null, r.payload_bytes, r.payload_sha256 as Buffer | null),
    })),
  }
}

/**
 * The next page of dead letters after an id, oldest first. With lock, the rows stay locked until the
 * transaction ends: two replays cannot both take the same letter.
 */
export async function deadLetterPage(
  conn: Queryable,
  f: DeadLetterFilter,
  afterId: number,
  limit: number,
  lock: boolean,
): Promise<{id: number; payload: Buffer | null; cut: boolean}[]> {
  const w = where(f, [['id > ?', afterId]])
  const sql = `SELECT id, payload, payload_bytes > LENGTH(payload) AS cut FROM mau_dead_letter ${w.sql} ORDER BY id LIMIT ?${lock ? ' FOR UPDATE' : ''}`
  const [rows] = await conn.query<RowDataPacket[]>(sql, [...w.values, limit])
  return rows.map((r) => ({id: Number(r.id), payload: (r.payload as Buffer | null) ?? null, cut: Number(r.cut) === 1}))
}

export async function deleteDeadLetters(conn: Queryable, ids: number[]): Promise<void> {
  if (ids.length > 0) await conn.query(`DELETE FROM mau_dead_letter WHERE id IN (${ids.map(() => '?').join(',')})`, ids)
}

/** Deletes the matching dead letters in chunks (short transactions, no long lock); returns how many. */
export async function purgeDeadLetters(db: Queryable, f: DeadLetterFilter, chunk = 10_000): Promise<number> {
  const w = where(f)
  // By time, along mau_dead_letter_created: each chunk reads only the rows it deletes. ORDER BY id would
  // read (and lock) every row in the time range, for every chunk, to sort them.
  const order = f.before !== undefined || f.since !== undefined ? 'created_at, id' : 'id'
  let purged = 0
  for (;;) {
    const [r] = await db.query<ResultSetHeader>(`DELETE FROM mau_dead_letter ${w.sql} ORDER BY ${order} LIMIT ?`, [
      ...w.values,
      chunk,
    ])
    purged += r.affectedRows
    if (r.affectedRows < chunk) return purged
  }
}

/** Pure: the whole message's size as stored (letters from before migration 007 have none: their payload is whole). */
function sizeOf(
  payload: Buffer | null,
  bytes: unknown,
  sha256: Buffer | null,
): Pick<DeadLetterEntry, 'payloadBytes' | 'cut' | 'sha256'> {
  const whole = bytes === null || bytes === undefined ? (payload?.length ?? null) : Number(bytes)
  return {
    payloadBytes: whole,
    cut: payload !== null && whole !== null && whole > payload.length,
    sha256: sha256 ? sha256.toString('hex') : null,
  }
}

/** Pure: a payload as text when it is valid UTF-8 without control characters, else as base64. */
export function showPayload(payload: Buffer | null): Pick<DeadLetterEntry, 'payload' | 'payloadEncoding'> {
  if (payload === null) return {payload: null, payloadEncoding: null}
  const text = payload.toString('utf8')
  const printable = Buffer.from(text, 'utf8').equals(payload) && !/[\u0000-\u0008\u000e-\u001f]/.test(text)
  return printable
    ? {payload: text, payloadEncoding: 'utf8'}
    : {payload: payload.toString('base64'), payloadEncoding: 'base64'}
}
