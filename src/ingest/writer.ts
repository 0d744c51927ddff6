/**
 * Writes a prepared batch into MySQL exactly once. Inside one transaction:
 *   1. lock this partition's stored offset (SELECT ... FOR UPDATE) and skip messages already applied,
 *   2. upsert the batch's rows and add what they changed to the summary counters (mau/rows.ts),
 *   3. set aside rejected messages in mau_dead_letter,
 *   4. advance the stored offset.
 * A crash anywhere rolls all four back; a redelivered or concurrently processed batch finds the offset
 * already advanced and applies nothing twice.
 */
import {type Db, inTransaction} from '../core/db.js'
import type {MonthResolver} from '../core/month.js'
import {applyRows} from '../mau/rows.js'
import {aggregate, type DeadLetter, type PreparedBatch} from './batch.js'
import {insertDeadLetters} from './deadletter.js'
import {ensureOffsetRow, lockStoredOffset, storeOffset, type PartitionRef} from './offsets.js'

export interface BatchResult {
  applied: number
  skipped: number
  rowsUpserted: number
  deadLetters: DeadLetter[]
  nextOffset: number
}

export async function persistBatch(db: Db, ref: PartitionRef, batch: PreparedBatch, months: MonthResolver, nowSeconds: number): Promise<BatchResult> {
  await ensureOffsetRow(db, ref, nowSeconds)
  return inTransaction(db, async (conn) => {
    const stored = await lockStoredOffset(conn, ref)
    const fresh = stored > batch.firstOffset ? batch.decoded.filter((d) => d.offset >= stored) : batch.decoded
    const skipped = batch.decoded.length - fresh.length
    if (fresh.length === 0) return {applied: 0, skipped, rowsUpserted: 0, deadLetters: [], nextOffset: stored}
    const {rows, deadLetters} = skipped > 0 ? aggregate(fresh, months) : batch
    await applyRows(conn, rows)
    await insertDeadLetters(conn, ref, deadLetters, nowSeconds)
    await storeOffset(conn, ref, batch.lastOffset + 1, nowSeconds)
    return {applied: fresh.length, skipped, rowsUpserted: rows.length, deadLetters, nextOffset: batch.lastOffset + 1}
  })
}
