/**
 * The monthly partitions of `mau`: pYYYYMM holds the months below its bound, pmax catches the rest.
 * `plan` is pure: from the partitions that exist and today's month it derives what to split, add and drop.
 * Partition names and bounds in SQL come only from validated YYYYMM values, never from input text.
 */
import type {RowDataPacket} from 'mysql2/promise'
import type {Queryable} from '../core/db.js'
import {addMonths, isYearMonth, monthsBetween, type YearMonth} from '../core/month.js'

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
  /** By partition name: the months that partition has rows of (rotate reads them for the partitions `spanning` names). */
  monthsWithRows?: Record<string, YearMonth[]>
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

function validBound(bound: string): string {
  if (!isYearMonth(bound)) throw new Error(`refusing to build a partition bound from "${bound}"`)
  return bound
}

export async function readPartitions(db: Queryable, table = 'mau'): Promise<Partition[]> {
  // information_schema hides a table its reader has no privilege on: a refused read here is the honest answer.
  if (!(MANAGED_TABLES as readonly string[]).includes(table))
    throw new Error(`refusing to read partitions of "${table}"`)
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

/** The partition below every month partition: rows of months older than the oldest one land here, and nowhere else. */
export const PMIN = 'pmin'

/** A partition's range: [lo, hi), lo null for the lowest, hi MAXVALUE for pmax. */
interface Range {
  name: string
  lo: YearMonth | null
  hi: string
}

/** Pure: the oldest month kept under a retention of `retainMonths` (the current and previous months always are). */
export function keepFromOf(current: YearMonth, retainMonths: number): YearMonth {
  const byRetention = addMonths(current, -(Math.max(retainMonths, 1) - 1))
  const previous = addMonths(current, -1)
  return byRetention < previous ? byRetention : previous
}

/**
 * Pure: a range cut so that each month with rows has a partition of its own: [m, m+1), named p{m}; the
 * months between are partitions named for their last month (a partition's name is always its bound's month
 * before it), and a range that starts at the bottom keeps the name pmin.
 */
export function isolate(r: Range, monthsWithRows: YearMonth[]): Range[] {
  const pieces: Range[] = []
  const piece = (lo: YearMonth | null, hi: YearMonth) =>
    pieces.push({name: lo === null ? PMIN : partitionName(addMonths(hi, -1)), lo, hi})
  let cursor = r.lo
  for (const m of [...new Set(monthsWithRows)].sort()) {
    if (cursor === null || cursor < m) piece(cursor, m)
    piece(m, addMonths(m, 1))
    cursor = addMonths(m, 1)
  }
  if (cursor === null || cursor < r.hi) piece(cursor, r.hi)
  return pieces
}

const rangeSql = (r: Range) =>
  `PARTITION ${r.name} VALUES LESS THAN (${r.hi === MAXVALUE ? 'MAXVALUE' : `'${validBound(r.hi)}'`})`
const months = (r: Range): number => (r.lo === null || r.hi === MAXVALUE ? Infinity : monthsBetween(r.lo, r.hi))

/**
 * Pure: what to run so that (1) every month with rows below the current one has its own partition and the
 * lowest partition is pmin (`monthsWithRows`: what rotate found in partitions that span several months),
 * (2) the current and `aheadMonths` months have theirs, (3) with a retention, every partition whose rows
 * are all older than keepFrom is dropped, wherever they came from.
 */
export function plan(input: PlanInput): Plan {
  const table = input.table ?? 'mau'
  const {existing, current} = input
  const warnings: string[] = []
  const actions: Action[] = []
  let layout: Range[] = existing.map((p, i) => ({
    name: p.name,
    lo: i === 0 ? null : existing[i - 1]!.lessThan,
    hi: p.lessThan,
  }))
  const replace = (old: Range, pieces: Range[]) => (layout = layout.flatMap((r) => (r === old ? pieces : [r])))
  const rowsOf = (name: string) => existing.find((p) => p.name === name)?.rows ?? 0

  // (1) Months with rows get partitions of their own; the lowest partition becomes pmin (a one-time reorganize).
  // Only with what rotate read of the rows (never in `db migrate`: an init container moves no month's rows).
  for (const r of input.monthsWithRows ? [...layout] : []) {
    if (r.hi === MAXVALUE || (r.name !== PMIN && existing.find((p) => p.name === r.name)?.month === null)) continue
    const found = (input.monthsWithRows?.[r.name] ?? []).filter((m) => (r.lo === null || m >= r.lo) && m < r.hi)
    // The range's last month needs no piece of its own unless the range is the bottom (pmin goes below it).
    const own =
      months(r) > 1 ? found.filter((m) => !(r.lo !== null && addMonths(m, 1) === r.hi && found.length === 1)) : []
    const needsPmin = r.lo === null && r.name !== PMIN
    if (own.length === 0 && !needsPmin) continue
    const pieces = isolate(r, needsPmin && own.length === 0 ? [addMonths(r.hi, -1)] : own)
    if (pieces.length === 1) continue
    replace(r, pieces)
    actions.push({
      kind: 'split',
      partition: r.name,
      create: pieces.flatMap((x) =>
        x.lo !== null && months(x) === 1 && !existing.some((e) => e.name === x.name) ? [x.lo] : [],
      ),
      rows: rowsOf(r.name),
      sql: `ALTER TABLE ${table} REORGANIZE PARTITION ${r.name} INTO (${pieces.map(rangeSql).join(', ')})`,
    })
  }

  // (2) A month has its own partition when some partition ends right after it.
  const wanted = Array.from({length: input.aheadMonths + 1}, (_, i) => addMonths(current, i))
  const missing = wanted.filter((m) => !layout.some((r) => r.hi === addMonths(m, 1)))
  // Each missing month is carved out of the partition that holds it now (pmax, or the one after a gap).
  const bySplit = new Map<Range, YearMonth[]>()
  const beyondEnd: YearMonth[] = []
  for (const m of missing) {
    const covering = layout.find((r) => r.hi > m)
    const known =
      covering &&
      (covering.name === PMIN ||
        covering.hi === MAXVALUE ||
        existing.find((p) => p.name === covering.name)?.month !== null)
    if (!covering) beyondEnd.push(m)
    else if (!known) warnings.push(`${m} lies in partition ${covering.name}, which mau did not create; left as it is`)
    else bySplit.set(covering, [...(bySplit.get(covering) ?? []), m])
  }
  for (const [r, ms] of bySplit) {
    // The bottom stays pmin (a table that is only pmax gets it now, for free); what pmin held above the new
    // months becomes a partition named for its last month, as every other.
    const bottom = r.lo === null ? [{name: PMIN, lo: null, hi: ms[0]!}] : []
    const rest = {
      name: r.name === PMIN ? partitionName(addMonths(r.hi, -1)) : r.name,
      lo: addMonths(ms.at(-1)!, 1),
      hi: r.hi,
    }
    const pieces: Range[] = [...bottom, ...ms.map((m) => ({name: partitionName(m), lo: m, hi: addMonths(m, 1)})), rest]
    replace(r, pieces)
    actions.push({
      kind: 'split',
      partition: r.name,
      create: ms,
      rows: rowsOf(r.name),
      sql: `ALTER TABLE ${table} REORGANIZE PARTITION ${r.name} INTO (${pieces.map(rangeSql).join(', ')})`,
    })
  }
  const hasCatchAll = layout.some((r) => r.hi === MAXVALUE)
  if (beyondEnd.length > 0 || !hasCatchAll) {
    const defs = [...beyondEnd.map(definition), ...(hasCatchAll ? [] : ['PARTITION pmax VALUES LESS THAN (MAXVALUE)'])]
    actions.push({
      kind: 'add',
      create: beyondEnd,
      addsCatchAll: !hasCatchAll,
      sql: `ALTER TABLE ${table} ADD PARTITION (${defs.join(', ')})`,
    })
  }

  // (3) Only partitions mau named for a month, and only when every row they can hold is older than keepFrom.
  const keepFrom = input.retainMonths === null ? null : keepFromOf(current, input.retainMonths)
  const drop =
    keepFrom === null
      ? []
      : layout.filter((r) => /^p\d{6}$/.test(r.name) && r.hi !== MAXVALUE && validBound(r.hi) <= keepFrom)
  if (drop.length > 0) {
    actions.push({
      kind: 'drop',
      partitions: drop.map((r) => r.name),
      rows: drop.reduce((a, r) => a + rowsOf(r.name), 0),
      sql: `ALTER TABLE ${table} DROP PARTITION ${drop.map((r) => r.name).join(', ')}`,
    })
  }
  const droppedBelow = drop.length > 0 ? drop.at(-1)!.hi : null
  return {
    current,
    keepFrom,
    create: [...actions.flatMap((a) => (a.kind === 'drop' ? [] : a.create))],
    drop: drop.map((r) => r.name),
    droppedBelow,
    actions,
    warnings,
  }
}

/**
 * Pure: the partitions whose rows must be looked at: the ones that span several months (pmin above all)
 * and begin below `below`. Rotate passes the oldest month kept: only those can hold expired rows, so a
 * partition of several recent months (rotate was down for a while) is not read every day.
 */
export function spanning(existing: Partition[], below: YearMonth): string[] {
  return existing.flatMap((p, i) => {
    const lo = i === 0 ? null : existing[i - 1]!.lessThan
    if (p.lessThan === MAXVALUE || (p.month === null && p.name !== PMIN)) return []
    const span = lo === null ? Infinity : monthsBetween(lo, p.lessThan)
    return span > 1 && (lo === null || lo < below) ? [p.name] : []
  })
}

/** Pure: how many months after `current` have their own partition, counting until the first one missing. */
export function monthsAhead(existing: Partition[], current: YearMonth): number {
  const own = new Set(existing.flatMap((p) => (p.month ? [p.month] : [])))
  let ahead = 0
  while (own.has(addMonths(current, ahead + 1))) ahead++
  return ahead
}
