/** Runs the partition plan against MySQL: one run at a time (named lock), each ALTER timed. */
import type {PoolConnection, RowDataPacket} from 'mysql2/promise'
import {type Db, type Queryable, schemaMissing, withNamedLock} from '../core/db.js'
import {currentMonth, isYearMonth, type YearMonth} from '../core/month.js'
import {
  keepFromOf,
  MANAGED_TABLES,
  MAXVALUE,
  plan,
  readPartitions,
  spanning,
  type Action,
  type Partition,
  type Plan,
} from './partitions.js'
import {
  DEFAULT_DEAD_LETTER_RETENTION_DAYS,
  type DeadLetterExpiry,
  expireDeadLetters,
  forgetKeptSummary,
  keepTotals,
  recordRetention,
} from './retention.js'

export interface RotateOptions {
  timezone: string
  retainMonths: number
  aheadMonths: number
  dryRun: boolean
  lockWaitSeconds: number
  /** Dead letters older than this many days are deleted (90 when not given). */
  deadLetterRetentionDays?: number
  now?: Date
}

export interface ExecutedAction {
  kind: Action['kind']
  sql: string
  /** Estimated rows the statement had to move (split) or removed (drop). */
  rows: number
  ms: number
}

export interface RotateResult {
  dryRun: boolean
  /** The plan for `mau`; mau_user_month follows the same months. */
  plan: Plan
  /** Every statement planned, for all tables, in order (what --dry-run prints). */
  statements: string[]
  /** The months whose totals are kept as their rows are dropped (with --dry-run: would be). */
  keptTotals: YearMonth[]
  executed: ExecutedAction[]
  /** The dead letters past their retention, deleted (with --dry-run: would be). */
  deadLetters: DeadLetterExpiry
}

/** The months below `below` that the summary has lines of: what keepTotals keeps. */
async function summaryMonths(db: Queryable, below: YearMonth): Promise<YearMonth[]> {
  const [rows] = await db.query<RowDataPacket[]>(
    'SELECT DISTINCT yearmonth FROM mau_summary WHERE yearmonth < ? ORDER BY yearmonth',
    [below],
  )
  return rows.map((r) => String(r.yearmonth))
}

async function loadPartitions(db: Queryable, table = 'mau'): Promise<Partition[]> {
  const existing = await readPartitions(db, table)
  if (existing.length === 0) throw schemaMissing(`table ${table} is missing or not partitioned.`)
  return existing
}

/**
 * The months each partition that spans several months has rows of (pmin, gaps, an older schema's bottom
 * partition): normally none, and pmin normally empty, so this reads little.
 */
async function monthsWithRows(
  conn: Queryable,
  table: string,
  existing: Partition[],
  below: YearMonth,
): Promise<Record<string, YearMonth[]>> {
  const found: Record<string, YearMonth[]> = {}
  for (const name of spanning(existing, below)) {
    if (!/^(p\d{6}|pmin)$/.test(name)) continue
    const [rows] = await conn.query<RowDataPacket[]>(`SELECT DISTINCT yearmonth FROM ${table} PARTITION (${name})`)
    found[name] = rows.map((r) => String(r.yearmonth)).filter(isYearMonth)
  }
  return found
}

/**
 * Plans every month-partitioned table against the same month. `db migrate` passes retainMonths null and
 * reads no rows; `isolate` gives past months their own partition whatever their rows (backfill, next).
 */
export async function planTables(
  conn: Queryable,
  o: {current: YearMonth; aheadMonths: number; retainMonths: number | null; isolate?: YearMonth[]},
): Promise<Plan[]> {
  const plans: Plan[] = []
  for (const table of MANAGED_TABLES) {
    const existing = await loadPartitions(conn, table)
    const found =
      o.retainMonths === null && !o.isolate
        ? undefined
        : o.retainMonths === null
          ? {}
          : await monthsWithRows(conn, table, existing, keepFromOf(o.current, o.retainMonths))
    for (const m of o.isolate ?? []) {
      const i = existing.findIndex((p) => p.lessThan !== MAXVALUE && p.lessThan > m)
      if (i >= 0) found![existing[i]!.name] = [...(found![existing[i]!.name] ?? []), m]
    }
    plans.push(
      plan({
        existing,
        current: o.current,
        aheadMonths: o.aheadMonths,
        retainMonths: o.retainMonths,
        table,
        monthsWithRows: found,
      }),
    )
  }
  return plans
}

/** Gives a past month its own partition before backfill writes it, so that retention can drop it alone later. */
export function ensureMonthPartition(
  db: Db,
  month: YearMonth,
  timezone: string,
  lockWaitSeconds = 60,
): Promise<ExecutedAction[]> {
  return withNamedLock(db, {kind: 'partitions'}, lockWaitSeconds, async (conn) => {
    const current = currentMonth(timezone)
    if (month >= current) return []
    return applyPlans(conn, await planTables(conn, {current, aheadMonths: 0, retainMonths: null, isolate: [month]}))
  })
}

