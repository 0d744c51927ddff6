/** Runs the partition plan against MySQL: one run at a time (named lock), each ALTER timed. */
import type {PoolConnection} from 'mysql2/promise'
import {type Db, type Queryable, schemaMissing, withNamedLock} from '../core/db.js'
import {currentMonth, type YearMonth} from '../core/month.js'
import {MANAGED_TABLES, plan, readPartitions, type Action, type Partition, type Plan} from './partitions.js'

export interface RotateOptions {
  timezone: string
  retainMonths: number
  aheadMonths: number
  dryRun: boolean
  lockWaitSeconds: number
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
  executed: ExecutedAction[]
}

async function loadPartitions(db: Queryable, table = 'mau'): Promise<Partition[]> {
  const existing = await readPartitions(db, table)
  if (existing.length === 0) throw schemaMissing(`table ${table} is missing or not partitioned.`)
  return existing
}

/** Plans every month-partitioned table against the same month; `db migrate` passes retainMonths null. */
export async function planTables(conn: Queryable, o: {current: YearMonth; aheadMonths: number; retainMonths: number | null}): Promise<Plan[]> {
  const plans: Plan[] = []
  for (const table of MANAGED_TABLES) plans.push(plan({existing: await loadPartitions(conn, table), ...o, table}))
  return plans
}

/** Summary rows of months whose partitions are gone. */
const summaryCleanup = (p: Plan) => (p.droppedBelow ? `DELETE FROM mau_summary WHERE yearmonth < '${p.droppedBelow}'` : null)

/** Applies the actions in order, each timed. */
export async function applyPlans(conn: Queryable, plans: Plan[]): Promise<ExecutedAction[]> {
  const executed: ExecutedAction[] = []
  for (const a of plans.flatMap((p) => p.actions)) {
    const started = Date.now()
    await conn.query(a.sql)
    executed.push({kind: a.kind, sql: a.sql, rows: a.kind === 'add' ? 0 : a.rows, ms: Date.now() - started})
  }
  const cleanup = summaryCleanup(plans[0]!)
  if (cleanup) await conn.query(cleanup)
  return executed
}

/** One rotate at a time per database (a named lock); the plan is read and applied under it. */
export function rotate(db: Db, o: RotateOptions): Promise<RotateResult> {
  return withNamedLock(db, {kind: 'partitions'}, o.lockWaitSeconds, async (conn: PoolConnection) => {
    const plans = await planTables(conn, {current: currentMonth(o.timezone, o.now), aheadMonths: o.aheadMonths, retainMonths: o.retainMonths})
    const statements = [...plans.flatMap((p) => p.actions.map((a) => a.sql)), summaryCleanup(plans[0]!)].filter((x): x is string => x !== null)
    return {dryRun: o.dryRun, plan: plans[0]!, statements, executed: o.dryRun ? [] : await applyPlans(conn, plans)}
  })
}

export interface PartitionInfo extends Partition {
  /** Inclusive lower bound: the previous partition's bound, or null for the first. */
  from: YearMonth | null
  next: 'drop' | 'split' | 'keep'
}

export interface ListResult {
  partitions: PartitionInfo[]
  plan: Plan
}

export async function listPartitions(db: Db, o: Omit<RotateOptions, 'dryRun' | 'lockWaitSeconds'>): Promise<ListResult> {
  const existing = await loadPartitions(db)
  const p = plan({existing, current: currentMonth(o.timezone, o.now), aheadMonths: o.aheadMonths, retainMonths: o.retainMonths})
  const split = new Set(p.actions.flatMap((a) => (a.kind === 'split' ? [a.partition] : [])))
  return {
    plan: p,
    partitions: existing.map((x, i) => ({
      ...x,
      from: i === 0 ? null : (existing[i - 1]!.lessThan as YearMonth),
      next: p.drop.includes(x.name) ? 'drop' : split.has(x.name) ? 'split' : 'keep',
    })),
  }
}
