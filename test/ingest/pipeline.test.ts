import {describe, expect, it} from 'vitest'
import {prepareBatch} from '../../src/ingest/batch.js'
import {decodeJson} from '../../src/ingest/decode.js'
import {AfterFailedTurn, type Chunk, ChunkQueue, Overlap, pickWindow, Turns} from '../../src/ingest/pipeline.js'

const chunk = (key: string, events: number, bytes = events * 100): Chunk => ({
  ref: {group: 'g', topic: 't', partition: Number(key.split(':')[1])},
  key,
  from: 0,
  batch: prepareBatch([], decodeJson, 0),
  events,
  bytes,
  highWatermark: 0,
  generation: 1,
  queuedAt: Date.now(),
})

describe('pickWindow', () => {
  it('takes the oldest chunks of any partitions up to the event limit, at least one', () => {
    const queue = [chunk('t:0', 400), chunk('t:1', 400), chunk('t:0', 400)]
    expect(pickWindow(queue, {maxEvents: 1000, maxBytes: Infinity})).toEqual(queue.slice(0, 2))
    expect(pickWindow(queue, {maxEvents: 100, maxBytes: Infinity})).toEqual(queue.slice(0, 1))
  })

  it('stops at the first chunk that does not fit, so no partition skips ahead of its own chunks', () => {
    const queue = [chunk('t:0', 400), chunk('t:1', 900), chunk('t:0', 100)]
    expect(pickWindow(queue, {maxEvents: 1000, maxBytes: Infinity}).map((c) => c.events)).toEqual([400])
  })

  it('honours the byte limit as well', () => {
    expect(pickWindow([chunk('t:0', 10, 600), chunk('t:1', 10, 600)], {maxEvents: 1000, maxBytes: 1000})).toHaveLength(
      1,
    )
  })
})

describe('ChunkQueue', () => {
  const limits = {maxEvents: 1000, maxBytes: Infinity, lingerMs: 20}

  it('makes the fetch side wait while full, and lets it on once a window is taken', async () => {
    const q = new ChunkQueue({maxEvents: 1000, maxBytes: Infinity})
    expect(await q.push(chunk('t:0', 800), () => true)).toBe(true)
    let second = false
    const pushing = q.push(chunk('t:1', 800), () => true).then((ok) => (second = ok))
    await new Promise((r) => setTimeout(r, 30))
    expect(second).toBe(false)
    expect((await q.take(limits))!.chunks.map((c) => c.key)).toEqual(['t:0'])
    await pushing
    expect(second).toBe(true)
  })

  it('queues a chunk of no messages at once, even behind one chunk larger than the limit (offset order after a marker)', async () => {
    // --batch-size under the 5,000 messages of a chunk: the one chunk a queue always takes exceeds the limit.
    const q = new ChunkQueue({maxEvents: 100, maxBytes: 1000})
    await q.push(chunk('t:0', 5000), () => true)
    let queued = false
    void q.push(chunk('t:0', 0), () => true).then((ok) => (queued = ok))
    await new Promise((r) => setTimeout(r, 0))
    expect(queued).toBe(true)
    expect(q.size).toEqual({chunks: 2, events: 5000, bytes: 500_000})
  })

  it('gives a waiting chunk up when it is no longer wanted (a revoked partition), checking while it waits', async () => {
    const q = new ChunkQueue({maxEvents: 100, maxBytes: Infinity})
    await q.push(chunk('t:0', 100), () => true)
    let wanted = true
    let heartbeats = 0
    const pushing = q.push(
      chunk('t:1', 100),
      () => wanted,
      async () => void heartbeats++,
      10,
    )
    await new Promise((r) => setTimeout(r, 35))
    wanted = false
    expect(await pushing).toBe(false)
    expect(heartbeats).toBeGreaterThan(0)
    expect(q.size.chunks).toBe(1)
  })

  it('numbers windows in the order they are taken, and a window that is not full waits its linger', async () => {
    const q = new ChunkQueue({maxEvents: 10_000, maxBytes: Infinity})
    await q.push(chunk('t:0', 10), () => true)
    const started = Date.now()
    const first = await q.take(limits)
    expect(Date.now() - started).toBeGreaterThanOrEqual(15)
    await q.push(chunk('t:1', 5000), () => true)
    await q.push(chunk('t:1', 5000), () => true)
    const second = await q.take(limits)
    expect([first!.seq, second!.seq]).toEqual([0, 1])
    expect(second!.chunks).toHaveLength(1)
  })

  it('abandons the chunks it is told to, and says how many', async () => {
    const q = new ChunkQueue({maxEvents: 10_000, maxBytes: Infinity})
    for (const key of ['t:0', 't:1', 't:0']) await q.push(chunk(key, 10), () => true)
    expect(q.abandon((c) => c.key !== 't:0')).toBe(2)
    expect(q.size).toMatchObject({chunks: 1, events: 10})
  })

  it('ends a waiting take when closed', async () => {
    const q = new ChunkQueue({maxEvents: 10, maxBytes: Infinity})
    const taking = q.take(limits)
    q.close()
    expect(await taking).toBeUndefined()
  })
})

describe('Turns', () => {
  const jobs = () => {
    const turns = new Turns()
    const order: number[] = []
    const job = (n: number, fail = false) =>
      turns.run(n, async () => {
        order.push(n)
        if (fail) throw new Error(`job ${n}`)
      })
    return {order, job}
  }

  it('runs work in sequence order whatever order it arrives in', async () => {
    const {order, job} = jobs()
    await Promise.all([job(2), job(1), job(0)])
    expect(order).toEqual([0, 1, 2])
  })

  it('never runs a turn after one that failed, whether it was waiting already or arrives later', async () => {
    const {order, job} = jobs()
    const settled = await Promise.allSettled([job(2), job(1, true), job(0)])
    const late = await job(3).then(
      () => 'ran',
      (e: unknown) => e,
    )
    expect(order).toEqual([0, 1])
    expect(settled.map((r) => r.status)).toEqual(['rejected', 'rejected', 'fulfilled'])
    expect((settled[0] as PromiseRejectedResult).reason).toBeInstanceOf(AfterFailedTurn)
    expect((settled[1] as PromiseRejectedResult).reason.message).toBe('job 1')
    expect(late).toBeInstanceOf(AfterFailedTurn)
  })
})

describe('Overlap', () => {
  it('lets a window be aggregated once the window before it sends its rows, and the first at once', async () => {
    const overlap = new Overlap()
    const order: string[] = []
    await overlap.wait(0)
    order.push('0 aggregated')
    const second = overlap.wait(1).then(() => order.push('1 aggregated'))
    const third = overlap.wait(2).then(() => order.push('2 aggregated'))
    await new Promise((r) => setTimeout(r, 5))
    expect(order).toEqual(['0 aggregated'])
    overlap.reach(0)
    await second
    overlap.reach(1)
    await third
    expect(order).toEqual(['0 aggregated', '1 aggregated', '2 aggregated'])
  })

  it('never goes back: reaching an earlier window again changes nothing', async () => {
    const overlap = new Overlap()
    overlap.reach(3)
    overlap.reach(1)
    await overlap.wait(4)
    let waited = false
    void overlap.wait(5).then(() => (waited = true))
    await new Promise((r) => setTimeout(r, 5))
    expect(waited).toBe(false)
  })
})
