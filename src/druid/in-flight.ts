/**
 * While both sides ingest the same topic, each at its own pace, a difference is expected of the messages
 * one side has applied and the other not yet. This decides, per line, whether the messages between the two
 * sides' positions account for it. Pure.
 *
 * Positions are read before and after the counts (and the user lists), so each side's count reflects, for
 * each partition, every message below its position before and none at or above its position after. A
 * side's count of a line is then the common part plus between `min` (messages below its position before)
 * and `max` (below its position after) of the in-flight messages of the line; the difference must lie in
 * what those bounds allow, and every user found on one side only (the lists are complete, taken between the
 * readings) must be among the in-flight messages that side may have applied and the other may not have.
 */
import type {UserEvent} from '../ingest/decode.js'
import {ALL_SOURCES} from '../mau/rows.js'

/**
 * One partition: the least each side had applied before the counts and the most it had applied after.
 * MySQL's are exact; Druid's least is its status's (stale by up to a supervisor period, so lower than
 * true), its most the end of the topic (positions.ts).
 */
export interface PartitionBounds {
  mysql: {before: number; after: number}
  druid: {before: number; after: number}
}

/** Pure: the messages to read, per partition: from the lower of the two positions before to the higher after. */
export function inFlightRange(b: PartitionBounds): {from: number; to: number} {
  return {from: Math.min(b.mysql.before, b.druid.before), to: Math.max(b.mysql.after, b.druid.after)}
}

/** What one line's in-flight messages allow. */
interface LineTally {
  events: {mysqlMin: number; mysqlMax: number; druidMin: number; druidMax: number; all: number}
  /**
   * The line's one-sided users only (the lists are complete), each with what a message of theirs allows:
   * MySQL may hold it and Druid not (1), the other way (2), or both (3). Other users need no memory.
   */
  users: Map<string, number>
}

const MYSQL_AHEAD = 1
const DRUID_AHEAD = 2
const lineKey = (ns: string, source: string) => `${ns}\u0000${source}`

/** What the judge reads of a compared line (verify.ts's VerifyRow): which line, its one-sided users, the event difference. */
export interface DifferingLine {
  environment_namespace: string
  source_id: string
  onlyInMysql?: string[]
  onlyInDruid?: string[]
  difference: {events: number}
}

export class InFlight {
  private readonly lines = new Map<string, LineTally>()
  /** Messages read, and events of them that fall in the compared window. */
  messages = 0
  events = 0

  /** lines: the lines that differ, with all their one-sided users; only their messages are kept. */
  constructor(
    private readonly bounds: Map<number, PartitionBounds>,
    lines: Omit<DifferingLine, 'difference'>[],
  ) {
    for (const l of lines) {
      const users = new Map([...(l.onlyInMysql ?? []), ...(l.onlyInDruid ?? [])].map((u) => [u, 0]))
      this.lines.set(lineKey(l.environment_namespace, l.source_id), {
        events: {mysqlMin: 0, mysqlMax: 0, druidMin: 0, druidMax: 0, all: 0},
        users,
      })
    }
  }

  /** A message read between the positions; event is set when it decodes to an event in the compared window. */
  add(partition: number, offset: number, event: UserEvent | undefined): void {
    this.messages++
    if (!event) return
    this.events++
    const b = this.bounds.get(partition)
    if (!b) return
    for (const source of [event.sourceId, ALL_SOURCES]) {
      const line = this.lines.get(lineKey(event.environmentNamespace, source))
      if (!line) continue
      const e = line.events
      e.all++
      if (offset < b.mysql.before) e.mysqlMin++
      if (offset < b.mysql.after) e.mysqlMax++
      if (offset < b.druid.before) e.druidMin++
      if (offset < b.druid.after) e.druidMax++
      const ahead = line.users.get(event.userId)
      if (ahead === undefined) continue
      let now = ahead
      if (offset < b.mysql.after && offset >= b.druid.before) now |= MYSQL_AHEAD
      if (offset < b.druid.after && offset >= b.mysql.before) now |= DRUID_AHEAD
      line.users.set(event.userId, now)
    }
  }

  /**
   * Judges a line that differs: its events within the bounds, and each of its one-sided users carried by a
   * message the side holding it may have applied and the other may not have. users: those so explained.
   */
  explain(row: DifferingLine): {explained: boolean; events: number; users: number; notInFlight: string[]} {
    const line = this.lines.get(lineKey(row.environment_namespace, row.source_id))
    const e = line?.events ?? {mysqlMin: 0, mysqlMax: 0, druidMin: 0, druidMax: 0, all: 0}
    const users = line?.users ?? new Map<string, number>()
    const d = row.difference.events
    const eventsExplained = d >= e.mysqlMin - e.druidMax && d <= e.mysqlMax - e.druidMin
    const oneSided = [
      ...(row.onlyInMysql ?? []).map((u) => [u, MYSQL_AHEAD] as const),
      ...(row.onlyInDruid ?? []).map((u) => [u, DRUID_AHEAD] as const),
    ]
    const notInFlight = oneSided
      .filter(([u, side]) => !((users.get(u) ?? 0) & side))
      .map(([u]) => u)
      .sort()
    return {
      explained: eventsExplained && notInFlight.length === 0,
      events: e.all,
      users: oneSided.length - notInFlight.length,
      notInFlight,
    }
  }
}
