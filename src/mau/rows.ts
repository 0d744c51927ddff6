/**
 * The mau tables' write side, shared by the consumer and backfill: rows added to `mau` and
 * `mau_user_month`, and what they changed added to the month's summary counters (`mau_summary`), all in
 * the caller's transaction.
 */
import type {PoolConnection, ResultSetHeader} from 'mysql2/promise'
import {type OpenOptions, placeholders} from '../core/db.js'

/** One (environment, month, source, user) and the events it adds. */
export interface Row {
  environmentNamespace: string
  yearmonth: string
  sourceId: string
  userId: string
  count: number
  firstSeen: number
  lastSeen: number
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

/** A pool that writes rows: writeRows sends a batch's statements in one round trip, which needs multipleStatements. */
export const writerPool = (connections: number): OpenOptions => ({connectionLimit: connections, multipleStatements: true})
