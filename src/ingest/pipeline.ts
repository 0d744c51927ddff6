/**
 * Between fetching and writing: a bounded queue of prepared chunks, so that Kafka fetches and Node decodes
 * the next messages while MySQL writes the current window. A window is the oldest chunks, of any
 * partitions, up to a size: one transaction for many partitions' chunks (more events per transaction,
 * fewer rows). Windows are written in the order they are taken (consume.ts), so each partition's chunks
 * are applied in offset order. A full queue makes the fetch side wait: memory stays bounded.
 */
import type {PreparedBatch} from './batch.js'
import type {PartitionRef} from './offsets.js'

export interface Chunk {
  ref: PartitionRef
  /** partitionKey(topic, partition). */
  key: string
  /** Where the fetch that read it started (writer.ts WindowChunk). */
  from: number
  batch: PreparedBatch
  /** A Redis stream's chunk: its last entry id (writer.ts WindowChunk). */
  lastId?: string
  events: number
  bytes: number
  /** The partition's high-water mark when it was fetched, for the lag metric. */
  highWatermark: number
  /** The group generation (consume.ts counts joins) it was fetched in. */
  generation: number
  queuedAt: number
}

export interface QueueLimits {
  /** Most events and bytes waiting; the fetch side waits beyond them. */
  maxEvents: number
  maxBytes: number
}

export interface WindowLimits {
  /** Most events in one window (one transaction), and most bytes of messages. */
  maxEvents: number
  maxBytes: number
  /** How long a window that is not full waits for more, from its oldest chunk. */
  lingerMs: number
}

/** Pure: the oldest chunks up to the limits (at least one): a prefix of the queue, so every partition stays in order. */
export function pickWindow(queue: readonly Chunk[], limits: Pick<WindowLimits, 'maxEvents' | 'maxBytes'>): Chunk[] {
  let events = 0
  let bytes = 0
  let n = 0
  for (const c of queue) {
    if (n > 0 && (events + c.events > limits.maxEvents || bytes + c.bytes > limits.maxBytes)) break
    events += c.events
    bytes += c.bytes
    n++
  }
  return queue.slice(0, n)
}

export class ChunkQueue {
  private chunks: Chunk[] = []
  private events = 0
  private bytes = 0
  private wakeWriters: (() => void)[] = []
  private wakeFetchers: (() => void)[] = []
  private closed = false
  private taken = 0
  private fetchersWaiting = 0

  constructor(private readonly limits: QueueLimits) {}

  get size(): {chunks: number; events: number; bytes: number} {
    return {chunks: this.chunks.length, events: this.events, bytes: this.bytes}
  }

  /**
   * Waits while the queue is full (unless it is empty: one chunk always fits; a chunk of no events and no bytes,
   * which moves offsets past a transaction marker, never waits: it takes no room, and its place in its
   * partition's offset order is kept only if it is queued at once), then queues the chunk; false
   * when it is no longer wanted. While waiting, `waiting` runs every waitCheckMs: kafkajs' heartbeat, which
   * throws when the group rebalances, so that a full queue never holds up a rebalance.
   */
  async push(
    chunk: Chunk,
    stillWanted: () => boolean,
    waiting: () => Promise<void> = async () => {},
    waitCheckMs = 500,
  ): Promise<boolean> {
    this.fetchersWaiting++
    try {
      while (
        !this.closed &&
        this.chunks.length > 0 &&
        (chunk.events > 0 || chunk.bytes > 0) &&
        (this.events + chunk.events > this.limits.maxEvents || this.bytes + chunk.bytes > this.limits.maxBytes)
      ) {
        await new Promise<void>((r) => {
          this.wakeFetchers.push(r)
          setTimeout(r, waitCheckMs)
        })
        if (!stillWanted()) return false
        await waiting()
      }
    } finally {
      this.fetchersWaiting--
    }
    if (this.closed || !stillWanted()) return false
    this.chunks.push(chunk)
    this.events += chunk.events
    this.bytes += chunk.bytes
    this.wake('writers')
    return true
  }

