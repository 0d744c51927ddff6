/** Pure renderings of counts and summary checks, for people (tables) and spreadsheets (CSV). */
import {bad, type Cell, csvLine, formatNumber, table, tone} from '../core/render.js'
import type {MauCount} from './count.js'
import type {CheckResult} from './summary.js'

/** CSV with one line per environment and, with bySource, one per environment and source. */
export function toCsv(c: MauCount, bySource: boolean): string {
  const lines = ['month,environment_namespace,source_id,users,events']
  for (const e of c.environments) {
    lines.push(csvLine([c.month, e.environment_namespace, '', e.users, e.events]))
    if (bySource) for (const s of e.sources) lines.push(csvLine([c.month, e.environment_namespace, s.source_id, s.users, s.events]))
  }
  lines.push(csvLine([c.month, '', '', c.total.users, c.total.events]))
  return `${lines.join('\n')}\n`
}

export function countTable(c: MauCount, bySource: boolean): string {
  const rows: Cell[][] = []
  for (const e of c.environments) {
    rows.push([e.environment_namespace, bySource ? 'all' : null, e.users, e.events])
    if (bySource) for (const s of e.sources) rows.push(['', s.source_id, s.users, s.events])
  }
  rows.push(['total', null, c.total.users, c.total.events])
  return `MAU for ${c.month}\n${table(['environment', 'source', 'users', 'events'], rows)}`
}

export function checkReport(r: CheckResult): string {
  if (r.ok) return `Summary of ${r.month} matches the rows.`
  const show = (v: {users: number; events: number} | null) => (v ? `${formatNumber(v.users)} users / ${formatNumber(v.events)} events` : 'missing')
  return `${table(['environment', 'source', 'summary', 'rows'], r.differences.map((d) => [d.environment_namespace, d.source_id || 'all', bad(show(d.summary)), show(d.scan)]))}\n${tone(`Summary of ${r.month} differs from the rows in ${r.differences.length} lines.`, 'bad')}`
}
