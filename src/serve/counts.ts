/**
 * What `mau serve` answers from: a month's counts read from the summary counters (mau/count.ts, the same
 * function as `mau count`, never a scan). A month is read once per maxAgeSeconds at most; requests for it
 * meanwhile share that read, and nothing older than maxAgeSeconds is ever served (0: every request reads).
 */
import type {Db} from '../core/db.js'
import type {YearMonth} from '../core/month.js'
import {count, type EnvironmentCount, type MauCount} from '../mau/count.js'

export interface Counted {
  value: MauCount
  /** Seconds since the value was read from MySQL. */
  ageSeconds: number
}

export class MonthCounts {
  private readonly entries = new Map<YearMonth, {value: Promise<MauCount>; readAt: number}>()

  constructor(private readonly db: Db, readonly maxAgeSeconds: number, private readonly now: () => number = Date.now) {}

  async month(month: YearMonth): Promise<Counted> {
    const cached = this.entries.get(month)
    if (cached && this.now() - cached.readAt < this.maxAgeSeconds * 1000) {
      return {value: await cached.value, ageSeconds: (this.now() - cached.readAt) / 1000}
    }
    const entry = {value: count(this.db, {month}), readAt: this.now()}
    if (this.maxAgeSeconds > 0) this.entries.set(month, entry)
    // A failed read is not kept: the next request reads again.
    entry.value.catch(() => this.entries.get(month) === entry && this.entries.delete(month))
    if (this.entries.size > 240) this.entries.delete(this.entries.keys().next().value!)
    return {value: await entry.value, ageSeconds: 0}
  }
}

/** Pure: one environment of a month's counts, zeros when it had no events (as the platform answers). */
export function environmentOf(c: MauCount, namespace: string): EnvironmentCount {
  return c.environments.find((e) => e.environment_namespace === namespace) ?? {environment_namespace: namespace, users: 0, events: 0, sources: []}
}

/** Pure: the month's counts narrowed to some environments, as `mau count --namespace` gives them. */
export function only(c: MauCount, namespaces: string[]): MauCount {
  if (namespaces.length === 0) return c
  const environments = c.environments.filter((e) => namespaces.includes(e.environment_namespace))
  return {month: c.month, environments, total: {users: environments.reduce((a, e) => a + e.users, 0), events: environments.reduce((a, e) => a + e.events, 0)}}
}
