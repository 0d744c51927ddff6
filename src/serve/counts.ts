/**
 * What `mau serve` answers from: a month's counts read from the summary counters (mau/count.ts, the same
 * function as `mau count`, never a scan). A month is read once per maxAgeSeconds at most, and requests
 * share that read. Nothing older than maxAgeSeconds is ever served: once a count is half that old, the
 * next request starts a new read in the background and keeps answering from the count it has, which is
 * still within the bound, so that no request waits for MySQL at the moment a count expires.
 */
import type {Db} from '../core/db.js'
import type {YearMonth} from '../core/month.js'
import {count, type EnvironmentCount, type MauCount} from '../mau/count.js'

export interface Counted {
  value: MauCount
  /** Seconds since the value was read from MySQL. */
  ageSeconds: number
}

interface Entry {
  value: MauCount
  readAt: number
}

export class MonthCounts {
  private readonly entries = new Map<YearMonth, Entry>()
  private readonly reading = new Map<YearMonth, Promise<Entry>>()

  constructor(private readonly db: Db, readonly maxAgeSeconds: number, private readonly now: () => number = Date.now) {}

  async month(month: YearMonth): Promise<Counted> {
    const bound = this.maxAgeSeconds * 1000
    const cached = this.entries.get(month)
    const age = cached ? this.now() - cached.readAt : Infinity
    if (cached && age < bound) {
      if (age >= bound / 2) void this.read(month).catch(() => undefined)
      return {value: cached.value, ageSeconds: age / 1000}
    }
    const entry = await this.read(month)
    return {value: entry.value, ageSeconds: Math.max(0, this.now() - entry.readAt) / 1000}
  }

  /** One read of a month at a time; what it read is kept only while the bound allows any reuse. */
  private read(month: YearMonth): Promise<Entry> {
    const running = this.reading.get(month)
    if (running) return running
    const readAt = this.now()
    const reading = count(this.db, {month}).then(
      (value) => {
        const entry = {value, readAt}
        if (this.maxAgeSeconds > 0) this.entries.set(month, entry)
        if (this.entries.size > 240) this.entries.delete(this.entries.keys().next().value!)
        return entry
      },
    ).finally(() => this.reading.delete(month))
    this.reading.set(month, reading)
    return reading
  }
}

const indexes = new WeakMap<MauCount, Map<string, EnvironmentCount>>()

/** Pure: one environment of a month's counts, zeros when it had no events (as the platform answers). */
export function environmentOf(c: MauCount, namespace: string): EnvironmentCount {
  let index = indexes.get(c)
  if (!index) indexes.set(c, (index = new Map(c.environments.map((e) => [e.environment_namespace, e]))))
  return index.get(namespace) ?? {environment_namespace: namespace, users: 0, events: 0, sources: []}
}

/** Pure: the month's counts narrowed to some environments, as `mau count --namespace` gives them. */
export function only(c: MauCount, namespaces: string[]): MauCount {
  if (namespaces.length === 0) return c
  const environments = c.environments.filter((e) => namespaces.includes(e.environment_namespace))
  return {month: c.month, environments, total: {users: environments.reduce((a, e) => a + e.users, 0), events: environments.reduce((a, e) => a + e.events, 0)}}
}
