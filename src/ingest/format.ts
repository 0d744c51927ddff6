/** Pure renderings of what the consumer did and what it set aside. */
import {table} from '../core/render.js'
import type {ConsumeSummary} from './consume.js'
import type {DeadLetterEntry} from './deadletter.js'

export function consumeTable(s: ConsumeSummary): string {
  return table(['consumed', 'redelivered', 'rows upserted', 'dead-lettered', 'events/s'], [[s.consumed, s.redelivered, s.rowsUpserted, s.deadLettered, s.eventsPerSecond]])
}

/** The line a person at a terminal sees rewritten while the consumer runs. */
export function progressText(s: ConsumeSummary): string {
  return `consumed ${s.consumed}  rows ${s.rowsUpserted}  dead-lettered ${s.deadLettered}  ${s.eventsPerSecond} events/s`
}

export function deadLetterReport(r: {total: number; entries: DeadLetterEntry[]}): string {
  const preview = (e: DeadLetterEntry) => (e.payload === null ? '(none)' : `${e.payloadEncoding === 'base64' ? 'base64:' : ''}${e.payload.slice(0, 36)}`)
  const rows = r.entries.map((e) => [e.id, e.createdAt, `${e.topic}/${e.partition}@${e.offset}`, e.reason.slice(0, 56), preview(e)])
  return `${table(['id', 'at', 'topic/partition@offset', 'reason', 'payload'], rows)}\n${r.entries.length} of ${r.total} dead-lettered events`
}