  /**
   * The next window, taken out of the queue: waits for chunks, and while the window is not full for up to
   * lingerMs from its oldest chunk. Undefined once the queue is closed.
   */
  async take(limits: WindowLimits): Promise<{chunks: Chunk[]; seq: number} | undefined> {
    for (;;) {
      if (this.closed) return undefined
      const window = pickWindow(this.chunks, limits)
      const events = window.reduce((a, c) => a + c.events, 0)
      const waited = window.length > 0 ? Date.now() - window[0]!.queuedAt : 0
      // A fetcher waiting for room means the queue is full: lingering would only stall it.
      if (window.length > 0 && (events >= limits.maxEvents || waited >= limits.lingerMs || this.fetchersWaiting > 0)) {
        this.remove(window)
        return {chunks: window, seq: this.taken++}
      }
      await new Promise<void>((r) => {
        this.wakeWriters.push(r)
        if (window.length > 0) setTimeout(r, limits.lingerMs - waited)
      })
    }
  }

  /** Drops the queued chunks that are not to be written (a revoked partition's: its new owner fetches them again); returns how many. */
  abandon(keep: (chunk: Chunk) => boolean): number {
    const before = this.chunks.length
    this.remove(this.chunks.filter((c) => !keep(c)))
    return before - this.chunks.length
  }

  /** No more windows; waiting pushes and takes return. */
  close(): void {
    this.closed = true
    this.wake('writers')
    this.wake('fetchers')
  }

  private remove(gone: Chunk[]): void {
    if (gone.length === 0) return
    const set = new Set(gone)
    this.chunks = this.chunks.filter((c) => !set.has(c))
    for (const c of gone) {
      this.events -= c.events
      this.bytes -= c.bytes
    }
    this.wake('fetchers')
  }

  private wake(who: 'writers' | 'fetchers'): void {
    const list = who === 'writers' ? this.wakeWriters : this.wakeFetchers
    if (who === 'writers') this.wakeWriters = []
    else this.wakeFetchers = []
    for (const r of list) r()
  }
}

/** The error of a window whose turn came after one that failed: it was never written. */
export class AfterFailedTurn extends Error {
  constructor(readonly seq: number) {
    super(`window ${seq} was not written: an earlier window failed`)
  }
}

/**
 * Runs work in the order of its sequence numbers (0, 1, 2, ...), one at a time, whatever order it arrives
 * in. A turn that fails ends the sequence: every later turn is refused (AfterFailedTurn) without running,
 * because a later window committed past a failed one would store offsets beyond messages never applied.
 */
export class Turns {
  private next = 0
  private failed = false
  private waiting = new Map<number, () => void>()

  async run<T>(seq: number, fn: () => Promise<T>): Promise<T> {
    if (seq !== this.next) await new Promise<void>((r) => this.waiting.set(seq, r))
    try {
      if (this.failed) throw new AfterFailedTurn(seq)
      return await fn()
    } catch (error) {
      this.failed = true
      throw error
    } finally {
      this.next++
      const wake = this.waiting.get(this.next)
      this.waiting.delete(this.next)
      wake?.()
    }
  }
}

/**
 * When a window may be aggregated: once the window before it is sending its rows, MySQL's longest step,
 * while Node would otherwise wait, or is done. Aggregating as soon as a window was taken kept Node busy
 * through the previous window's short round trips (BEGIN, the offset locks), each answer waiting for it:
 * a third of the transactions' time went there where users are many (bench/results/ingest-users.md).
 */
export class Overlap {
  private reached = -1
  private waiters: {seq: number; wake: () => void}[] = []

  /** Window seq is sending its rows, or is done. */
  reach(seq: number): void {
    if (seq <= this.reached) return
    this.reached = seq
    const ready = this.waiters.filter((w) => w.seq - 1 <= seq)
    this.waiters = this.waiters.filter((w) => w.seq - 1 > seq)
    for (const w of ready) w.wake()
  }

  wait(seq: number): Promise<void> {
    if (seq - 1 <= this.reached) return Promise.resolve()
    return new Promise((wake) => this.waiters.push({seq, wake}))
  }
}
