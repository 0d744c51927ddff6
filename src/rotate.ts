/** Runs the partition plan against MySQL: one run at a time (named lock), each ALTER timed. */
import type {Connection} from 'mysql2/promise'
import type {MysqlSettings} from './config.js'
import {ExitCode, MauError} from './errors.js'
import {addMonths, currentMonth, type YearMonth} from './month.js'
import {MANAGED_TABLES, MAXVALUE, plan, readPartitions, type Action, type Partition, type Plan} from './partitions.js'
import {asServiceError, openConnection, withNamedLock} from './store.js'

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

async function loadPartitions(conn: Connection, settings: MysqlSettings, table = 'mau'): Promise<Partition[]> {
  const existing = await readPartitions(conn, table)
  if (existing.length === 0) {
    throw new MauError(`Table ${table} in ${settings.database} is missing or not partitioned.`, {exit: ExitCode.SCHEMA, code: 'SCHEMA_MISSING', suggestions: ['Run `mau db migrate`.']})
  }
  return existing
}

/** Plans every month-partitioned table against the same month; `db migrate` passes retainMonths null. */
export async function planTables(conn: Connection, settings: MysqlSettings, o: {current: YearMonth; aheadMonths: number; retainMonths: number | null}): Promise<Plan[]> {
  const plans: Plan[] = []
  for (const table of MANAGED_TABLES) plans.push(plan({existing: await loadPartitions(conn, settings, table), ...o, table}))
  return plans
}

/** Summary rows of months whose partitions are gone. */
const summaryCleanup = (p: Plan) => (p.droppedBelow ? `DELETE FROM mau_summary WHERE yearmonth < '${p.droppedBelow}'` : null)

/** Applies the actions in order, each timed. */
export async function applyPlans(conn: Connection, plans: Plan[]): Promise<ExecutedAction[]> {
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

export async function rotate(settings: MysqlSettings, o: RotateOptions): Promise<RotateResult> {
  const conn = await openConnection(settings)
  try {
    return await withNamedLock(conn, `mau.partitions.${settings.database}`, o.lockWaitSeconds, async () => {
      const plans = await planTables(conn, settings, {current: currentMonth(o.timezone, o.now), aheadMonths: o.aheadMonths, retainMonths: o.retainMonths})
      const statements = [...plans.flatMap((p) => p.actions.map((a) => a.sql)), summaryCleanup(plans[0]!)].filter((x): x is string => x !== null)
      return {dryRun: o.dryRun, plan: plans[0]!, statements, executed: o.dryRun ? [] : await applyPlans(conn, plans)}
    })
  } catch (error) {
    throw asServiceError(error, settings)
  } finally {
    await conn.end().catch(() => undefined)
  }
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

export async function listPartitions(settings: MysqlSettings, o: Omit<RotateOptions, 'dryRun' | 'lockWaitSeconds'>): Promise<ListResult> {
  const conn = await openConnection(settings)
  try {
    const existing = await loadPartitions(conn, settings)
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
  } catch (error) {
    throw asServiceError(error, settings)
  } finally {
    await conn.end().catch(() => undefined)
  }
}

/** Human range of a partition: "202212" for one month, "< 202212", "202301 and later". */
export function describeRange(p: PartitionInfo): string {
  if (p.lessThan === MAXVALUE) return p.from ? `${p.from} and later` : 'all'
  if (p.from && addMonths(p.from, 1) === p.lessThan) return p.from
  return p.from ? `${p.from} .. ${addMonths(p.lessThan, -1)}` : `before ${p.lessThan}`
}
