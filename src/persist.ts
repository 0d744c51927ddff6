/**
 * Writes a batch of Kafka messages into MySQL exactly once. Inside one transaction:
 *   1. lock this partition's stored offset (SELECT ... FOR UPDATE) and skip messages already applied,
 *   2. upsert the batch aggregated per (environment, month, source, user), and add what it changed to
 *      the month's summary counters (mau_summary),
 *   3. set aside rejected messages in mau_dead_letter,
 *   4. advance the stored offset.
 * A crash anywhere rolls all four back; a redelivered or concurrently processed batch finds the offset
 * already advanced and applies nothing twice.
 */
import type {PoolConnection, ResultSetHeader, RowDataPacket} from 'mysql2/promise'
import type {MysqlSettings} from './config.js'
import type {Decoded, Rejection} from './events.js'
import type {MonthResolver} from './month.js'
import {type Db, inTransaction, openPool} from './store.js'

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
function aggregate(items: PreparedBatch['decoded'], months: MonthResolver): {rows: Row[]; deadLetters: DeadLetter[]} {
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

// VALUES() is deprecated in MySQL 8.0.20+ but still works there, and MariaDB has no `AS new` alias: this is the form both accept.
const UPSERT_ROWS =
  'INSERT INTO mau (environment_namespace, yearmonth, source_id, user_id, event_count, created_at, updated_at) VALUES {rows}' +
  ' ON DUPLICATE KEY UPDATE event_count = event_count + VALUES(event_count),' +
  ' created_at = LEAST(created_at, VALUES(created_at)), updated_at = GREATEST(updated_at, VALUES(updated_at))'
const INSERT_USERS = 'INSERT IGNORE INTO mau_user_month (environment_namespace, yearmonth, user_id) VALUES {rows}'
const UPSERT_SUMMARY =
  'INSERT INTO mau_summary (yearmonth, environment_namespace, source_id, users, events) VALUES {rows}' +
  ' ON DUPLICATE KEY UPDATE users = users + VALUES(users), events = events + VALUES(events)'
/** "(?,?),(?,?)" for n rows of width columns; built by repetition because it runs for every group of every batch. */
const placeholders = (n: number, width: number) => `,(${'?,'.repeat(width - 1)}?)`.repeat(n).slice(1)

/** source_id '' in mau_summary: the environment-month over all sources. */
export const ALL_SOURCES = ''

/** How a batch moves mau_summary: users new to the (environment, month, source), and events. */
export interface SummaryDelta {
  environmentNamespace: string
  yearmonth: string
  sourceId: string
  users: number
  events: number
}

interface Statement {
  sql: string
  values: unknown[]
  rows: number
  /** Turns the statement's affectedRows into a summary delta. */
  delta: (affectedRows: number) => SummaryDelta
}

/** Statements per round trip; with ~300 bytes a row this stays well below max_allowed_packet. */
const ROWS_PER_ROUND_TRIP = 5000

/**
 * Upserts the rows, one statement per (environment, month, source), and records each user in
 * mau_user_month, one statement per (environment, month). affectedRows then says exactly how many users
 * were new: an upsert reports 1 per inserted row and 2 per updated one (mysql2 sets FOUND_ROWS, and the
 * update always changes event_count); INSERT IGNORE reports the rows it inserted. A concurrent
 * transaction inserting the same key waits for ours, then sees it: no user is ever new twice.
 */
async function writeRows(conn: PoolConnection, rows: Row[]): Promise<SummaryDelta[]> {
  const statements: Statement[] = []
  const groupBy = (key: (r: Row) => string) => {
    const groups = new Map<string, Row[]>()
    for (const r of rows) {
      const k = key(r)
      const group = groups.get(k)
      if (group) group.push(r)
      else groups.set(k, [r])
    }
    return [...groups.values()]
  }
  for (const group of groupBy((r) => `${r.environmentNamespace}\u0000${r.yearmonth}\u0000${r.sourceId}`)) {
    const {environmentNamespace, yearmonth, sourceId} = group[0]!
    const values: unknown[] = []
    let events = 0
    for (const r of group) {
      values.push(r.environmentNamespace, r.yearmonth, r.sourceId, r.userId, r.count, r.firstSeen, r.lastSeen)
      events += r.count
    }
    statements.push({sql: UPSERT_ROWS.replace('{rows}', placeholders(group.length, 7)), values, rows: group.length, delta: (affected) => ({environmentNamespace, yearmonth, sourceId, users: 2 * group.length - affected, events})})
  }
  for (const group of groupBy((r) => `${r.environmentNamespace}\u0000${r.yearmonth}`)) {
    const {environmentNamespace, yearmonth} = group[0]!
    const users = new Set<string>()
    let events = 0
    for (const r of group) {
      users.add(r.userId)
      events += r.count
    }
    const values: unknown[] = []
    for (const u of users) values.push(environmentNamespace, yearmonth, u)
    statements.push({
      sql: INSERT_USERS.replace('{rows}', placeholders(users.size, 3)),
      values,
      rows: users.size,
      delta: (affected) => ({environmentNamespace, yearmonth, sourceId: ALL_SOURCES, users: affected, events}),
    })
  }
  const deltas: SummaryDelta[] = []
  for (let i = 0; i < statements.length; ) {
    const trip: Statement[] = []
    for (let size = 0; i < statements.length && (trip.length === 0 || size < ROWS_PER_ROUND_TRIP); i++) {
      trip.push(statements[i]!)
      size += statements[i]!.rows
    }
    const values: unknown[] = []
    for (const t of trip) for (const v of t.values) values.push(v)
    const [result] = await conn.query(trip.map((t) => t.sql).join(';\n'), values)
    const headers = (trip.length === 1 ? [result] : result) as ResultSetHeader[]
    trip.forEach((t, j) => deltas.push(t.delta(headers[j]!.affectedRows)))
  }
  return deltas
}

async function addToSummary(conn: PoolConnection, deltas: SummaryDelta[]): Promise<void> {
  if (deltas.length === 0) return
  // Sorted by the table's key, so that consumers of different partitions lock summary rows in one order.
  const sorted = [...deltas].sort((a, b) => (`${a.yearmonth}\u0000${a.environmentNamespace}\u0000${a.sourceId}` < `${b.yearmonth}\u0000${b.environmentNamespace}\u0000${b.sourceId}` ? -1 : 1))
  await conn.query(UPSERT_SUMMARY.replace('{rows}', placeholders(sorted.length, 5)), sorted.flatMap((d) => [d.yearmonth, d.environmentNamespace, d.sourceId, d.users, d.events]))
}

/** Adds rows to `mau` and their effect to the summary counters, in the caller's transaction (a writer pool's connection). */
export async function applyRows(conn: PoolConnection, rows: Row[]): Promise<void> {
  await addToSummary(conn, await writeRows(conn, rows))
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
    `INSERT IGNORE INTO mau_dead_letter (consumer_group, topic, kafka_partition, kafka_offset, reason, payload, created_at) VALUES ${placeholders(items.length, 7)}`,
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
    await applyRows(conn, rows)
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

/**
 * Sets where a group starts on partitions it has not applied anything from yet; partitions with stored
 * offsets keep them, since moving those back would count their events twice. Returns the partitions set.
 */
export async function seedOffsets(db: Db, group: string, topic: string, offsets: {partition: number; offset: number}[], now: number): Promise<number[]> {
  const stored = await storedOffsets(db, group, [topic])
  const fresh = offsets.filter((o) => !stored.has(`${topic}:${o.partition}`))
  for (const {partition, offset} of fresh) {
    // The IF guards a replica that applied a batch since the read above; another replica seeding at once writes the same offset.
    await db.query(
      `INSERT INTO mau_consumer_offset (consumer_group, topic, kafka_partition, next_offset, updated_at) VALUES (?, ?, ?, ?, ?)
       ON DUPLICATE KEY UPDATE next_offset = IF(next_offset = ${NOTHING_APPLIED}, VALUES(next_offset), next_offset)`,
      [group, topic, partition, offset, now],
    )
  }
  return fresh.map((o) => o.partition).sort((a, b) => a - b)
}

/** The consumer's pool: writeRows sends a batch's statements in one round trip, which needs multipleStatements. */
export function openWriterPool(settings: MysqlSettings, connections: number): Db {
  return openPool(settings, {connectionLimit: connections, multipleStatements: true})
}
