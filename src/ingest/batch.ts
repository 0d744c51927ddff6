/**
 * A batch of Kafka messages made ready to write: decoded, validated and aggregated per (environment,
 * month, source, user). Pure CPU work, done before the transaction: the transaction stays short, and the
 * consumer prepares the next batch while MySQL writes this one.
 */
import type {MonthResolver} from '../core/month.js'
import type {Row} from '../mau/rows.js'
import type {Decoded, Rejection} from './decode.js'

export interface Message {
  offset: string
  value: Buffer | null
}

export interface DeadLetter {
  offset: number
  rejection: Rejection
  payload: Buffer | null
}

export interface PreparedBatch {
  /** Offsets of the first and last message; the stored offset becomes last + 1. */
  firstOffset: number
  lastOffset: number
  /** Every message with its offset, so that ones already applied (redelivered) can be dropped inside the transaction. */
  decoded: DecodedMessage[]
  /** The whole batch aggregated; recomputed inside the transaction only if part of it was already applied. */
  rows: Row[]
  deadLetters: DeadLetter[]
}

export interface DecodedMessage {
  offset: number
  result: Decoded
  payload: Buffer | null
}

export function prepareBatch(messages: Message[], decode: (bytes: Buffer, now: number) => Decoded, months: MonthResolver, nowSeconds: number): PreparedBatch {
  const decoded = messages.map((m) => ({
    offset: Number(m.offset),
    payload: m.value,
    result: m.value === null ? ({ok: false, rejection: {code: 'decode', message: 'message has no value (tombstone)'}} as const) : decode(m.value, nowSeconds),
  }))
  return {firstOffset: decoded[0]?.offset ?? 0, lastOffset: decoded.at(-1)?.offset ?? -1, decoded, ...aggregate(decoded, months)}
}

/** Sums events per row key; sorted by primary key so that concurrent transactions lock rows in one order. */
export function aggregate(items: DecodedMessage[], months: MonthResolver): {rows: Row[]; deadLetters: DeadLetter[]} {
  const rows = new Map<string, Row>()
  const deadLetters: DeadLetter[] = []
  for (const {offset, result, payload} of items) {
    if (!result.ok) {
      deadLetters.push({offset, rejection: result.rejection, payload})
      continue
    }
    const e = result.event
    const yearmonth = months.resolve(e.lastSeen)
    const key = `${e.environmentNamespace}\u0000${yearmonth}\u0000${e.sourceId}\u0000${e.userId}`
    const row = rows.get(key)
    if (row) {
      row.count++
      if (e.lastSeen < row.firstSeen) row.firstSeen = e.lastSeen
      if (e.lastSeen > row.lastSeen) row.lastSeen = e.lastSeen
    } else {
      rows.set(key, {environmentNamespace: e.environmentNamespace, yearmonth, sourceId: e.sourceId, userId: e.userId, count: 1, firstSeen: e.lastSeen, lastSeen: e.lastSeen})
    }
  }
  const sorted = [...rows.entries()].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)).map(([, r]) => r)
  return {rows: sorted, deadLetters}
}
