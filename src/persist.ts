/**
 * Writes a batch of Kafka messages into MySQL exactly once. Inside one transaction:
 *   1. lock this partition's stored offset (SELECT ... FOR UPDATE) and skip messages already applied,
 *   2. upsert the batch aggregated per (environment, month, source, user),
 *   3. set aside rejected messages in mau_dead_letter,
 *   4. advance the stored offset.
 * A crash anywhere rolls all four back; a redelivered or concurrently processed batch finds the offset
 * already advanced and applies nothing twice.
 */
import type {PoolConnection, RowDataPacket} from 'mysql2/promise'
import type {Decoded, Rejection} from './events.js'
import type {MonthResolver} from './month.js'
import {type Db, inTransaction} from './store.js'

export interface Message {
  offset: string
  value: Buffer | null
}

export interface PartitionRef {
  group: string
  topic: string
  partition: number
}

export interface Row {
  environmentNamespace: string
  yearmonth: string
  sourceId: string
  userId: string
  count: number
  firstSeen: number
  lastSeen: number
}

export interface DeadLetter {
  offset: number
  rejection: Rejection
  payload: Buffer | null
}

export interface PreparedBatch {
  /** Offsets of the first and last message; the stored offset becomes last + 1. */
  firstOffset: number
  lastOffset: number
  /** Every message with its offset, so that ones already applied (redelivered) can be dropped inside the transaction. */
  decoded: {offset: number; result: Decoded; payload: Buffer | null}[]
  /** The whole batch aggregated; recomputed inside the transaction only if part of it was already applied. */
  rows: Row[]
  deadLetters: DeadLetter[]
}

export interface BatchResult {
  applied: number
  skipped: number
  rowsUpserted: number
  deadLetters: DeadLetter[]
  nextOffset: number
}

/**
 * Decoding and aggregating are pure CPU work, done before the transaction: the transaction stays short,
 * and the consumer can prepare the next batch while MySQL writes this one.
 */
export function prepareBatch(messages: Message[], decode: (bytes: Buffer, now: number) => Decoded, months: MonthResolver, nowSeconds: number): PreparedBatch {
  const decoded = messages.map((m) => ({
    offset: Number(m.offset),
    payload: m.value,
    result: m.value === null ? ({ok: false, rejection: {code: 'decode', message: 'message has no value (tombstone)'}} as const) : decode(m.value, nowSeconds),
  }))
  return {firstOffset: decoded[0]?.offset ?? 0, lastOffset: decoded.at(-1)?.offset ?? -1, decoded, ...aggregate(decoded, months)}
}

/** Sums events per row key; sorted by primary key so that concurrent transactions lock rows in one order. */
export function aggregate(items: PreparedBatch['decoded'], months: MonthResolver): {rows: Row[]; deadLetters: DeadLetter[]} {
  const rows = new Map<string, Row>()
  const deadLetters: DeadLetter[] = []
  for (const {offset, result, payload} of items) {
    if (!result.ok) {
      deadLetters.push({offset, rejection: result.rejection, payload})
      continue
    }
    const e = result.event
    const yearmonth = months.resolve(e.lastSeen)
    const key = `${e.environmentNamespace}\u0000${yearmonth}\u0000${e.sourceId}\u0000${e.userId}`
    const row = rows.get(key)
    if (row) {
      row.count++
      if (e.lastSeen < row.firstSeen) row.firstSeen = e.lastSeen
      if (e.lastSeen > row.lastSeen) row.lastSeen = e.lastSeen
    } else {
      rows.set(key, {environmentNamespace: e.environmentNamespace, yearmonth, sourceId: e.sourceId, userId: e.userId, count: 1, firstSeen: e.lastSeen, lastSeen: e.lastSeen})
    }
  }
  const sorted = [...rows.entries()].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)).map(([, r]) => r)
  return {rows: sorted, deadLetters}
}

/** Rows per INSERT: a 1,000-row statement stays far below max_allowed_packet (~300 bytes a row). */
const ROWS_PER_STATEMENT = 1000

// VALUES() is deprecated in MySQL 8.0.20+ but still works there, and MariaDB has no `AS new` alias: this is the form both accept.
const UPSERT_SQL_HEAD = 'INSERT INTO mau (environment_namespace, yearmonth, source_id, user_id, event_count, created_at, updated_at) VALUES '
const UPSERT_SQL_TAIL =
  ' ON DUPLICATE KEY UPDATE event_count = event_count + VALUES(event_count),' +
  ' created_at = LEAST(created_at, VALUES(created_at)), updated_at = GREATEST(updated_at, VALUES(updated_at))'

