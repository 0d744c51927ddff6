/**
 * Dead letters read again with today's decoder: the ones that now pass are written like the consumer
 * writes them (rows and summary counters) and deleted from mau_dead_letter in the same transaction, so
 * each is applied exactly once, even with two replays at once; the rest stay where they are.
 */
import {type Db, inTransaction} from '../core/db.js'
import {MonthResolver} from '../core/month.js'
import {applyRows} from '../mau/rows.js'
import {aggregate, prepareBatch} from './batch.js'
import {decoder, type EventFormat, REJECTION_CODES} from './decode.js'
import type {ActivityKind} from '../core/platform.js'
import {oldestKept} from '../schema/retention.js'
import {type DeadLetterFilter, countDeadLetters, deadLetterPage, deleteDeadLetters} from './deadletter.js'

export interface ReplayOptions extends DeadLetterFilter {
  format: EventFormat
  /** The kinds counted, as the consumer's --activity; default all. */
  activity?: readonly ActivityKind[]
  timezone: string
  dryRun: boolean
  pageSize?: number
  /** After each page: letters examined so far, of the total. */
  onProgress?: (done: number, total: number) => void
}

export interface ReplayResult {
  dryRun: boolean
  examined: number
  /** Applied and removed (with --dry-run: would be). */
  replayed: number
  events: number
  rowsUpserted: number
  /** Removed without a row: messages of kinds not counted. */
  ignored: number
  /** Removed without a row: events of months past retention. */
  expired: number
  /** Still rejected, by the reason's code; `cut`: letters whose payload was cut (--dead-letter-max-bytes), never replayable. */
  kept: Record<string, number>
}

export async function replayDeadLetters(db: Db, o: ReplayOptions): Promise<ReplayResult> {
  const decode = decoder(o.format, o.activity)
  const months = new MonthResolver(o.timezone)
  const total = await countDeadLetters(db, o)
  const result: ReplayResult = {
    dryRun: o.dryRun,
    examined: 0,
    replayed: 0,
    events: 0,
    rowsUpserted: 0,
    ignored: 0,
    expired: 0,
    kept: {...Object.fromEntries(REJECTION_CODES.map((c) => [c, 0])), cut: 0},
  }
  const now = Math.floor(Date.now() / 1000)
  // Letters of months past retention leave, counted as expired: nothing can bring their month back.
  const keepFrom = await oldestKept(db, o.timezone)
  for (let after = 0; ;) {
    const last = await inTransaction(db, async (conn) => {
      const page = await deadLetterPage(conn, o, after, o.pageSize ?? 1000, !o.dryRun)
      // A cut letter is not the message any more: it stays, counted as such, and is never decoded.
      const letters = page.filter((l) => !l.cut)
      result.kept.cut! += page.length - letters.length
      result.examined += page.length
      // A letter's id stands in for its offset: ids ascend, as a batch's offsets do.
      const batch = prepareBatch(
        letters.map((l) => ({offset: String(l.id), value: l.payload})),
        decode,
        now,
      )
      const retention = {keepFrom, expired: {} as Record<string, number>}
      const rows = aggregate([{batch, from: 0}], months, retention)
      const expired = Object.values(retention.expired).reduce((a, n) => a + n, 0)
      const deadLetters = batch.deadLetters
      const kept = new Set(deadLetters.map((d) => d.offset))
      // Letters of kinds not counted (a metrics event set aside by an older version) leave too, as ignored.
      const passing = letters.filter((l) => !kept.has(l.id))
      if (!o.dryRun) {
        if (rows.length > 0) await applyRows(conn, rows)
        await deleteDeadLetters(
          conn,
          passing.map((l) => l.id),
        )
      }
      // A letter is one message: of those that leave, the ignored and the expired were not replayed.
      const replayed = passing.length - batch.ignored.length - expired
      result.ignored += batch.ignored.length
      result.expired += expired
      for (const d of deadLetters) result.kept[d.rejection.code] = (result.kept[d.rejection.code] ?? 0) + 1
      result.replayed += replayed
      result.events += replayed
      result.rowsUpserted += o.dryRun ? 0 : rows.length
      return page.at(-1)?.id
    })
    o.onProgress?.(result.examined, total)
    if (last === undefined) return result
    after = last
  }
}
