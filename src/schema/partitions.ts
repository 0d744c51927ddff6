/**
 * The monthly partitions of `mau`: pYYYYMM holds the months below its bound, pmax catches the rest.
 * `plan` is pure: from the partitions that exist and today's month it derives what to split, add and drop.
 * Partition names and bounds in SQL come only from validated YYYYMM values, never from input text.
 */
import type {RowDataPacket} from 'mysql2/promise'
import type {Queryable} from '../core/db.js'
import {addMonths, isYearMonth, type YearMonth} from '../core/month.js'

export const MAXVALUE = 'MAXVALUE'

/** Tables partitioned by month, kept in step: the rows, and the users-per-month index the summary needs. */
export const MANAGED_TABLES = ['mau', 'mau_user_month'] as const

export interface Partition {
  name: string
  /** The month this partition is named for (pYYYYMM), or null for pmax and names mau did not make. */
  month: YearMonth | null
  /** Exclusive upper bound ("202301"), or MAXVALUE. */
  lessThan: string
  /** Estimates from information_schema (InnoDB samples them). */
  rows: number
  bytes: number
}

export type Action =
  | {kind: 'split'; partition: string; create: YearMonth[]; rows: number; sql: string}
  | {kind: 'add'; create: YearMonth[]; addsCatchAll: boolean; sql: string}
  | {kind: 'drop'; partitions: string[]; rows: number; sql: string}

export interface PlanInput {
  existing: Partition[]
  current: YearMonth
  aheadMonths: number
  /** Months kept, the current one included; null keeps everything (db migrate). */
  retainMonths: number | null
  table?: string
}

export interface Plan {
  current: YearMonth
  /** The oldest month kept: partitions whose every row is older are dropped. */
  keepFrom: YearMonth | null
  create: YearMonth[]
  drop: string[]
  /** Every row below this month is gone once the drops ran (dropped partitions are a prefix of the table). */
  droppedBelow: YearMonth | null
  actions: Action[]
  warnings: string[]
}

export function partitionName(month: YearMonth): string {
  if (!isYearMonth(month)) throw new Error(`refusing to build a partition name from "${month}"`)
  return `p${month}`
}

const definition = (month: YearMonth) => `PARTITION ${partitionName(month)} VALUES LESS THAN ('${addMonths(month, 1)}')`
const boundSql = (p: Partition) => (p.lessThan === MAXVALUE ? 'MAXVALUE' : `'${validBound(p.lessThan)}'`)

function validBound(bound: string): string {
  if (!isYearMonth(bound)) throw new Error(`refusing to build a partition bound from "${bound}"`)
  return bound
}

export async function readPartitions(db: Queryable, table = 'mau'): Promise<Partition[]> {
  // information_schema hides a table its reader has no privilege on: a refused read here is the honest answer.
  if (!(MANAGED_TABLES as readonly string[]).includes(table)) throw new Error(`refusing to read partitions of "${table}"`)
  await db.query(`SELECT 1 FROM ${table} LIMIT 0`).catch((error: {code?: string}) => {
    if (error.code !== 'ER_NO_SUCH_TABLE') throw error
  })
  const [rows] = await db.query<RowDataPacket[]>(
    `SELECT PARTITION_NAME AS name, PARTITION_DESCRIPTION AS bound, TABLE_ROWS AS \`rows\`,
            DATA_LENGTH + INDEX_LENGTH AS bytes
       FROM information_schema.PARTITIONS
      WHERE TABLE_SCHEMA = DATABASE() AND TABLE_NAME = ? AND PARTITION_NAME IS NOT NULL
      ORDER BY PARTITION_ORDINAL_POSITION`,
    [table],
  )
  return rows.map((r) => {
    const name = String(r.name)
    const month = /^p(\d{6})$/.exec(name)?.[1]
    return {
      name,
      month: month && isYearMonth(month) ? month : null,
      lessThan: String(r.bound).replace(/'/g, ''),
      rows: Number(r.rows ?? 0),
      bytes: Number(r.bytes ?? 0),
    }
  })
}

export function plan(input: PlanInput): Plan {
  const table = input.table ?? 'mau'
  const {existing, current} = input
  const warnings: string[] = []
  const actions: Action[] = []

  // A month has its own partition when some partition ends right after it.
  const wanted = Array.from({length: input.aheadMonths + 1}, (_, i) => addMonths(current, i))
  const missing = wanted.filter((m) => !existing.some((p) => p.lessThan === addMonths(m, 1)))

  // Each missing month is carved out of the partition that holds it now (pmax, or the one after a gap).
  const bySplit = new Map<Partition, YearMonth[]>()
  const beyondEnd: YearMonth[] = []
  for (const m of missing) {
    const covering = existing.find((p) => p.lessThan > m)
    if (!covering) beyondEnd.push(m)
    else if (covering.month === null && covering.lessThan !== MAXVALUE) warnings.push(`${m} lies in partition ${covering.name}, which mau did not create; left as it is`)
    else bySplit.set(covering, [...(bySplit.get(covering) ?? []), m])
  }
  for (const [p, months] of bySplit) {
    const into = [...months.map(definition), `PARTITION ${p.name} VALUES LESS THAN (${boundSql(p)})`]
    actions.push({kind: 'split', partition: p.name, create: months, rows: p.rows, sql: `ALTER TABLE ${table} REORGANIZE PARTITION ${p.name} INTO (${into.join(', ')})`})
  }
  const hasCatchAll = existing.some((p) => p.lessThan === MAXVALUE)
  if (beyondEnd.length > 0 || !hasCatchAll) {
    const defs = [...beyondEnd.map(definition), ...(hasCatchAll ? [] : ['PARTITION pmax VALUES LESS THAN (MAXVALUE)'])]
    actions.push({kind: 'add', create: beyondEnd, addsCatchAll: !hasCatchAll, sql: `ALTER TABLE ${table} ADD PARTITION (${defs.join(', ')})`})
  }

  let keepFrom: YearMonth | null = null
  const drop: Partition[] = []
  if (input.retainMonths !== null) {
    // Whatever the flags say, the current and the previous month stay.
    const byRetention = addMonths(current, -(Math.max(input.retainMonths, 1) - 1))
    const previous = addMonths(current, -1)
    keepFrom = byRetention < previous ? byRetention : previous
    // Only partitions mau named, and only when every row they can hold is older than keepFrom.
    drop.push(...existing.filter((p) => p.month !== null && p.lessThan !== MAXVALUE && validBound(p.lessThan) <= keepFrom!))
  }
  if (drop.length > 0) {
    const names = drop.map((p) => partitionName(p.month!))
    actions.push({kind: 'drop', partitions: names, rows: drop.reduce((a, p) => a + p.rows, 0), sql: `ALTER TABLE ${table} DROP PARTITION ${names.join(', ')}`})
  }
  const droppedBelow = drop.length > 0 ? validBound(drop.at(-1)!.lessThan) : null
  return {current, keepFrom, create: missing, drop: drop.map((p) => p.name), droppedBelow, actions, warnings}
}

/** Pure: how many months after `current` have their own partition, counting until the first one missing. */
export function monthsAhead(existing: Partition[], current: YearMonth): number {
  const own = new Set(existing.flatMap((p) => (p.month ? [p.month] : [])))
  let ahead = 0
  while (own.has(addMonths(current, ahead + 1))) ahead++
  return ahead
}
