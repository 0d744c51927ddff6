/**
 * The mau tables' write side, shared by the consumer and backfill: rows added to `mau` and
 * `mau_user_month`, and what they changed added to the month's summary counters (`mau_summary`), all in
 * the caller's transaction.
 */
import type {PoolConnection, ResultSetHeader} from 'mysql2/promise'
import {DEFAULT_STATEMENT_BYTES, type OpenOptions, pieces, placeholders, textBytes} from '../core/db.js'

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
  /** An upper bound of the statement's size on the wire. */
  bytes: number
  /** Turns the statement's affectedRows into a summary delta. */
  delta: (affectedRows: number) => SummaryDelta
}

/**
 * What the write side sent since the process started: benchmarks read it (bench/ingest.ts) to give
 * statements, round trips and bytes per window, figures that do not depend on the machine's load.
 */
export const sent = {statements: 0, roundTrips: 0, bytes: 0}

/** Statements per round trip, at most; typical rows are ~300 bytes, so bytes rarely decide. */
const ROWS_PER_ROUND_TRIP = 5000

function groupBy<T>(items: readonly T[], key: (item: T) => string): T[][] {
  const groups = new Map<string, T[]>()
  for (const r of items) {
    const k = key(r)
    const group = groups.get(k)
    if (group) group.push(r)
    else groups.set(k, [r])
  }
  return [...groups.values()]
}

/**
 * Upserts the rows, one statement per (environment, month, source), and records each user in
 * mau_user_month, one statement per (environment, month); a statement larger than maxBytes is cut in
 * pieces. affectedRows then says exactly how many users were new: an upsert reports 1 per inserted row and
 * 2 per updated one (mysql2 sets FOUND_ROWS, and the update always changes event_count); INSERT IGNORE
 * reports the rows it inserted. A concurrent transaction inserting the same key waits for ours, then sees
 * it: no user is ever new twice.
 */
async function writeRows(conn: PoolConnection, rows: Row[], maxBytes: number): Promise<SummaryDelta[]> {
  const statements: Statement[] = []
  const rowBytes = (r: Row) => textBytes(r.environmentNamespace, r.sourceId, r.userId)
  for (const group of groupBy(rows, (r) => `${r.environmentNamespace}\u0000${r.yearmonth}\u0000${r.sourceId}`)) {
    for (const piece of pieces(group, rowBytes, maxBytes)) {
      const {environmentNamespace, yearmonth, sourceId} = piece[0]!
      const values: unknown[] = []
      let events = 0
      let bytes = UPSERT_ROWS.length
      for (const r of piece) {
        values.push(r.environmentNamespace, r.yearmonth, r.sourceId, r.userId, r.count, r.firstSeen, r.lastSeen)
        events += r.count
        bytes += rowBytes(r)
      }
      statements.push({
        sql: UPSERT_ROWS.replace('{rows}', placeholders(piece.length, 7)),
        values,
        rows: piece.length,
        bytes,
        delta: (affected) => ({environmentNamespace, yearmonth, sourceId, users: 2 * piece.length - affected, events}),
      })
    }
  }
  for (const group of groupBy(rows, (r) => `${r.environmentNamespace}\u0000${r.yearmonth}`)) {
    const {environmentNamespace, yearmonth} = group[0]!
    const users = [...new Set(group.map((r) => r.userId))]
    const userBytes = (u: string) => textBytes(environmentNamespace, u)
    let events = 0
    for (const r of group) events += r.count
    // The group's events go with its first piece; the other pieces add only users.
    pieces(users, userBytes, maxBytes).forEach((piece, i) => {
      const values: unknown[] = []
      for (const u of piece) values.push(environmentNamespace, yearmonth, u)
      statements.push({
        sql: INSERT_USERS.replace('{rows}', placeholders(piece.length, 3)),
        values,
        rows: piece.length,
        bytes: INSERT_USERS.length + piece.reduce((a, u) => a + userBytes(u), 0),
        delta: (affected) => ({
          environmentNamespace,
          yearmonth,
          sourceId: ALL_SOURCES,
          users: affected,
          events: i === 0 ? events : 0,
        }),
      })
    })
  }
  const deltas: SummaryDelta[] = []
  // Round trips of several statements: rows and bytes both bounded.
  const trips = pieces(statements, (t) => t.bytes, maxBytes).flatMap((run) =>
    pieces(run, (t) => t.rows, ROWS_PER_ROUND_TRIP),
  )
  for (const trip of trips) {
    const values: unknown[] = []
    for (const t of trip) for (const v of t.values) values.push(v)
    const [result] = await conn.query(trip.map((t) => t.sql).join(';\n'), values)
    sent.roundTrips++
    sent.statements += trip.length
    for (const t of trip) sent.bytes += t.bytes
    const headers = (trip.length === 1 ? [result] : result) as ResultSetHeader[]
    trip.forEach((t, j) => deltas.push(t.delta(headers[j]!.affectedRows)))
  }
  return deltas
}

const summaryKey = (d: SummaryDelta) => `${d.yearmonth}\u0000${d.environmentNamespace}\u0000${d.sourceId}`

async function addToSummary(conn: PoolConnection, deltas: SummaryDelta[], maxBytes: number): Promise<void> {
  // One delta per summary row (pieces of a statement gave several), sorted by the table's key, so that
  // consumers of different partitions lock summary rows in one order, statement after statement.
  const merged = new Map<string, SummaryDelta>()
  for (const d of deltas) {
    const k = summaryKey(d)
    const m = merged.get(k)
    if (m) merged.set(k, {...m, users: m.users + d.users, events: m.events + d.events})
    else merged.set(k, d)
  }
  const sorted = [...merged.entries()].sort(([a], [b]) => (a < b ? -1 : 1)).map(([, d]) => d)
  for (const piece of pieces(sorted, (d) => textBytes(d.environmentNamespace, d.sourceId), maxBytes)) {
    sent.roundTrips++
    sent.statements++
    sent.bytes += UPSERT_SUMMARY.length + piece.reduce((a, d) => a + textBytes(d.environmentNamespace, d.sourceId), 0)
    await conn.query(
      UPSERT_SUMMARY.replace('{rows}', placeholders(piece.length, 5)),
      piece.flatMap((d) => [d.yearmonth, d.environmentNamespace, d.sourceId, d.users, d.events]),
    )
  }
}

/** Adds rows to `mau` and their effect to the summary counters, in the caller's transaction (a writer pool's connection). */
export async function applyRows(
  conn: PoolConnection,
  rows: Row[],
  maxStatementBytes = DEFAULT_STATEMENT_BYTES,
): Promise<void> {
  await addToSummary(conn, await writeRows(conn, rows, maxStatementBytes), maxStatementBytes)
}

/** A pool that writes rows: writeRows sends a batch's statements in one round trip, which needs multipleStatements. */
export const writerPool = (connections: number): OpenOptions => ({
  connectionLimit: connections,
  multipleStatements: true,
})
