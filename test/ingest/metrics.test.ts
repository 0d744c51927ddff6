import {afterEach, describe, expect, it, vi} from 'vitest'
import {ConsumerMetrics, Health, serveMetrics} from '../../src/ingest/metrics.js'

afterEach(() => vi.useRealTimers())

describe('Health', () => {
  it('stays live while idle without lag, and fails after the stall time with lag', () => {
    vi.useFakeTimers()
    const h = new Health(60)
    vi.advanceTimersByTime(120_000)
    expect(h.live().ok).toBe(true)
    h.setLag('t:0', 500)
    expect(h.live()).toEqual({ok: false, reason: 'no progress for 120s with lag 500'})
    h.progress()
    expect(h.live().ok).toBe(true)
  })

  it('is ready only after joining the group, and never after a fatal crash', () => {
    const h = new Health(60)
    expect(h.ready()).toEqual({ok: false, reason: 'not yet joined the consumer group and positioned its partitions'})
    h.joined = true
    expect(h.ready().ok).toBe(true)
    h.crashed = 'broker gone'
    expect(h.live()).toEqual({ok: false, reason: 'consumer crashed: broker gone'})
  })
})

describe('serveMetrics', () => {
  it('serves Prometheus metrics and probe status codes', async () => {
    const metrics = new ConsumerMetrics()
    const health = new Health(60)
    metrics.consumed.inc({topic: 'events'}, 42)
    const server = await serveMetrics(0, metrics, health)
    const base = `http://127.0.0.1:${(server.address() as {port: number}).port}`
    try {
      const text = await (await fetch(`${base}/metrics`)).text()
      expect(text).toContain('mau_events_consumed_total{topic="events"} 42')
      // The standard process and Node.js series keep their names; mau's own say their build.
      expect(text).toMatch(/^process_resident_memory_bytes \d+/m)
      expect(text).toMatch(/^nodejs_heap_size_used_bytes \d+/m)
      expect(text).not.toMatch(/^mau_process_/m)
      expect(text).toMatch(/^mau_build_info\{version="\d+\.\d+\.\d+",commit="[^"]+"\} 1$/m)
      expect((await fetch(`${base}/healthz`)).status).toBe(200)
      expect((await fetch(`${base}/readyz`)).status).toBe(503)
      health.joined = true
      expect((await fetch(`${base}/readyz`)).status).toBe(200)
    } finally {
      server.close()
    }
  })
})
