/** Pure renderings of the report document: a Slack message and CSV. */
import {bad, columns, csvLine, formatChange, formatNumber, good, table} from '../core/render.js'
import type {SentVsNow} from './revisions.js'
import {percentChange} from '../mau/history.js'
import type {ReportDocument} from './build.js'

/** What one destination's delivery came to (report/deliver.ts), as the send command shows it. */
export interface DeliveryResult {
  destination: string
  status: 'sent' | 'skipped' | 'failed'
  attempts: number
  message: string
}

const ym = (m: string) => `${m.slice(0, 4)}-${m.slice(4)}`
const change = (now: number, before: number | undefined) => formatChange(percentChange(now, before))

/** One readable Slack message: a monospace table of environments with the change against the month before. */
export function toSlackText(doc: ReportDocument): string {
  const head = [
    'environment',
    'users',
    'events',
    `users ${doc.previous_month}`,
    `events ${doc.previous_month}`,
    'users change',
  ]
  const rows = doc.environments.map((e) => [
    e.environment_namespace,
    e.users,
    e.events,
    e.previous ? e.previous.users : '-',
    e.previous ? e.previous.events : '-',
    change(e.users, e.previous?.users),
  ])
  const t = doc.totals
  rows.push(['total', t.users, t.events, t.previous.users, t.previous.events, change(t.users, t.previous.users)])
  const text = [
    `*Monthly active users, ${doc.month.slice(0, 4)}-${doc.month.slice(4)}*`,
    '```',
    columns(head, rows),
    '```',
  ]
  if (doc.revised?.length) {
    const lines = doc.revised.map((r) => [
      ym(r.month),
      r.sent.users,
      r.now.users,
      formatChange(r.users_change_percent),
      r.sent.events,
      r.now.events,
    ])
    text.push(
      '*Revised since sent* (late events)',
      '```',
      columns(['month', 'users sent', 'users now', 'change', 'events sent', 'events now'], lines),
      '```',
    )
  }
  if (doc.history) {
    const past = doc.history.map((h) => [
      `${h.month.slice(0, 4)}-${h.month.slice(4)}`,
      h.users,
      formatChange(h.users_change_percent),
      h.events,
      formatChange(h.events_change_percent),
    ])
    text.push(
      `*Last ${doc.history.length} months*`,
      '```',
      columns(['month', 'users', 'users change', 'events', 'events change'], past),
      '```',
    )
  }
  return text.join('\n')
}

export function toReportCsv(doc: ReportDocument): string {
  const lines = ['month,environment_namespace,source_id,users,events,previous_users,previous_events']
  for (const e of doc.environments) {
    lines.push(
      csvLine([
        doc.month,
        e.environment_namespace,
        '',
        e.users,
        e.events,
        e.previous?.users ?? '',
        e.previous?.events ?? '',
      ]),
    )
    for (const s of e.sources)
      lines.push(csvLine([doc.month, e.environment_namespace, s.source_id, s.users, s.events, '', '']))
  }
  const t = doc.totals
  lines.push(csvLine([doc.month, '', '', t.users, t.events, t.previous.users, t.previous.events]))
  // A revised month: its figures now, with what was sent where the month before's stand.
  for (const r of doc.revised ?? []) {
    lines.push(csvLine([r.month, '', '(revised)', r.now.users, r.now.events, r.sent.users, r.sent.events]))
    for (const e of r.environments)
      lines.push(
        csvLine([
          r.month,
          e.environment_namespace,
          '(revised)',
          e.now.users,
          e.now.events,
          e.sent.users,
          e.sent.events,
        ]),
      )
  }
  return `${lines.join('\n')}\n`
}

/** One line per delivery; with the month first when they carry one (report send's catch-up). */
export function deliveriesTable(deliveries: (DeliveryResult & {month?: string})[]): string {
  const withMonth = deliveries.some((d) => d.month !== undefined)
  const line = (d: DeliveryResult & {month?: string}) => [
    d.destination,
    d.status === 'failed' ? bad(d.status) : d.status === 'sent' ? good(d.status) : d.status,
    d.attempts,
    d.message,
  ]
  if (!withMonth) return table(['destination', 'status', 'attempts', 'detail'], deliveries.map(line))
  return table(
    ['month', 'destination', 'status', 'attempts', 'detail'],
    deliveries.map((d) => [d.month ?? '', ...line(d)]),
  )
}

/** What a destination was sent of a month against the figures now: the late events since. */
export function sentTable(s: SentVsNow): string {
  const rows = s.environments.map((e) => [
    e.environment_namespace || 'total',
    e.sent.users,
    e.now.users,
    signed(e.users_added),
    e.sent.events,
    e.now.events,
    signed(e.events_added),
  ])
  return `Sent to ${s.destination} at ${s.sent_at}; now:\n${table(['environment', 'users sent', 'users now', '+users', 'events sent', 'events now', '+events'], rows)}`
}

const signed = (n: number) => (n > 0 ? `+${formatNumber(n)}` : formatNumber(n))
