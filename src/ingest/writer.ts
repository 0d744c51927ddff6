/**
 * Writes a window of prepared chunks into MySQL exactly once. Inside one transaction:
 *   1. lock the partitions' stored offsets (SELECT ... FOR UPDATE, one round trip, rows in key order),
 *      skip messages already applied, and refuse chunks the database is behind (continuity.ts: the whole
 *      window rolls back with DatabaseBehind, and the consumer reads those partitions again),
 *   2. upsert the window's rows, merged across its chunks, and add what they changed to the summary
 *      counters (mau/rows.ts); users known present this month are not recorded again (known-users.ts),
 *   3. set aside rejected messages in mau_dead_letter,
 *   4. advance each partition's stored offset.
 * A crash anywhere rolls all four back; a redelivered or concurrently processed chunk finds the offset
 * already advanced and applies nothing twice.
 */
import {DEFAULT_STATEMENT_BYTES, type Db, inTransaction} from '../core/db.js'
import type {MonthResolver, YearMonth} from '../core/month.js'
import {applyPlan, planRows, type Row, type RowPlan} from '../mau/rows.js'
import {aggregate, deadLettersOf, firstFresh, ignoredOf, type Part, type PreparedBatch} from './batch.js'
import {type DeadLetter, insertDeadLetters} from './deadletter.js'
import {type Behind, DatabaseBehind, judgeChunk} from './continuity.js'
import {type KnownUsers, storedKey} from './known-users.js'
import {lockStoredOffsets, partitionKey, storeOffset, type PartitionRef} from './offsets.js'

export interface WindowChunk {
  ref: PartitionRef
  /** Where the fetch that read it started (its first message may come later: markers, compacted records). */
  from: number
  batch: PreparedBatch
  /** A Redis stream's chunk: the id of its last entry, stored with the offset (XREAD resumes after it). */
  lastId?: string
}

export interface PartitionResult {
  ref: PartitionRef
  applied: number
  skipped: number
  deadLetters: DeadLetter[]
  /** Messages of kinds not counted, by type URL. */
  ignored: Record<string, number>
  nextOffset: number
  /** The stored offset moved (by messages applied, or past offsets that hold none). */
  advanced: boolean
  /** A Redis stream's last entry id applied, stored with nextOffset. */
  lastId?: string
}

export interface WindowResult {
  /** Rows upserted for the whole window (merged across partitions). */
  rowsUpserted: number
  partitions: PartitionResult[]
  /** Events of months past retention, by month: not written. */
  expired: Record<YearMonth, number>
  /** Events written, by month (late events to months already reported are counted from this). */
  eventsByMonth: Record<YearMonth, number>
}

/** The rows of a window aggregated ahead, with what retention left out of them, and their statements. */
export interface Aggregated {
  rows: Row[]
  expired: Record<YearMonth, number>
  /** Planned with the known users of this generation (KnownUsers.generation). */
  plan?: RowPlan & {generation: number}
}

export interface PersistOptions {
  /** From aggregateWindow, computed while another window's transaction ran. */
  aggregated?: Aggregated
  /** What one statement may take (core/db.ts statementBytes). */
  maxStatementBytes?: number
  /** The oldest month still written: older events are counted as expired. */
  keepFrom?: YearMonth
  /** Users known present this month: their mau_user_month insert is left out (known-users.ts). */
  known?: KnownUsers
  /** Called once the rows are on their way to MySQL (windows.ts Overlap). */
  sendingRows?: () => void
}

/** One partition's chunks, in offset order. */
function byPartition(chunks: WindowChunk[]): [PartitionRef, WindowChunk[]][] {
  const groups = new Map<string, [PartitionRef, WindowChunk[]]>()
  for (const c of chunks) {
    const k = partitionKey(c.ref.topic, c.ref.partition)
    const group = groups.get(k)
    if (group) group[1].push(c)
    else groups.set(k, [c.ref, [c]])
  }
  return [...groups.entries()].sort(([a], [b]) => (a < b ? -1 : 1)).map(([, g]) => g)
}

/**
 * Pure but for reading `known`: the window's rows as if none of it was applied yet, and their statements;
 * persistWindow uses them when that holds and `known` was not forgotten since.
 */
