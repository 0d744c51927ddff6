/**
 * Late events change a month after its report went out. Each delivery records the figures it sent, per
 * environment ('' for the total); `report show` compares them with now, and the next report to the same
 * destination carries a revision for every earlier month whose users moved by more than a threshold. A
 * revision, once delivered, becomes the figures sent: it is sent once.
 */
import type {RowDataPacket} from 'mysql2/promise'
import type {Db, Queryable} from '../core/db.js'
import type {YearMonth} from '../core/month.js'
import {count} from '../mau/count.js'
import {percentChange} from '../mau/history.js'

export interface Figures {
  users: number
  events: number
}

export interface Revision {
  month: YearMonth
  sent: Figures
  now: Figures
  users_change_percent: number | null
  /** The environments whose figures moved since they were sent. */
  environments: {environment_namespace: string; sent: Figures; now: Figures}[]
}

/** A month's figures as a report carries them: per environment, and the total under ''. */
export type MonthFigures = Map<string, Figures>
const TOTAL = ''

export async function recordFigures(
  db: Queryable,
  month: YearMonth,
  destination: string,
  figures: MonthFigures,
): Promise<void> {
  const rows = [...figures].flatMap(([env, f]) => [month, destination, env, f.users, f.events])
  await db.query('DELETE FROM mau_report_figure WHERE yearmonth = ? AND destination = ?', [month, destination])
  if (figures.size > 0) {
    await db.query(
      `INSERT INTO mau_report_figure (yearmonth, destination, environment_namespace, users, events, sent_at) VALUES ${[...figures].map(() => '(?, ?, ?, ?, ?, UNIX_TIMESTAMP())').join(', ')}`,
      rows,
    )
  }
}

/** The figures sent to a destination, by month (all months, or one). */
async function sentFigures(
  db: Queryable,
  destination: string | null,
  month?: YearMonth,
): Promise<Map<string, {month: YearMonth; destination: string; sentAt: number; figures: MonthFigures}>> {
  const where = [destination === null ? '1 = 1' : 'destination = ?', month ? 'yearmonth = ?' : '1 = 1']
  const values = [...(destination === null ? [] : [destination]), ...(month ? [month] : [])]
  const [rows] = await db.query<RowDataPacket[]>(
    `SELECT yearmonth, destination, environment_namespace, users, events, sent_at FROM mau_report_figure WHERE ${where.join(' AND ')} ORDER BY yearmonth, destination`,
    values,
  )
  const out = new Map<string, {month: YearMonth; destination: string; sentAt: number; figures: MonthFigures}>()
  for (const r of rows) {
    const key = `${r.yearmonth}\u0000${String(r.destination)}`
    const entry = out.get(key) ?? {
      month: String(r.yearmonth),
      destination: String(r.destination),
      sentAt: Number(r.sent_at),
      figures: new Map(),
    }
    entry.figures.set(String(r.environment_namespace), {users: Number(r.users), events: Number(r.events)})
    out.set(key, entry)
  }
  return out
}

/** A month's figures now, as the report would carry them. */
export async function figuresNow(db: Db, month: YearMonth): Promise<MonthFigures> {
  const c = await count(db, {month})
  return new Map([
    [TOTAL, c.total],
    ...c.environments.map((e) => [e.environment_namespace, {users: e.users, events: e.events}] as const),
  ])
}

/** Pure: the revision of a month, if its total users moved by more than thresholdPercent since sent. */
export function revisionOf(
  month: YearMonth,
  sent: MonthFigures,
  now: MonthFigures,
  thresholdPercent: number,
): Revision | null {
  const s = sent.get(TOTAL) ?? {users: 0, events: 0}
  const n = now.get(TOTAL) ?? {users: 0, events: 0}
  const moved = s.users === 0 ? n.users > 0 : (Math.abs(n.users - s.users) / s.users) * 100 > thresholdPercent
  if (!moved) return null
  const envs = [...new Set([...sent.keys(), ...now.keys()])].filter((e) => e !== TOTAL).sort()
  const zero = {users: 0, events: 0}
  const environments = envs
    .map((e) => ({environment_namespace: e, sent: sent.get(e) ?? zero, now: now.get(e) ?? zero}))
    .filter((e) => e.sent.users !== e.now.users || e.sent.events !== e.now.events)
  return {month, sent: s, now: n, users_change_percent: percentChange(n.users, s.users), environments}
}

/** The revisions a report of `month` to `destination` carries: earlier months sent there that moved since. */
export async function revisionsFor(
  db: Db,
  destination: string,
  month: YearMonth,
  thresholdPercent: number,
): Promise<{revision: Revision; now: MonthFigures}[]> {
  const out: {revision: Revision; now: MonthFigures}[] = []
  for (const sent of (await sentFigures(db, destination)).values()) {
    if (sent.month >= month) continue
    const now = await figuresNow(db, sent.month)
    const revision = revisionOf(sent.month, sent.figures, now, thresholdPercent)
    if (revision) out.push({revision, now})
  }
  return out
}

export interface SentVsNow {
  destination: string
  sent_at: string
  environments: {
    environment_namespace: string
    sent: Figures
    now: Figures
    users_added: number
    events_added: number
  }[]
}

/** What each destination was sent of a month, against the figures now (`report show`). */
export async function sentVsNow(db: Db, month: YearMonth): Promise<SentVsNow[]> {
  const now = await figuresNow(db, month)
  return [...(await sentFigures(db, null, month)).values()].map((s) => ({
    destination: s.destination,
    sent_at: new Date(s.sentAt * 1000).toISOString(),
    environments: [...new Set([...s.figures.keys(), ...now.keys()])].sort().map((env) => {
      const sent = s.figures.get(env) ?? {users: 0, events: 0}
      const n = now.get(env) ?? {users: 0, events: 0}
      return {
        environment_namespace: env,
        sent,
        now: n,
        users_added: n.users - sent.users,
        events_added: n.events - sent.events,
      }
    }),
  }))
}
