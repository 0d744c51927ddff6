/**
 * The mau tables' write side, shared by the consumer and backfill: rows added to `mau` and
 * `mau_user_month`, and what they changed added to the month's summary counters (`mau_summary`), all in
 * the caller's transaction. A window's statements are planned (planRows, pure) before they are sent
 * (applyPlan), so that the consumer builds the next window's text while MySQL writes the current one.
 */
import type {PoolConnection, ResultSetHeader} from 'mysql2/promise'
import {DEFAULT_STATEMENT_BYTES, type OpenOptions, pieces, placeholders, sqlString, textBytes} from '../core/db.js'

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

/** Users known to be in mau_user_month already (ingest/known-users.ts): their INSERT IGNORE is left out. */
export interface KnownUserMonths {
  has(environmentNamespace: string, yearmonth: string, userId: string): boolean
}

// VALUES() is deprecated in MySQL 8.0.20+ but still works there, and MariaDB has no `AS new` alias: this is the form both accept.
const UPSERT_ROWS =
  'INSERT INTO mau (environment_namespace, yearmonth, source_id, user_id, event_count, created_at, updated_at) VALUES '
const UPSERT_ROWS_TAIL =
  ' ON DUPLICATE KEY UPDATE event_count = event_count + VALUES(event_count),' +
  ' created_at = LEAST(created_at, VALUES(created_at)), updated_at = GREATEST(updated_at, VALUES(updated_at))'
const INSERT_USERS = 'INSERT IGNORE INTO mau_user_month (environment_namespace, yearmonth, user_id) VALUES '
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
  rows: number
  /** An upper bound of the statement's size on the wire. */
  bytes: number
  /** Turns the statement's affectedRows into a summary delta. */
  delta: (affectedRows: number) => SummaryDelta
}

/** A window's row-writing statements, in round trips, and the summary deltas that need no statement. */
export interface RowPlan {
  trips: {sql: string; statements: Statement[]}[]
  /** Environment-months whose users were all known: their events still count. */
  known: SummaryDelta[]
  /** The users the plan records in mau_user_month, once it is committed (what KnownUsers learns). */
  inserted: UserMonths[]
}

export interface UserMonths {
  environmentNamespace: string
  yearmonth: string
  users: string[]
}

/**
 * What the write side sent since the process started: benchmarks read it (bench/ingest.ts) to give
 * statements, round trips and bytes per window, figures that do not depend on the machine's load.
 */
export const sent = {statements: 0, roundTrips: 0, bytes: 0}

/**
 * Rows per round trip, at most: a window's statements go in as few round trips as the bytes allow, since
 * each answer waits for whatever else Node is doing before the next statement leaves.
 */
const ROWS_PER_ROUND_TRIP = 50_000

/** Runs of consecutive items with equal keys; items of one key apart from each other are gathered too. */
function groupBy<T>(items: readonly T[], same: (a: T, b: T) => boolean, key: (item: T) => string): T[][] {
  const groups = new Map<string, T[]>()
  let last: T[] | undefined
  for (const r of items) {
    if (last && same(last[0]!, r)) {
      last.push(r)
      continue
    }
    const k = key(r)
    last = groups.get(k)
    if (last) last.push(r)
    else groups.set(k, (last = [r]))
  }
  return [...groups.values()]
}

const sameSource = (a: Row, b: Row) =>
  a.environmentNamespace === b.environmentNamespace && a.yearmonth === b.yearmonth && a.sourceId === b.sourceId
const sameMonth = (a: Row, b: Row) => a.environmentNamespace === b.environmentNamespace && a.yearmonth === b.yearmonth
const rowBytes = (r: Row) => textBytes(r.environmentNamespace, r.sourceId, r.userId)

/**
 * Pure: upserts of the rows, one statement per (environment, month, source), and each user recorded in
 * mau_user_month, one statement per (environment, month), leaving out users `known` has; a statement
 * larger than maxBytes is cut in pieces. affectedRows then says exactly how many users were new: an
 * upsert reports 1 per inserted row and 2 per updated one (mysql2 sets FOUND_ROWS, and the update always
 * changes event_count); INSERT IGNORE reports the rows it inserted. A concurrent transaction inserting the
 * same key waits for ours, then sees it: no user is ever new twice.
 */
