import {describe, expect, it} from 'vitest'
import {ExitCode} from '../../src/core/errors.js'
import {judgeChunk, judgeStart, kafkaBehind} from '../../src/ingest/continuity.js'

describe('judgeChunk', () => {
  it('applies a chunk whose fetch started at the stored offset, or below it (a redelivery, the rest skipped)', () => {
    expect(judgeChunk(100, {from: 100, lastOffset: 199})).toBe('apply')
    expect(judgeChunk(150, {from: 100, lastOffset: 199})).toBe('apply')
    expect(judgeChunk(199, {from: 100, lastOffset: 199})).toBe('apply')
  })

  it('skips a chunk that lies wholly below the stored offset', () => {
    expect(judgeChunk(200, {from: 100, lastOffset: 199})).toBe('skip')
    expect(judgeChunk(5_000, {from: 100, lastOffset: 199})).toBe('skip')
  })

  it('finds the database behind when its offset lies below where the fetch started: the window is never written on top', () => {
    expect(judgeChunk(99, {from: 100, lastOffset: 199})).toBe('behind')
    expect(judgeChunk(44_000, {from: 102_000, lastOffset: 104_999})).toBe('behind')
  })

  it('finds the database behind when it has no offset for the partition (a restore from before it was consumed)', () => {
    expect(judgeChunk(undefined, {from: 0, lastOffset: 10})).toBe('behind')
    expect(judgeChunk(-1, {from: 0, lastOffset: 10})).toBe('behind')
  })

  it('judges by where the fetch started, not by the first message: offsets without messages before it are no gap', () => {
    // Offsets 10..12 were a transaction marker and aborted records: the fetch from 10 returned 13 first.
    expect(judgeChunk(10, {from: 10, lastOffset: 20})).toBe('apply')
    // A chunk of markers only (no message): it carries the offset past them.
    expect(judgeChunk(10, {from: 10, lastOffset: 10})).toBe('apply')
  })
})

describe('judgeStart', () => {
  const marks = {low: 100, high: 1_000}
  const start = () => 100

  it('resumes where MySQL says while that lies within the log', () => {
    expect(judgeStart(500, marks, start)).toEqual({kind: 'resume', offset: 500})
    expect(judgeStart(100, marks, start)).toEqual({kind: 'resume', offset: 100})
    expect(judgeStart(1_000, marks, start)).toEqual({kind: 'resume', offset: 1_000})
  })

  it('starts a partition without a stored offset by the rule for one never consumed', () => {
    expect(judgeStart(undefined, marks, () => 640)).toEqual({kind: 'start', offset: 640})
    expect(judgeStart(-1, marks, start)).toEqual({kind: 'start', offset: 100})
  })

  it('refuses a stored offset past the end: Kafka lost what MySQL applied', () => {
    expect(judgeStart(1_001, marks, start)).toEqual({kind: 'ahead', stored: 1_001, high: 1_000})
    expect(judgeStart(200_201, {low: 0, high: 0}, start)).toEqual({kind: 'ahead', stored: 200_201, high: 0})
  })

  it('records a stored offset below the log start as a loss of exactly the messages between, and goes on from the log start', () => {
    expect(judgeStart(40, marks, start)).toEqual({kind: 'lost', offset: 100, lost: {from: 40, to: 99, messages: 60}})
  })
})

describe('kafkaBehind', () => {
  it('names topic, partition, stored offset and end, exits 2, and gives the way out as commands', () => {
    const e = kafkaBehind({group: 'g', topic: 'user-events', partition: 3}, 200_201, 1_500)
    expect(e.exitCode).toBe(ExitCode.CONFIG)
    expect(e.message).toContain('topic user-events partition 3 ends at offset 1500')
    expect(e.message).toContain('up to offset 200201')
    expect(e.suggestions?.join('\n')).toContain('mau offsets reset --group g --topic user-events --to earliest --yes')
  })
})
