/**
 * What outlives a month's rows: the retention every writer obeys (recorded by `partitions rotate`, 13 months
 * from `db migrate` until then), and the totals `rotate` keeps of each month it drops (mau_month_total).
 * Also how long dead letters are kept (`rotate` deletes older ones and records the retention for the
 * consumer's metric).
 */
import type {RowDataPacket} from 'mysql2/promise'
import type {Queryable} from '../core/db.js'
import {configError} from '../core/errors.js'
import {currentMonth, type YearMonth} from '../core/month.js'
import {countDeadLetters, purgeDeadLetters} from '../ingest/deadletter.js'
import {keepFromOf} from './partitions.js'

export const DEFAULT_RETAIN_MONTHS = 13
export const DEFAULT_DEAD_LETTER_RETENTION_DAYS = 90
/** Dead letters deleted per statement: each its own short transaction, however large the backlog. */
export const DEAD_LETTER_DELETE_BATCH = 1_000

/** A positive whole number recorded in mau_setting, or the default (none recorded; a schema from before migration 008). */
async function setting(db: Queryable, name: string, fallback: number): Promise<number> {
  const [rows] = await db
    .query<RowDataPacket[]>('SELECT value FROM mau_setting WHERE name = ?', [name])
    .catch((error: {code?: string}) => {
      if (error.code === 'ER_NO_SUCH_TABLE') return [[]] as unknown as [RowDataPacket[]]
      throw error
    })
  const n = Number(rows[0]?.value)
  return Number.isInteger(n) && n > 0 ? n : fallback
}

const record = (db: Queryable, name: string, value: number) =>
  db.query('REPLACE INTO mau_setting (name, value, updated_at) VALUES (?, ?, UNIX_TIMESTAMP())', [name, String(value)])

/** The retention in force. */
export function retainMonths(db: Queryable): Promise<number> {
  return setting(db, 'retain_months', DEFAULT_RETAIN_MONTHS)
}

export async function recordRetention(db: Queryable, months: number): Promise<void> {
  await record(db, 'retain_months', months)
}

/** The dead-letter retention the last rotate applied (the default before any). */
export function deadLetterRetentionDays(db: Queryable): Promise<number> {
  return setting(db, 'dead_letter_retention_days', DEFAULT_DEAD_LETTER_RETENTION_DAYS)
}

/** Pure: Unix seconds below which a dead letter is past the retention. */
export const deadLetterCutoff = (days: number, now: Date): number => Math.floor(now.getTime() / 1000) - days * 86_400

export interface DeadLetterExpiry {
  retentionDays: number
  /** Dead letters set aside before this instant are past the retention. */
  before: string
  /** How many were deleted (with --dry-run: would be). */
  deleted: number
}

/**
 * Deletes the dead letters older than the retention, DEAD_LETTER_DELETE_BATCH at a time, so that a large
 * backlog never holds row locks for long against the consumer setting new ones aside; with dryRun, counts them.
 */
export async function expireDeadLetters(
  db: Queryable,
  o: {retentionDays: number; dryRun: boolean; now?: Date},
): Promise<DeadLetterExpiry> {
  const before = deadLetterCutoff(o.retentionDays, o.now ?? new Date())
  const result = (deleted: number) => ({
    retentionDays: o.retentionDays,
    before: new Date(before * 1000).toISOString(),
    deleted,
  })
  if (o.dryRun) return result(await countDeadLetters(db, {before}))
  await record(db, 'dead_letter_retention_days', o.retentionDays)
  return result(await purgeDeadLetters(db, {before}, DEAD_LETTER_DELETE_BATCH))
}

/** The oldest month writers still write, now, in the zone months are cut in. */
export async function oldestKept(db: Queryable, zone: string, now?: Date): Promise<YearMonth> {
  return keepFromOf(currentMonth(zone, now), await retainMonths(db))
}

/**
 * Before the partitions go: the totals of every month below `below` that has none kept yet, from the summary
 * counters. Months already kept are never overwritten (stray rows written later must not shrink them).
 */
export async function keepTotals(db: Queryable, below: YearMonth): Promise<number> {
  const [r] = await db.query<RowDataPacket[] & {affectedRows: number}>(
    `INSERT INTO mau_month_total (yearmonth, environment_namespace, source_id, users, events, kept_at)
     SELECT s.yearmonth, s.environment_namespace, s.source_id, s.users, s.events, UNIX_TIMESTAMP() FROM mau_summary s
      WHERE s.yearmonth < ? AND s.yearmonth NOT IN (SELECT DISTINCT yearmonth FROM mau_month_total)`,
    [below],
  )
  return (r as unknown as {affectedRows: number}).affectedRows
}

/** After the partitions went: summary lines of months whose totals are kept (also what a crash between the two left). */
export async function forgetKeptSummary(db: Queryable): Promise<void> {
  await db.query(
    'DELETE FROM mau_summary WHERE yearmonth IN (SELECT yearmonth FROM (SELECT DISTINCT yearmonth FROM mau_month_total) kept)',
  )
}

/** The months among `months` whose rows are gone and whose totals are kept. */
export async function keptMonths(db: Queryable, months: YearMonth[]): Promise<Set<YearMonth>> {
  if (months.length === 0) return new Set()
  const [rows] = await db.query<RowDataPacket[]>(
    `SELECT DISTINCT yearmonth FROM mau_month_total WHERE yearmonth IN (${months.map(() => '?').join(',')})`,
    months,
  )
  return new Set(rows.map((r) => String(r.yearmonth)))
}

/** For what needs the rows (scans, summary check and rebuild, verify-migration, backfill): exit 2 for a month they are gone from. */
export async function requireRows(db: Queryable, month: YearMonth, what: string): Promise<void> {
  if ((await keptMonths(db, [month])).size === 0) return
  throw configError(
    `The rows of ${month} were dropped by retention (${await retainMonths(db)} months, mau partitions rotate); only its totals are kept, and ${what} needs the rows.`,
    [
      `mau count --month ${month} answers from the kept totals; choose a month whose rows are kept (mau partitions list).`,
    ],
  )
}