/**
 * Applies the actions in order, each timed. Months about to be dropped keep their totals first, in a
 * statement of their own: a crash anywhere leaves the totals with the rows still there, or both; the next
 * rotate finishes, and never overwrites totals already kept.
 */
export async function applyPlans(conn: Queryable, plans: Plan[], retention = false): Promise<ExecutedAction[]> {
  const executed: ExecutedAction[] = []
  const below = plans[0]!.droppedBelow
  if (below) await keepTotals(conn, below)
  for (const a of plans.flatMap((p) => p.actions)) {
    const started = Date.now()
    await conn.query(a.sql)
    executed.push({kind: a.kind, sql: a.sql, rows: a.kind === 'add' ? 0 : a.rows, ms: Date.now() - started})
  }
  // Also what a rotate cut short between its drops and this left behind (only rotate: the table may not exist yet in migrate).
  if (retention) await forgetKeptSummary(conn)
  return executed
}

/** One rotate at a time per database (a named lock); the plan is read and applied under it. */
export function rotate(db: Db, o: RotateOptions): Promise<RotateResult> {
  return withNamedLock(db, {kind: 'partitions'}, o.lockWaitSeconds, async (conn: PoolConnection) => {
    const plans = await planTables(conn, {
      current: currentMonth(o.timezone, o.now),
      aheadMonths: o.aheadMonths,
      retainMonths: o.retainMonths,
    })
    const statements = plans.flatMap((p) => p.actions.map((a) => a.sql))
    const keeping = plans[0]!.droppedBelow ? await summaryMonths(conn, plans[0]!.droppedBelow) : []
    const deadLetters = {
      retentionDays: o.deadLetterRetentionDays ?? DEFAULT_DEAD_LETTER_RETENTION_DAYS,
      dryRun: o.dryRun,
      now: o.now,
    }
    if (o.dryRun)
      return {
        dryRun: true,
        plan: plans[0]!,
        statements,
        keptTotals: keeping,
        executed: [],
        deadLetters: await expireDeadLetters(conn, deadLetters),
      }
    // The consumer reads the retention from here: it and this CronJob can never disagree.
    await recordRetention(conn, o.retainMonths)
    const executed = await applyPlans(conn, plans, true)
    // After the partitions, which matter more: a failure here leaves them done, and the next run deletes what is left.
    return {
      dryRun: false,
      plan: plans[0]!,
      statements,
      keptTotals: keeping,
      executed,
      deadLetters: await expireDeadLetters(conn, deadLetters),
    }
  })
}

export interface PartitionInfo extends Partition {
  /** Inclusive lower bound: the previous partition's bound, or null for the first. */
  from: YearMonth | null
  /** The months it has rows of, where it spans several (pmin, gaps); its own month otherwise. */
  months: YearMonth[]
  next: 'drop' | 'split' | 'keep'
}

export interface ListResult {
  partitions: PartitionInfo[]
  plan: Plan
  /** The months whose totals the next rotate keeps as it drops their rows. */
  keptTotals: YearMonth[]
}

export async function listPartitions(
  db: Db,
  o: Omit<RotateOptions, 'dryRun' | 'lockWaitSeconds'>,
): Promise<ListResult> {
  const existing = await loadPartitions(db)
  const current = currentMonth(o.timezone, o.now)
  // Every partition of several months below the current one: a person asked what they hold.
  const found = await monthsWithRows(db, 'mau', existing, current)
  const p = plan({existing, current, aheadMonths: o.aheadMonths, retainMonths: o.retainMonths, monthsWithRows: found})
  const split = new Set(p.actions.flatMap((a) => (a.kind === 'split' ? [a.partition] : [])))
  const partitions: PartitionInfo[] = []
  for (const [i, x] of existing.entries()) {
    // A month's own partition: whether it has a row at all is one row read (InnoDB's row estimate lags).
    const own =
      !found[x.name] &&
      x.month !== null &&
      /^p\d{6}$/.test(x.name) &&
      (await db.query<RowDataPacket[]>(`SELECT 1 FROM mau PARTITION (${x.name}) LIMIT 1`))[0].length > 0
    partitions.push({
      ...x,
      from: i === 0 ? null : existing[i - 1]!.lessThan,
      months: found[x.name] ?? (own ? [x.month!] : []),
      next: p.drop.includes(x.name) ? 'drop' : split.has(x.name) ? 'split' : 'keep',
    })
  }
  return {plan: p, keptTotals: p.droppedBelow ? await summaryMonths(db, p.droppedBelow) : [], partitions}
}
