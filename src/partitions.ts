/**
 * The monthly partitions of `mau`: pYYYYMM holds months below its bound, pmax catches the rest.
 * Partition names and bounds are built only from validated YYYYMM values, never from input text.
 */
import type {RowDataPacket} from 'mysql2/promise'
import {addMonths, isYearMonth, type YearMonth} from './month.js'

type Queryable = {query: <T extends RowDataPacket[]>(sql: string, values?: unknown[]) => Promise<[T, unknown]>}

export interface Partition {
  name: string
  /** The month this partition is named for, or null for pmax and foreign names. */
  month: YearMonth | null
  /** Exclusive upper bound ("202301"), or "MAXVALUE". */
  lessThan: string
  rows: number
  bytes: number
}

export function partitionName(month: YearMonth): string {
  if (!isYearMonth(month)) throw new Error(`refusing to build a partition name from "${month}"`)
  return `p${month}`
}

function partitionDefinition(month: YearMonth): string {
  return `PARTITION ${partitionName(month)} VALUES LESS THAN ('${addMonths(month, 1)}')`
}

export async function readPartitions(db: Queryable, table = 'mau'): Promise<Partition[]> {
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

/** Months from `from` through `from + ahead` that lie above every existing monthly partition. */
export function monthsToCreate(existing: Partition[], from: YearMonth, ahead: number): YearMonth[] {
  const highest = existing.filter((p) => p.lessThan !== 'MAXVALUE').map((p) => p.lessThan).sort().at(-1)
  const wanted: YearMonth[] = []
  for (let i = 0; i <= ahead; i++) {
    const month = addMonths(from, i)
    if (highest === undefined || addMonths(month, 1) > highest) wanted.push(month)
  }
  return wanted
}

/** The one ALTER that adds these months: split pmax when it exists (rows in it move to their month), else append. */
export function createPartitionsSql(existing: Partition[], months: YearMonth[], table = 'mau'): string | null {
  if (months.length === 0) return null
  const defs = months.map(partitionDefinition)
  if (existing.some((p) => p.name === 'pmax')) {
    return `ALTER TABLE ${table} REORGANIZE PARTITION pmax INTO (${[...defs, 'PARTITION pmax VALUES LESS THAN (MAXVALUE)'].join(', ')})`
  }
  return `ALTER TABLE ${table} ADD PARTITION (${defs.join(', ')})`
}
