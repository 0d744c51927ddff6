/**
 * The monthly MAU report: this month's counts beside the month before, from the count module (the one
 * place that knows how MAU is computed), rendered as the documented JSON document, CSV or a Slack message.
 */
import {count, type MauCount} from './count.js'
import {addMonths, type YearMonth} from './month.js'
import {csvLine} from './render.js'
import type {Db} from './store.js'

export interface Counts {
  users: number
  events: number
}

export interface ReportEnvironment extends Counts {
  environment_namespace: string
  /** The month before, or null when the environment had no events then. */
  previous: Counts | null
  sources: ({source_id: string} & Counts)[]
}

export interface ReportDocument {
  month: YearMonth
  previous_month: YearMonth
  generated_at: string
  environments: ReportEnvironment[]
  totals: Counts & {previous: Counts}
}

export async function buildReport(db: Db, month: YearMonth, namespaces: string[], now: Date = new Date()): Promise<ReportDocument> {
  const current = await count(db, {month, namespaces})
  const previousMonth = addMonths(month, -1)
  // The month before may lack an environment that is new this month: not an error here.
  const before: MauCount = await count(db, {month: previousMonth})
  const prior = new Map(before.environments.map((e) => [e.environment_namespace, {users: e.users, events: e.events}]))
  const environments = current.environments.map((e) => ({
    environment_namespace: e.environment_namespace,
    users: e.users,
    events: e.events,
    previous: prior.get(e.environment_namespace) ?? null,
    sources: e.sources,
  }))
  const previousTotal = environments.reduce((a, e) => ({users: a.users + (e.previous?.users ?? 0), events: a.events + (e.previous?.events ?? 0)}), {users: 0, events: 0})
  return {month, previous_month: previousMonth, generated_at: now.toISOString(), environments, totals: {...current.total, previous: previousTotal}}
}

const change = (now: number, before: number | undefined) => {
  if (before === undefined || before === 0) return 'new'
  const pct = ((now - before) / before) * 100
  return `${pct >= 0 ? '+' : ''}${pct.toFixed(1)}%`
}
const num = (n: number) => n.toLocaleString('en-US')

/** One readable Slack message: a monospace table of environments with the change against the month before. */
export function toSlackText(doc: ReportDocument): string {
  const head = ['environment', 'users', 'events', `users ${doc.previous_month}`, `events ${doc.previous_month}`, 'users change']
  const rows = doc.environments.map((e) => [
    e.environment_namespace,
    num(e.users),
    num(e.events),
    e.previous ? num(e.previous.users) : '-',
    e.previous ? num(e.previous.events) : '-',
    change(e.users, e.previous?.users),
  ])
  const t = doc.totals
  rows.push(['total', num(t.users), num(t.events), num(t.previous.users), num(t.previous.events), change(t.users, t.previous.users)])
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)))
  const line = (cells: string[]) => cells.map((c, i) => (i === 0 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join('  ')
  return [`*Monthly active users, ${doc.month.slice(0, 4)}-${doc.month.slice(4)}*`, '```', line(head), ...rows.map(line), '```'].join('\n')
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
