/**
 * Kafka messages made ready to write: decoded and validated as they are fetched, then aggregated per
 * (environment, month, source, user) for a whole window. Pure CPU work, done outside the transaction,
 * while MySQL writes the window before.
 *
 * A prepared batch is columnar (one array per field, typed arrays for numbers) rather than an object per
 * event: chunks wait in the pipeline long enough to outlive V8's young generation, and an object per event
 * made the consumer's heap, and its garbage, several times larger (measured: peak RSS 420 MB against
 * under 300 MB with columns, same throughput).
 */
import type {MonthResolver, YearMonth} from '../core/month.js'
import type {Row} from '../mau/rows.js'
import type {Decoded} from './decode.js'
import {DEAD_LETTER_MAX_BYTES, type DeadLetter, setAside} from './deadletter.js'

export interface Message {
  offset: string
  value: Buffer | null
}

export interface PreparedBatch {
  /** Offsets of the first and last message; the stored offset becomes last + 1. */
  firstOffset: number
  lastOffset: number
  /** Every message's offset, ascending: messages already applied (redelivered) are dropped inside the transaction. */
  offsets: Float64Array
  /** Per message; namespace '' marks a rejected one (see deadLetters). Namespaces are interned. */
  namespaces: string[]
  users: string[]
  sources: string[]
  lastSeen: Float64Array
  /** The rejected messages, in offset order, with their bytes for mau_dead_letter. */
  deadLetters: DeadLetter[]
  /** Messages of kinds not counted (metrics events, or kinds left out of --activity), by type URL, in offset order. */
  ignored: Ignored[]
}

export interface Ignored {
  offset: number
  typeUrl: string
}

const TOMBSTONE: Decoded = {ok: false, rejection: {code: 'decode', message: 'message has no value (tombstone)'}}

/** A few hundred environments repeat in every batch: one string each, not one per event. */
const interned = new Map<string, string>()
function intern(s: string): string {
  const known = interned.get(s)
  if (known !== undefined) return known
  if (interned.size > 10_000) interned.clear()
  interned.set(s, s)
  return s
}

/** deadLetterMaxBytes: a rejected message's bytes kept (the rest is cut here, so a huge bad message costs no memory while it waits). */
export function prepareBatch(
  messages: Message[],
  decode: (bytes: Buffer, now: number) => Decoded,
  nowSeconds: number,
  deadLetterMaxBytes = DEAD_LETTER_MAX_BYTES,
): PreparedBatch {
  const n = messages.length
  const b: PreparedBatch = {
    firstOffset: n > 0 ? Number(messages[0]!.offset) : 0,
    lastOffset: n > 0 ? Number(messages[n - 1]!.offset) : -1,
    offsets: new Float64Array(n),
    namespaces: new Array<string>(n),
    users: new Array<string>(n),
    sources: new Array<string>(n),
    lastSeen: new Float64Array(n),
    deadLetters: [],
    ignored: [],
  }
  for (let i = 0; i < n; i++) {
    const m = messages[i]!
    const offset = Number(m.offset)
    const result = m.value === null ? TOMBSTONE : decode(m.value, nowSeconds)
    b.offsets[i] = offset
    if (!result.ok) {
      b.namespaces[i] = ''
      b.users[i] = ''
      b.sources[i] = ''
      if ('ignored' in result) b.ignored.push({offset, typeUrl: intern(result.ignored)})
      else b.deadLetters.push({offset, rejection: result.rejection, ...setAside(m.value, deadLetterMaxBytes)})
      continue
    }
    const e = result.event
    b.namespaces[i] = intern(e.environmentNamespace)
    b.users[i] = e.userId
    b.sources[i] = e.sourceId
    b.lastSeen[i] = e.lastSeen
  }
  return b
}

/** Index of the first message at or after `stored` (offsets ascend): the ones before it are applied already. */
export function firstFresh(b: PreparedBatch, stored: number): number {
  let lo = 0
  let hi = b.offsets.length
  while (lo < hi) {
    const mid = (lo + hi) >>> 1
    if (b.offsets[mid]! < stored) lo = mid + 1
    else hi = mid
  }
  return lo
}

/** A batch from message `from` on. */
export interface Part {
  batch: PreparedBatch
  from: number
}

export function deadLettersOf({batch, from}: Part): DeadLetter[] {
  return fromPart(batch.deadLetters, batch, from)
}

export function ignoredOf({batch, from}: Part): Ignored[] {
  return fromPart(batch.ignored, batch, from)
}

function fromPart<T extends {offset: number}>(items: T[], batch: PreparedBatch, from: number): T[] {
  if (from === 0) return items
  const first = batch.offsets[from] ?? Infinity
  return items.filter((d) => d.offset >= first)
}

/**
 * Events of months past retention are not written (their month's partition is gone, or goes at the next
 * rotate: a row would bring a dropped month back): they are counted here by month, and the offset moves on.
 */
export interface Retention {
  keepFrom: YearMonth
  expired: Record<YearMonth, number>
}

type Level<T> = Map<string, T>
const sortedKeys = <T>(m: Level<T>) => [...m.keys()].sort()

/**
 * Sums events per (environment, month, source, user) over parts of batches; rejected messages are skipped
 * (see deadLettersOf). Rows come out sorted by that key, so that concurrent transactions lock rows in one
 * order. Nested maps, not one joined key: no string is built per event, and the sort compares user ids
 * within a group, not whole keys.
 */
export function aggregate(parts: Part[], months: MonthResolver, retention?: Retention): Row[] {
  const tree: Level<Level<Level<Level<Row>>>> = new Map()
  for (const {batch: b, from} of parts) {
    for (let i = from; i < b.offsets.length; i++) {
      const ns = b.namespaces[i]!
      if (ns === '') continue
      const user = b.users[i]!
      const source = b.sources[i]!
      const seen = b.lastSeen[i]!
      const yearmonth = months.resolve(seen)
      if (retention && yearmonth < retention.keepFrom) {
        retention.expired[yearmonth] = (retention.expired[yearmonth] ?? 0) + 1
        continue
      }
      let byMonth = tree.get(ns)
      if (!byMonth) tree.set(ns, (byMonth = new Map<string, Level<Level<Row>>>()))
      let bySource = byMonth.get(yearmonth)
      if (!bySource) byMonth.set(yearmonth, (bySource = new Map<string, Level<Row>>()))
      let byUser = bySource.get(source)
      if (!byUser) bySource.set(source, (byUser = new Map<string, Row>()))
      const row = byUser.get(user)
      if (row) {
        row.count++
        if (seen < row.firstSeen) row.firstSeen = seen
        if (seen > row.lastSeen) row.lastSeen = seen
      } else {
        byUser.set(user, {
          environmentNamespace: ns,
          yearmonth,
          sourceId: source,
          userId: user,
          count: 1,
          firstSeen: seen,
          lastSeen: seen,
        })
      }
    }
  }
  const rows: Row[] = []
  for (const ns of sortedKeys(tree)) {
    const byMonth = tree.get(ns)!
    for (const ym of sortedKeys(byMonth)) {
      const bySource = byMonth.get(ym)!
      for (const source of sortedKeys(bySource)) {
        const byUser = bySource.get(source)!
        for (const user of sortedKeys(byUser)) rows.push(byUser.get(user)!)
      }
    }
  }
  return rows
}
