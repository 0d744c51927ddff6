import {describe, expect, it} from 'vitest'
import {prepareBatch} from '../../src/ingest/batch.js'
import {decodeJson} from '../../src/ingest/decode.js'
import {windowFailure, windowRanges} from '../../src/ingest/windows.js'

const chunk = (topic: string, partition: number, offsets: number[]) => ({
  ref: {group: 'g', topic, partition},
  batch: prepareBatch(
    offsets.map((o) => ({offset: String(o), value: Buffer.from('{}')})),
    decodeJson,
    0,
  ),
})

describe('windowRanges', () => {
  it('names each partition of a window once, from its first to its last offset', () => {
    expect(windowRanges([chunk('a', 0, [5, 6]), chunk('b', 2, [9]), chunk('a', 0, [7, 8])])).toEqual([
      'topic a partition 0 offsets 5..8',
      'topic b partition 2 offsets 9..9',
    ])
  })
})

describe('windowFailure', () => {
  it('exits 1 with where the run stopped, why, and that the next run resumes there', () => {
    const e = windowFailure([chunk('events', 3, [100, 101])], new Error('refused'))
    expect(e.exitCode).toBe(1)
    expect(e.message).toBe(
      'Could not write topic events partition 3 offsets 100..101: refused. Nothing from these offsets on was stored; the next run starts again from them.',
    )
    expect(e.suggestions?.[0]).toMatch(/resumes from the first offset named/)
  })
})
