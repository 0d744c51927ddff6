import {describe, expect, it} from 'vitest'
import type {ConsumeSummary} from '../../src/ingest/consume.js'
import {showPayload} from '../../src/ingest/deadletter.js'
import {consumeProgress, consumeTable, deadLetterReport, replayFormat} from '../../src/ingest/format.js'

const summary: ConsumeSummary = {
  consumed: 1200,
  redelivered: 3,
  rowsUpserted: 400,
  deadLettered: 2,
  ignored: {},
  expired: {},
  batches: 4,
  seconds: 2,
  eventsPerSecond: 600,
  partitions: [],
  rewinds: 0,
  lost: [],
  stoppedBy: 'end-of-topics',
}

describe('consumeTable and consumeProgress', () => {
  it('show what was consumed, redelivered, written and set aside, and the rate', () => {
    expect(consumeTable(summary)).toMatch(/1,200.*3.*400.*2.*600/)
    expect(consumeProgress(summary)).toBe('Consuming  1,200 events  600/s  rows 400  dead-lettered 2')
  })

  it('shows how far --stop-at-end has come towards the end marks, with percentage, rate and ETA', () => {
    expect(consumeProgress(summary, {done: 1200, total: 4800})).toBe(
      'Consuming  1,200/4,800 messages  25%  600/s  ETA 6s  rows 400  dead-lettered 2',
    )
  })
})

describe('consumeTable after a side went back in time', () => {
  it('lists the messages lost upstream with their offsets, and says how often MySQL was behind', () => {
    const out = consumeTable({
      ...summary,
      rewinds: 2,
      lost: [{topic: 'events', partition: 1, from: 100, to: 1599, messages: 1500}],
    })
    expect(out).toMatch(/LOST: events partition 1 offsets 100\.\.1599 .*1,500/)
    expect(out).toContain('MySQL was behind the consumer 2 times')
    expect(consumeTable(summary)).not.toMatch(/LOST|behind/)
  })
})

describe('showPayload', () => {
  it('keeps printable UTF-8 as text and turns anything else into base64', () => {
    expect(showPayload(Buffer.from('{"user_id":"😀 "}'))).toEqual({
      payload: '{"user_id":"😀 "}',
      payloadEncoding: 'utf8',
    })
    expect(showPayload(Buffer.from([0x0a, 0x03, 0xff, 0x00]))).toEqual({payload: 'CgP/AA==', payloadEncoding: 'base64'})
    expect(showPayload(Buffer.from('a\u0001b'))).toEqual({payload: 'YQFi', payloadEncoding: 'base64'})
    expect(showPayload(null)).toEqual({payload: null, payloadEncoding: null})
  })
})

describe('deadLetterReport', () => {
  it('lists each entry with where it came from, the reason and a payload preview, then how many of how many', () => {
    const out = deadLetterReport({
      total: 7,
      entries: [
        {
          id: 5,
          consumerGroup: 'g',
          topic: 'events',
          partition: 1,
          offset: 42,
          reason: 'user_id: missing',
          createdAt: '2022-12-01T00:00:00.000Z',
          payload: 'CgP/',
          payloadEncoding: 'base64',
          payloadBytes: 3,
          cut: false,
          sha256: null,
        },
      ],
    })
    expect(out).toMatch(/5.*2022-12-01T00:00:00.000Z.*events\/1@42.*user_id: missing.*base64:CgP\//)
    expect(out.split('\n').at(-1)).toBe('1 of 7 dead-lettered events')
  })

  it('says when a payload was cut, with the size and SHA-256 of the whole message', () => {
    const entry = {
      id: 1,
      consumerGroup: 'g',
      topic: 't',
      partition: 0,
      offset: 3,
      reason: 'decode: x',
      createdAt: '2022-12-01T00:00:00.000Z',
      payload: 'abc',
      payloadEncoding: 'utf8' as const,
    }
    const out = deadLetterReport({
      total: 1,
      entries: [{...entry, payloadBytes: 5_000_000, cut: true, sha256: 'ab'.repeat(32)}],
    })
    expect(out.replace(/[│\s]+/g, ' ')).toContain(`abc (cut: 5,000,000 bytes, sha256 ${'ab'.repeat(32)})`)
  })
})

describe('replayFormat', () => {
  it('says how many letters were replayed of how many, and why the others stay', () => {
    const out = replayFormat({
      dryRun: false,
      examined: 1200,
      replayed: 1100,
      events: 1100,
      rowsUpserted: 900,
      ignored: 0,
      expired: 0,
      kept: {decode: 100, namespace: 0},
    })
    expect(out.split('\n')[0]).toBe('Replayed 1,100 of 1,200 dead letters (900 rows upserted).')
    expect(out).toMatch(/decode +│ +100 │/)
    expect(out).not.toContain('namespace')
  })

  it('says "would" on a dry run', () => {
    expect(
      replayFormat({
        dryRun: true,
        examined: 2,
        replayed: 2,
        events: 2,
        rowsUpserted: 0,
        ignored: 0,
        expired: 0,
        kept: {},
      }),
    ).toBe('Would replay 2 of 2 dead letters.')
  })
})
