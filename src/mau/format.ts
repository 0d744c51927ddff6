/** Pure renderings of counts and summary checks, for people (tables) and spreadsheets (CSV). */
import asciichart from 'asciichart'
import {DROPPED, keptNote} from './counters.js'
import {bad, type Cell, csvLine, formatChange, formatNumber, table, tone} from '../core/render.js'
import type {MauCount} from './count.js'
import type {Change, HistoryMonth, MauHistory} from './history.js'
import type {CheckResult} from './summary.js'

/** CSV with one line per environment and, with bySource, one per environment and source. */
export function toCsv(c: MauCount, bySource: boolean): string {
  const lines = ['month,environment_namespace,source_id,users,events']
  for (const e of c.environments) {
    lines.push(csvLine([c.month, e.environment_namespace, '', e.users, e.events]))
    if (bySource)
      for (const s of e.sources) lines.push(csvLine([c.month, e.environment_namespace, s.source_id, s.users, s.events]))
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
  return `MAU for ${c.month}\n${table(['environment', 'source', 'users', 'events'], rows)}${c.rows === DROPPED ? `\n${keptNote([c.month])}` : ''}`
}

export function checkReport(r: CheckResult): string {
  if (r.ok) return `Summary of ${r.month} matches the rows.`
  const show = (v: {users: number; events: number} | null) =>
    v ? `${formatNumber(v.users)} users / ${formatNumber(v.events)} events` : 'missing'
  return `${table(
    ['environment', 'source', 'summary', 'rows'],
    r.differences.map((d) => [d.environment_namespace, d.source_id || 'all', bad(show(d.summary)), show(d.scan)]),
  )}\n${tone(`Summary of ${r.month} differs from the rows in ${r.differences.length} lines.`, 'bad')}`
}

const ym = (m: string) => `${m.slice(0, 4)}-${m.slice(4)}`

/** One line per month and environment, then the month's total, each with its change from the month before. */
export function historyTable(h: MauHistory): string {
  const rows: Cell[][] = []
  const line = (month: string, env: string, c: Change): Cell[] => [
    month,
    env,
    c.users,
    formatChange(c.users_change_percent),
    c.events,
    formatChange(c.events_change_percent),
  ]
  for (const m of h.months) {
    for (const e of m.environments) rows.push(line(ym(m.month), e.environment_namespace, e))
    if (m.environments.length !== 1) rows.push(line(ym(m.month), 'total', m.total))
  }
  const kept = h.months.filter((m) => m.rows === DROPPED).map((m) => m.month)
  return `MAU from ${ym(h.from)} to ${ym(h.to)}\n${table(['month', 'environment', 'users', 'users change', 'events', 'events change'], rows)}${kept.length ? `\n${keptNote(kept)}` : ''}`
}

/** CSV of the same lines; the total's environment is empty, a change without a month before is empty. */
export function historyCsv(h: MauHistory): string {
  const lines = ['month,environment_namespace,users,events,users_change_percent,events_change_percent']
  const line = (month: string, env: string, c: Change) =>
    csvLine([month, env, c.users, c.events, c.users_change_percent ?? '', c.events_change_percent ?? ''])
  for (const m of h.months) {
    for (const e of m.environments) lines.push(line(m.month, e.environment_namespace, e))
    lines.push(line(m.month, '', m.total))
  }
  return `${lines.join('\n')}\n`
}

/**
 * A terminal chart of users per month (all environments together), stretched to the width, with the
 * first, last and evenly spaced months labelled under it.
 */
export function usersChart(months: HistoryMonth[], o: {width: number; height?: number}): string {
  if (months.length === 0) return ''
  const values = months.map((m) => m.total.users)
  const labelWidth = Math.max(...values.map((v) => formatNumber(v).length))
  const step = Math.max(1, Math.floor((o.width - labelWidth - 3) / months.length))
  const series = values.flatMap((v) => Array<number>(step).fill(v))
  const plot = asciichart.plot(series, {
    height: o.height ?? 8,
    format: (x: number) => formatNumber(Math.round(x)).padStart(labelWidth),
  })
  const axis = Array<string>(labelWidth + 2 + series.length).fill(' ')
  let free = 0
  months.forEach((m, i) => {
    const at = labelWidth + 2 + i * step
    const label = ym(m.month)
    if (at < free || (at + label.length > axis.length && i !== months.length - 1)) return
    const start = Math.min(at, axis.length - label.length)
    if (start < free) return
    axis.splice(start, label.length, ...label)
    free = start + label.length + 2
  })
  return `Users per month\n${plot}\n${axis.join('').trimEnd()}`
}
