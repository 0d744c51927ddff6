/**
 * The summary counters (mau_summary) against the rows they summarise: a check that lists every line
 * that differs, and a rebuild that is safe while consumers run.
 */
import {type Db, inTransaction} from '../core/db.js'
import type {YearMonth} from '../core/month.js'
import {count, countByScan, type MauCount} from './count.js'
import {ALL_SOURCES} from './rows.js'
import {requireRows} from '../schema/retention.js'

export interface SummaryDifference {
  environment_namespace: string
  source_id: string
  summary: {users: number; events: number} | null
  scan: {users: number; events: number} | null
}

export interface CheckResult {
  month: YearMonth
  ok: boolean
  differences: SummaryDifference[]
}

function flatten(
  c: MauCount,
): Map<string, {environment_namespace: string; source_id: string; users: number; events: number}> {
  const out = new Map<string, {environment_namespace: string; source_id: string; users: number; events: number}>()
  for (const e of c.environments) {
    out.set(`${e.environment_namespace}\u0000`, {
      environment_namespace: e.environment_namespace,
      source_id: ALL_SOURCES,
      users: e.users,
      events: e.events,
    })
    for (const s of e.sources)
      out.set(`${e.environment_namespace}\u0000${s.source_id}`, {environment_namespace: e.environment_namespace, ...s})
  }
  return out
}

/** Compares the summary with a scan of the rows; every line that differs is reported. */
export async function checkSummary(db: Db, month: YearMonth): Promise<CheckResult> {
  await requireRows(db, month, 'summary check')
  const [fromSummary, fromScan] = [flatten(await count(db, {month})), flatten(await countByScan(db, {month}))]
  const differences: SummaryDifference[] = []
  for (const k of new Set([...fromSummary.keys(), ...fromScan.keys()])) {
    const a = fromSummary.get(k)
    const b = fromScan.get(k)
    if (a?.users === b?.users && a?.events === b?.events) continue
    const base = (a ?? b)!
    differences.push({
      environment_namespace: base.environment_namespace,
      source_id: base.source_id,
      summary: a ? {users: a.users, events: a.events} : null,
      scan: b ? {users: b.users, events: b.events} : null,
    })
  }
  const order = (d: SummaryDifference) => `${d.environment_namespace}\u0000${d.source_id}`
  differences.sort((a, b) => (order(a) < order(b) ? -1 : 1))
  return {month, ok: differences.length === 0, differences}
}

/**
 * Recomputes a month's summary from the rows, safely while consumers run: the month's summary range is
 * locked first (next-key locks, so no consumer adds to it or inserts into it meanwhile), and only then
 * are the rows read, so the snapshot holds every batch committed before; batches still in flight wait
 * for the lock and add their part after the rebuild commits.
 */
export async function rebuildSummary(
  db: Db,
  month: YearMonth,
  onRows?: (rows: number) => void,
): Promise<{month: YearMonth; rows: number}> {
  await requireRows(db, month, 'summary rebuild')
  return inTransaction(db, async (conn) => {
    await conn.query('SELECT yearmonth FROM mau_summary WHERE yearmonth = ? FOR UPDATE', [month])
    // A plain (consistent) read: INSERT ... SELECT would share-lock every row of the month and stall consumers.
    const lines = [...flatten(await countByScan(conn, {month}, {onRows})).values()]
    await conn.query('DELETE FROM mau_summary WHERE yearmonth = ?', [month])
    if (lines.length > 0) {
      await conn.query(
        `INSERT INTO mau_summary (yearmonth, environment_namespace, source_id, users, events) VALUES ${lines.map(() => '(?,?,?,?,?)').join(',')}`,
        lines.flatMap((l) => [month, l.environment_namespace, l.source_id, l.users, l.events]),
      )
    }
    return {month, rows: lines.length}
  })
}