export function planRows(rows: readonly Row[], maxBytes: number, known?: KnownUserMonths): RowPlan {
  const statements: Statement[] = []
  const knownDeltas: SummaryDelta[] = []
  const inserted: UserMonths[] = []
  for (const group of groupBy(
    rows,
    sameSource,
    (r) => `${r.environmentNamespace}\u0000${r.yearmonth}\u0000${r.sourceId}`,
  )) {
    const {environmentNamespace, yearmonth, sourceId} = group[0]!
    const head = `(${sqlString(environmentNamespace)},${sqlString(yearmonth)},${sqlString(sourceId)},`
    for (const piece of pieces(group, rowBytes, maxBytes)) {
      // One flat string per statement (join), not a rope of 20,000 pieces: a plan waits for its turn,
      // long enough for a rope's many small strings to be copied by the young-generation GC.
      const values = new Array<string>(piece.length)
      let events = 0
      let bytes = UPSERT_ROWS.length + UPSERT_ROWS_TAIL.length
      piece.forEach((r, i) => {
        values[i] = `${head}${sqlString(r.userId)},${r.count},${r.firstSeen},${r.lastSeen})`
        events += r.count
        bytes += rowBytes(r)
      })
      statements.push({
        sql: UPSERT_ROWS + values.join(',') + UPSERT_ROWS_TAIL,
        rows: piece.length,
        bytes,
        delta: (affected) => ({environmentNamespace, yearmonth, sourceId, users: 2 * piece.length - affected, events}),
      })
    }
  }
  for (const group of groupBy(rows, sameMonth, (r) => `${r.environmentNamespace}\u0000${r.yearmonth}`)) {
    const {environmentNamespace, yearmonth} = group[0]!
    let events = 0
    const fresh = new Set<string>()
    for (const r of group) {
      events += r.count
      if (!known?.has(environmentNamespace, yearmonth, r.userId)) fresh.add(r.userId)
    }
    const delta = (users: number, withEvents: boolean): SummaryDelta => ({
      environmentNamespace,
      yearmonth,
      sourceId: ALL_SOURCES,
      users,
      events: withEvents ? events : 0,
    })
    if (fresh.size === 0) {
      knownDeltas.push(delta(0, true))
      continue
    }
    const users = [...fresh]
    inserted.push({environmentNamespace, yearmonth, users})
    const head = `(${sqlString(environmentNamespace)},${sqlString(yearmonth)},`
    const userBytes = (u: string) => textBytes(environmentNamespace, u)
    // The group's events go with its first piece; the other pieces add only users.
    pieces(users, userBytes, maxBytes).forEach((piece, i) => {
      let bytes = INSERT_USERS.length
      for (const u of piece) bytes += userBytes(u)
      statements.push({
        sql: INSERT_USERS + piece.map((u) => `${head}${sqlString(u)})`).join(','),
        rows: piece.length,
        bytes,
        delta: (affected) => delta(affected, i === 0),
      })
    })
  }
  // Round trips of several statements: rows and bytes both bounded.
  const trips = pieces(statements, (t) => t.bytes, maxBytes)
    .flatMap((run) => pieces(run, (t) => t.rows, ROWS_PER_ROUND_TRIP))
    .map((run) => ({sql: run.map((t) => t.sql).join(';\n'), statements: run}))
  return {trips, known: knownDeltas, inserted}
}

async function sendPlan(conn: PoolConnection, plan: RowPlan): Promise<SummaryDelta[]> {
  const deltas = [...plan.known]
  for (const trip of plan.trips) {
    const [result] = await conn.query(trip.sql)
    sent.roundTrips++
    sent.statements += trip.statements.length
    for (const t of trip.statements) sent.bytes += t.bytes
    const headers = (trip.statements.length === 1 ? [result] : result) as ResultSetHeader[]
    trip.statements.forEach((t, j) => deltas.push(t.delta(headers[j]!.affectedRows)))
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

/** Sends a plan and adds its effect to the summary counters, in the caller's transaction (a writer pool's connection). */
export async function applyPlan(
  conn: PoolConnection,
  plan: RowPlan,
  maxStatementBytes = DEFAULT_STATEMENT_BYTES,
): Promise<void> {
  await addToSummary(conn, await sendPlan(conn, plan), maxStatementBytes)
}

/** Adds rows to `mau` and their effect to the summary counters, in the caller's transaction. */
export async function applyRows(
  conn: PoolConnection,
  rows: Row[],
  maxStatementBytes = DEFAULT_STATEMENT_BYTES,
): Promise<void> {
  await applyPlan(conn, planRows(rows, maxStatementBytes), maxStatementBytes)
}

/** A pool that writes rows: applyPlan sends a window's statements in one round trip, which needs multipleStatements. */
export const writerPool = (connections: number): OpenOptions => ({
  connectionLimit: connections,
  multipleStatements: true,
})