export function aggregateWindow(
  chunks: WindowChunk[],
  months: MonthResolver,
  opts: Omit<PersistOptions, 'aggregated'> = {},
): Aggregated {
  const aggregated = aggregatePart(
    chunks.map((c) => ({batch: c.batch, from: 0})),
    months,
    opts.keepFrom,
  )
  opts.known?.refresh()
  const plan = planRows(aggregated.rows, opts.maxStatementBytes ?? DEFAULT_STATEMENT_BYTES, opts.known)
  return {...aggregated, plan: {...plan, generation: opts.known?.generation ?? 0}}
}

function aggregatePart(parts: Part[], months: MonthResolver, keepFrom?: YearMonth): Aggregated {
  const expired: Record<YearMonth, number> = {}
  return {rows: aggregate(parts, months, keepFrom ? {keepFrom, expired} : undefined), expired}
}

/** Writes the window exactly once (see the top of this file). */
export async function persistWindow(
  db: Db,
  chunks: WindowChunk[],
  months: MonthResolver,
  nowSeconds: number,
  opts: PersistOptions = {},
): Promise<WindowResult> {
  const {aggregated, known, keepFrom} = opts
  const maxStatementBytes = opts.maxStatementBytes ?? DEFAULT_STATEMENT_BYTES
  const partitions = byPartition(chunks)
  const written = await inTransaction(db, async (conn) => {
    const parts: Part[] = []
    const results: PartitionResult[] = []
    const behind: Behind[] = []
    const locked = await lockStoredOffsets(
      conn,
      partitions.map(([ref]) => ref),
    )
    for (const [ref, own] of partitions) {
      const found = locked.get(partitionKey(ref.topic, ref.partition))
      let stored = found ?? -1
      const r: PartitionResult = {
        ref,
        applied: 0,
        skipped: 0,
        deadLetters: [],
        ignored: {},
        nextOffset: stored,
        advanced: false,
      }
      for (const {from, batch, lastId} of own) {
        const verdict = judgeChunk(stored, {from, lastOffset: batch.lastOffset})
        if (verdict === 'behind') {
          behind.push({ref, stored: found, expected: from})
          break
        }
        if (verdict === 'skip') {
          r.skipped += batch.offsets.length
          continue
        }
        const part = {batch, from: stored > batch.firstOffset ? firstFresh(batch, stored) : 0}
        parts.push(part)
        r.deadLetters.push(...deadLettersOf(part))
        for (const i of ignoredOf(part)) r.ignored[i.typeUrl] = (r.ignored[i.typeUrl] ?? 0) + 1
        r.skipped += part.from
        r.applied += batch.offsets.length - part.from
        stored = batch.lastOffset + 1
        r.advanced = true
        r.lastId = lastId
      }
      r.nextOffset = stored
      results.push(r)
    }
    if (behind.length > 0) throw new DatabaseBehind(behind)
    const whole = results.every((r) => r.skipped === 0)
    const {rows, expired, plan} = whole && aggregated ? aggregated : aggregatePart(parts, months, keepFrom)
    if (known) {
      known.refresh()
      await known.certify(
        conn,
        new Map(partitions.map(([ref]) => [storedKey(ref), locked.get(partitionKey(ref.topic, ref.partition))])),
      )
    }
    const current = plan && plan.generation === (known?.generation ?? 0)
    const used = current ? plan : planRows(rows, maxStatementBytes, known)
    if (rows.length > 0) {
      const sending = applyPlan(conn, used, maxStatementBytes)
      opts.sendingRows?.()
      await sending
    }
    for (const r of results) {
      // A chunk of transaction markers applies no message but moves the offset past them.
      if (!r.advanced) continue
      await insertDeadLetters(conn, r.ref, r.deadLetters, nowSeconds, maxStatementBytes)
      await storeOffset(conn, r.ref, r.nextOffset, nowSeconds, r.lastId)
    }
    const eventsByMonth: Record<YearMonth, number> = {}
    for (const r of rows) eventsByMonth[r.yearmonth] = (eventsByMonth[r.yearmonth] ?? 0) + r.count
    return {inserted: used.inserted, result: {rowsUpserted: rows.length, partitions: results, expired, eventsByMonth}}
  })
  known?.learn(
    written.inserted,
    written.result.partitions.filter((r) => r.advanced),
  )
  return written.result
}
