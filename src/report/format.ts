/** Pure renderings of the report document: a Slack message and CSV. */
import {bad, columns, csvLine, good, table} from '../core/render.js'
import type {ReportDocument} from './build.js'
import type {DeliveryResult} from './deliver.js'

const change = (now: number, before: number | undefined) => {
  if (before === undefined || before === 0) return 'new'
  const pct = ((now - before) / before) * 100
  return `${pct >= 0 ? '+' : ''}${pct.toFixed(1)}%`
}

/** One readable Slack message: a monospace table of environments with the change against the month before. */
export function toSlackText(doc: ReportDocument): string {
  const head = ['environment', 'users', 'events', `users ${doc.previous_month}`, `events ${doc.previous_month}`, 'users change']
  const rows = doc.environments.map((e) => [e.environment_namespace, e.users, e.events, e.previous ? e.previous.users : '-', e.previous ? e.previous.events : '-', change(e.users, e.previous?.users)])
  const t = doc.totals
  rows.push(['total', t.users, t.events, t.previous.users, t.previous.events, change(t.users, t.previous.users)])
  return [`*Monthly active users, ${doc.month.slice(0, 4)}-${doc.month.slice(4)}*`, '```', columns(head, rows), '```'].join('\n')
}

export function toReportCsv(doc: ReportDocument): string {
  const lines = ['month,environment_namespace,source_id,users,events,previous_users,previous_events']
  for (const e of doc.environments) {
    lines.push(csvLine([doc.month, e.environment_namespace, '', e.users, e.events, e.previous?.users ?? '', e.previous?.events ?? '']))
    for (const s of e.sources) lines.push(csvLine([doc.month, e.environment_namespace, s.source_id, s.users, s.events, '', '']))
  }
  const t = doc.totals
  lines.push(csvLine([doc.month, '', '', t.users, t.events, t.previous.users, t.previous.events]))
  return `${lines.join('\n')}\n`
}

export function deliveriesTable(deliveries: DeliveryResult[]): string {
  return table(['destination', 'status', 'attempts', 'detail'], deliveries.map((d) => [d.destination, d.status === 'failed' ? bad(d.status) : d.status === 'sent' ? good(d.status) : d.status, d.attempts, d.message]))
}