export async function upsertRows(conn: PoolConnection, rows: Row[]): Promise<void> {
  for (let i = 0; i < rows.length; i += ROWS_PER_STATEMENT) {
    const chunk = rows.slice(i, i + ROWS_PER_STATEMENT)
    const values: unknown[] = []
    for (const r of chunk) values.push(r.environmentNamespace, r.yearmonth, r.sourceId, r.userId, r.count, r.firstSeen, r.lastSeen)
    await conn.query(UPSERT_SQL_HEAD + chunk.map(() => '(?,?,?,?,?,?,?)').join(',') + UPSERT_SQL_TAIL, values)
  }
}

/** -1 in next_offset: the partition is known but nothing was applied yet. */
const NOTHING_APPLIED = -1
const knownPartitions = new WeakMap<Db, Set<string>>()

/**
 * Creates the partition's offset row before its first transaction, outside it: locking a row that does not
 * exist yet takes a gap lock, and two partitions' first batches would then deadlock on the same gap.
 */
async function ensureOffsetRow(db: Db, ref: PartitionRef, now: number): Promise<void> {
  const known = knownPartitions.get(db) ?? new Set<string>()
  knownPartitions.set(db, known)
  const k = `${ref.group}\u0000${ref.topic}\u0000${ref.partition}`
  if (known.has(k)) return
  await db.query('INSERT IGNORE INTO mau_consumer_offset (consumer_group, topic, kafka_partition, next_offset, updated_at) VALUES (?, ?, ?, ?, ?)', [
    ref.group, ref.topic, ref.partition, NOTHING_APPLIED, now,
  ])
  known.add(k)
}

async function lockStoredOffset(conn: PoolConnection, ref: PartitionRef): Promise<number> {
  const [rows] = await conn.query<RowDataPacket[]>(
    'SELECT next_offset FROM mau_consumer_offset WHERE consumer_group = ? AND topic = ? AND kafka_partition = ? FOR UPDATE',
    [ref.group, ref.topic, ref.partition],
  )
  return rows[0] ? Number(rows[0].next_offset) : NOTHING_APPLIED
}

async function storeOffset(conn: PoolConnection, ref: PartitionRef, nextOffset: number, now: number): Promise<void> {
  await conn.query('UPDATE mau_consumer_offset SET next_offset = ?, updated_at = ? WHERE consumer_group = ? AND topic = ? AND kafka_partition = ?', [
    nextOffset, now, ref.group, ref.topic, ref.partition,
  ])
}

async function insertDeadLetters(conn: PoolConnection, ref: PartitionRef, items: DeadLetter[], now: number): Promise<void> {
  if (items.length === 0) return
  const values: unknown[] = []
  for (const d of items) values.push(ref.group, ref.topic, ref.partition, d.offset, `${d.rejection.code}: ${d.rejection.message}`.slice(0, 1024), d.payload, now)
  await conn.query(
    `INSERT IGNORE INTO mau_dead_letter (consumer_group, topic, kafka_partition, kafka_offset, reason, payload, created_at) VALUES ${items.map(() => '(?,?,?,?,?,?,?)').join(',')}`,
    values,
  )
}

export async function persistBatch(db: Db, ref: PartitionRef, batch: PreparedBatch, months: MonthResolver, nowSeconds: number): Promise<BatchResult> {
  await ensureOffsetRow(db, ref, nowSeconds)
  return inTransaction(db, async (conn) => {
    const stored = await lockStoredOffset(conn, ref)
    const fresh = stored > batch.firstOffset ? batch.decoded.filter((d) => d.offset >= stored) : batch.decoded
    const skipped = batch.decoded.length - fresh.length
    if (fresh.length === 0) return {applied: 0, skipped, rowsUpserted: 0, deadLetters: [], nextOffset: stored}
    const {rows, deadLetters} = skipped > 0 ? aggregate(fresh, months) : batch
    await upsertRows(conn, rows)
    await insertDeadLetters(conn, ref, deadLetters, nowSeconds)
    await storeOffset(conn, ref, batch.lastOffset + 1, nowSeconds)
    return {applied: fresh.length, skipped, rowsUpserted: rows.length, deadLetters, nextOffset: batch.lastOffset + 1}
  })
}

/** The offsets this consumer group has applied, per topic partition: where to resume after a restart or rebalance. */
export async function storedOffsets(db: Db, group: string, topics: string[]): Promise<Map<string, number>> {
  if (topics.length === 0) return new Map()
  const [rows] = await db.query<RowDataPacket[]>(
    `SELECT topic, kafka_partition, next_offset FROM mau_consumer_offset WHERE consumer_group = ? AND topic IN (${topics.map(() => '?').join(',')})`,
    [group, ...topics],
  )
  return new Map(rows.filter((r) => Number(r.next_offset) !== NOTHING_APPLIED).map((r) => [`${r.topic}:${r.kafka_partition}`, Number(r.next_offset)]))
}
