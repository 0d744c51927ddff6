/** Runs the partition plan against MySQL: one run at a time (named lock), each ALTER timed. */
import type {Connection} from 'mysql2/promise'
import type {MysqlSettings} from './config.js'
import {ExitCode, MauError} from './errors.js'
import {addMonths, currentMonth, type YearMonth} from './month.js'
import {plan, readPartitions, MAXVALUE, type Action, type Partition, type Plan} from './partitions.js'
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
  plan: Plan
  executed: ExecutedAction[]
}

async function loadPartitions(conn: Connection, settings: MysqlSettings): Promise<Partition[]> {
  const existing = await readPartitions(conn)
  if (existing.length === 0) {
    throw new MauError(`Table mau in ${settings.database} is missing or not partitioned.`, {exit: ExitCode.SCHEMA, code: 'SCHEMA_MISSING', suggestions: ['Run `mau db migrate`.']})
  }
  return existing
}

/** Applies the actions in order; also used by `db migrate`, which only creates. */
export async function applyPlan(conn: Connection, p: Plan): Promise<ExecutedAction[]> {
  const executed: ExecutedAction[] = []
  for (const a of p.actions) {
    const started = Date.now()
    await conn.query(a.sql)
    executed.push({kind: a.kind, sql: a.sql, rows: a.kind === 'add' ? 0 : a.rows, ms: Date.now() - started})
  }
  return executed
}

export async function rotate(settings: MysqlSettings, o: RotateOptions): Promise<RotateResult> {
  const conn = await openConnection(settings)
  try {
    return await withNamedLock(conn, `mau.partitions.${settings.database}`, o.lockWaitSeconds, async () => {
      const existing = await loadPartitions(conn, settings)
      const p = plan({existing, current: currentMonth(o.timezone, o.now), aheadMonths: o.aheadMonths, retainMonths: o.retainMonths})
      return {dryRun: o.dryRun, plan: p, executed: o.dryRun ? [] : await applyPlan(conn, p)}
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
