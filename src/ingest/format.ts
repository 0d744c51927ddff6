/** Pure renderings of what the consumer did and what it set aside. */
import {formatCount, progressText} from '../core/progress.js'
import {table} from '../core/render.js'
import type {ConsumeSummary} from './consume.js'
import type {DeadLetterEntry} from './deadletter.js'
import type {RecordedLoss} from './losses.js'
import type {OffsetsList, ResetResult} from './reset.js'
import type {ReplayResult} from './replay.js'

/**
 * What the run did; then, when it ignored messages of kinds not counted, how many of each type; then any
 * messages lost upstream and how often MySQL was found behind.
 */
export function consumeTable(s: ConsumeSummary): string {
  const main = table(
    ['consumed', 'redelivered', 'rows upserted', 'dead-lettered', 'events/s'],
    [[s.consumed, s.redelivered, s.rowsUpserted, s.deadLettered, s.eventsPerSecond]],
  )
  const extra = [
    ...Object.entries(s.ignored).map(([t, n]) => [`ignored: ${t}`, n]),
    ...Object.entries(s.expired).map(([m, n]) => [`expired: ${m} (past retention)`, n]),
  ]
  const lost = s.lost.map((l) => [
    `LOST: ${l.topic} partition ${l.partition} offsets ${l.from}..${l.to} (deleted from Kafka before they were applied)`,
    l.messages,
  ])
  const parts = [main]
  if (extra.length > 0 || lost.length > 0) parts.push(table(['not written', 'messages'], [...extra, ...lost]))
  if (s.rewinds > 0)
    parts.push(
      `MySQL was behind the consumer ${s.rewinds} time${s.rewinds === 1 ? '' : 's'} (a failover or a restore): those partitions were read again from its offsets.`,
    )
  return parts.join('\n')
}

/**
 * The status line while the consumer runs: with --stop-at-end, messages done of those up to the end
 * marks, percentage, rate and ETA; otherwise what was consumed so far.
 */
export function consumeProgress(s: ConsumeSummary, end?: {done: number; total: number}): string {
  const what = `rows ${formatCount(s.rowsUpserted)}  dead-lettered ${formatCount(s.deadLettered)}`
  if (end)
    return `${progressText({label: 'Consuming', done: end.done, total: end.total, unit: 'messages', elapsedSeconds: s.seconds})}  ${what}`
  return `Consuming  ${formatCount(s.consumed)} events  ${formatCount(s.eventsPerSecond)}/s  ${what}`
}

export function replayFormat(r: ReplayResult): string {
  const kept = Object.entries(r.kept).filter(([, n]) => n > 0)
  const lines = [
    `${r.dryRun ? 'Would replay' : 'Replayed'} ${formatCount(r.replayed)} of ${formatCount(r.examined)} dead letters${r.dryRun ? '' : ` (${formatCount(r.rowsUpserted)} rows upserted)`}.`,
  ]
  if (r.expired > 0)
    lines.push(`${r.dryRun ? 'Would remove' : 'Removed'} ${formatCount(r.expired)} of months past retention.`)
  if (r.ignored > 0)
    lines.push(`${r.dryRun ? 'Would remove' : 'Removed'} ${formatCount(r.ignored)} of kinds not counted (--activity).`)
  if (kept.length > 0) lines.push(table(['still rejected', 'letters'], kept))
  return lines.join('\n')
}

export function deadLetterReport(r: {total: number; entries: DeadLetterEntry[]}): string {
  const cut = (e: DeadLetterEntry) =>
    e.cut ? ` (cut: ${formatCount(e.payloadBytes ?? 0)} bytes, sha256 ${e.sha256})` : ''
  const preview = (e: DeadLetterEntry) =>
    e.payload === null ? '(none)' : `${e.payloadEncoding === 'base64' ? 'base64:' : ''}${e.payload}${cut(e)}`
  const rows = r.entries.map((e) => [
    e.id,
    e.createdAt,
    `${e.topic}/${e.partition}@${e.offset}${e.entryId ? ` (entry ${e.entryId})` : ''}`,
    e.reason,
    preview(e),
  ])
  return `${table(['id', 'at', 'topic/partition@offset', 'reason', 'payload'], rows)}\n${formatCount(r.entries.length)} of ${formatCount(r.total)} dead-lettered events`
}

const at = (unixSeconds: number) => new Date(unixSeconds * 1000).toISOString()
const none = <T>(n: T | null) => (n === null ? '-' : n)

/** Recorded losses; the unacknowledged ones with the command that acknowledges each. */
export function lossesTable(losses: RecordedLoss[]): string {
  return table(
    ['group', 'topic', 'partition', 'offsets lost', 'messages', 'detected', 'acknowledged'],
    losses.map((l) => [
      l.group,
      l.topic,
      l.partition,
      `${l.from}..${l.to}`,
      l.messages,
      at(l.detectedAt),
      l.acknowledgedAt === null
        ? `no: mau offsets ack-loss --group ${l.group} --topic ${l.topic} --partition ${l.partition}`
        : at(l.acknowledgedAt),
    ]),
  )
}

export function offsetsReport(r: OffsetsList): string {
  const streams = r.partitions.some((p) => p.entryId !== undefined)
  const rows = r.partitions.map((p) => [
    p.topic,
    p.partition,
    none(p.stored),
    ...(streams ? [none(p.entryId ?? null)] : []),
    none(p.low),
    none(p.high),
    p.lag === null ? (p.high === null ? 'no such partition' : 'PAST THE END') : p.lag,
  ])
  const head = [
    'topic',
    'partition',
    'stored (MySQL)',
    ...(streams ? ['last entry applied'] : []),
    'log start',
    'end',
    'lag',
  ]
  const note = streams
    ? "offsets count each stream's entries since it began; XREAD resumes after the last entry applied."
    : "MySQL's stored offsets are what was applied; Kafka's committed offsets only follow them."
  const main = `${table(head, rows)}\nGroup ${r.group}: ${note}`
  if (r.losses.length === 0) return main
  return `${main}\n\nMessages deleted from Kafka before they were applied (find out why, then acknowledge):\n${lossesTable(r.losses)}`
}

export function resetReport(r: ResetResult): string {
  const rows = r.changes.map((c) => [
    c.topic,
    c.partition,
    c.stored === null ? '-' : c.pastEnd ? `${c.stored} (past the end)` : c.stored,
    c.next,
    c.applyAgain,
    c.skip,
  ])
  const again = r.changes.reduce((a, c) => a + c.applyAgain, 0)
  const skip = r.changes.reduce((a, c) => a + c.skip, 0)
  const lines = [table(['topic', 'partition', 'stored', `to ${r.target}`, 'applied again', 'skipped'], rows)]
  if (again > 0)
    lines.push(
      `${formatCount(again)} messages below the stored offsets will be applied again: each one applied before is counted twice.`,
    )
  if (skip > 0) lines.push(`${formatCount(skip)} messages will never be applied.`)
  lines.push(
    r.applied
      ? `Group ${r.group} moved: a running consumer reads from the new offsets at its next window.`
      : 'Nothing changed: run again with --yes to move the offsets.',
  )
  return lines.join('\n')
}
