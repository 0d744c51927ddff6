/**
 * The monthly MAU report: this month's counts beside the month before, from the count module (the one
 * place that knows how MAU is computed), as the documented JSON document (format.ts renders it as CSV or a Slack message).
 */
import type {Db} from '../core/db.js'
import {addMonths, type YearMonth} from '../core/month.js'
import type {Revision} from './revisions.js'
import {count, type MauCount} from '../mau/count.js'
import {type Change, history} from '../mau/history.js'

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
  /** With --months N: the totals of the N months ending with this one, oldest first. */
  history?: ({month: YearMonth} & Change)[]
  /** Earlier months whose figures moved since they were sent to this destination (late events). */
  revised?: Revision[]
}

export async function buildReport(
  db: Db,
  month: YearMonth,
  namespaces: string[],
  now: Date = new Date(),
  months = 1,
): Promise<ReportDocument> {
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
  const previousTotal = environments.reduce(
    (a, e) => ({users: a.users + (e.previous?.users ?? 0), events: a.events + (e.previous?.events ?? 0)}),
    {users: 0, events: 0},
  )
  const doc: ReportDocument = {
    month,
    previous_month: previousMonth,
    generated_at: now.toISOString(),
    environments,
    totals: {...current.total, previous: previousTotal},
  }
  if (months > 1) {
    const past = await history(db, {from: addMonths(month, 1 - months), to: month, namespaces})
    doc.history = past.months.map((m) => ({month: m.month, ...m.total}))
  }
  return doc
}
