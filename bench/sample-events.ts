/**
 * Realistic, reproducible user events for the demo, the tests and the benchmarks: one large environment
 * and many small ones, Zipf-skewed users (a few very active, a long tail), three sources, times spread
 * over a month. `truth` is what `mau` must end up holding for them.
 */
import {encodeProtobuf, SOURCE_IDS} from '../src/events.js'
import {MonthResolver} from '../src/month.js'

export interface SampleOptions {
  events: number
  users: number
  namespaces: number
  /** [start, end) unix seconds of last_seen. */
  from: number
  to: number
  seed?: number
  /** Share of events in the first (largest) namespace. */
  bigNamespaceShare?: number
}

export interface SampleEvent {
  environment_namespace: string
  user_id: string
  source_id: string
  last_seen: number
}

const SOURCES = ['ANDROID', 'IOS', 'WEB']

export function rng(seed: number): () => number {
  let a = seed >>> 0
  return () => {
    a = (a + 0x6d2b79f5) >>> 0
    let t = a
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
}

/** Zipf(s=1) over 1..n by inverse transform on the continuous approximation: O(1) a draw, no table. */
function zipf(n: number, random: () => number): number {
  return Math.min(n, Math.floor(Math.exp(random() * Math.log(n + 1))))
}

export function* sampleEvents(o: SampleOptions): Generator<SampleEvent> {
  const random = rng(o.seed ?? 42)
  const bigShare = o.bigNamespaceShare ?? 0.6
  for (let i = 0; i < o.events; i++) {
    const ns = o.namespaces === 1 || random() < bigShare ? 0 : 1 + Math.floor(random() * (o.namespaces - 1))
    yield {
      environment_namespace: `env-${ns}`,
      user_id: `user-${zipf(o.users, random)}`,
      source_id: SOURCES[Math.floor(random() * SOURCES.length)]!,
      last_seen: o.from + Math.floor(random() * (o.to - o.from)),
    }
  }
}

export function encode(e: SampleEvent, format: 'json' | 'protobuf'): Buffer {
  if (format === 'json') return Buffer.from(JSON.stringify(e))
  const sourceId = (SOURCE_IDS as readonly string[]).indexOf(e.source_id)
  return encodeProtobuf({environmentNamespace: e.environment_namespace, userId: e.user_id, sourceId, lastSeen: e.last_seen}, true)
}

/** Expected `mau` rows: key "ns|yyyymm|source|user" -> {count, first, last}. */
export class Truth {
  readonly rows = new Map<string, {count: number; first: number; last: number}>()
  private readonly months: MonthResolver

  constructor(zone: string) {
    this.months = new MonthResolver(zone)
  }

  add(e: SampleEvent): void {
    const k = [e.environment_namespace, this.months.resolve(e.last_seen), e.source_id, e.user_id].join('|')
    const r = this.rows.get(k)
    if (r) {
      r.count++
      r.first = Math.min(r.first, e.last_seen)
      r.last = Math.max(r.last, e.last_seen)
    } else this.rows.set(k, {count: 1, first: e.last_seen, last: e.last_seen})
  }

  get events(): number {
    let n = 0
    for (const r of this.rows.values()) n += r.count
    return n
  }
}
