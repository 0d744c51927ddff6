/**
 * What `mau serve` answers from: a month's counts read from the summary counters (mau/count.ts, the same
 * function as `mau count`, never a scan), and the monthly series (mau/series.ts). Each is read once per
 * maxAgeSeconds at most, and requests share that read. Nothing older than maxAgeSeconds is ever served:
 * once a value is half that old, the next request starts a new read in the background and keeps answering
 * from the one it has, still within the bound, so that no request waits for MySQL at the moment it expires.
 */
import type {Db} from '../core/db.js'
import type {YearMonth} from '../core/month.js'
import {count, type EnvironmentCount, type MauCount} from '../mau/count.js'
import {monthlySeries, type Series} from '../mau/series.js'

export interface Counted {
  value: MauCount
  /** Seconds since the value was read from MySQL. */
  ageSeconds: number
}

interface Entry<V> {
  value: V
  readAt: number
}

/**
 * Values read at most once per maxAgeSeconds, and never served older: past half the bound a request starts
 * a new read in the background and answers from what it has. Concurrent requests share one read.
 */
export class Fresh<V> {
  private readonly entries = new Map<string, Entry<V>>()
  private readonly reading = new Map<string, Promise<Entry<V>>>()

  constructor(
    readonly maxAgeSeconds: number,
    private readonly load: (key: string) => Promise<V>,
    private readonly now: () => number = Date.now,
  ) {}

  async get(key: string): Promise<{value: V; ageSeconds: number}> {
    const bound = this.maxAgeSeconds * 1000
    const cached = this.entries.get(key)
    const age = cached ? this.now() - cached.readAt : Infinity
    if (cached && age < bound) {
      if (age >= bound / 2) void this.read(key).catch(() => undefined)
      return {value: cached.value, ageSeconds: age / 1000}
    }
    const entry = await this.read(key)
    return {value: entry.value, ageSeconds: Math.max(0, this.now() - entry.readAt) / 1000}
  }

  /** One read of a key at a time; what it read is kept only while the bound allows any reuse. */
  private read(key: string): Promise<Entry<V>> {
    const running = this.reading.get(key)
    if (running) return running
    const readAt = this.now()
    const reading = this.load(key)
      .then((value) => {
        const entry = {value, readAt}
        if (this.maxAgeSeconds > 0) this.entries.set(key, entry)
        if (this.entries.size > 240) this.entries.delete(this.entries.keys().next().value!)
        return entry
      })
      .finally(() => this.reading.delete(key))
    this.reading.set(key, reading)
    return reading
  }
}

/** A month's counts (the same function as `mau count`), and every month's series per environment and source. */
export class MonthCounts {
  private readonly months: Fresh<MauCount>
  private readonly allSeries: Fresh<Series[]>

  constructor(
    db: Db,
    readonly maxAgeSeconds: number,
    now: () => number = Date.now,
  ) {
    this.months = new Fresh(maxAgeSeconds, (month) => count(db, {month}), now)
    this.allSeries = new Fresh(maxAgeSeconds, () => monthlySeries(db), now)
  }

  month(month: YearMonth): Promise<Counted> {
    return this.months.get(month)
  }

  series(): Promise<{value: Series[]; ageSeconds: number}> {
    return this.allSeries.get('all')
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
  return {
    month: c.month,
    environments,
    total: {
      users: environments.reduce((a, e) => a + e.users, 0),
      events: environments.reduce((a, e) => a + e.events, 0),
    },
  }
}
