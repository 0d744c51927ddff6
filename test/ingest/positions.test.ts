import {describe, expect, it} from 'vitest'
import {endProgress, reachedEnd} from '../../src/ingest/positions.js'

describe('endProgress', () => {
  const marks = new Map([
    ['t:0', {low: 0, high: 100}],
    ['t:1', {low: 50, high: 80}],
    ['t:2', {low: 10, high: 10}],
  ])

  it('counts from where each partition started (stored offset, else its low mark) to its end mark', () => {
    const started = new Map([['t:0', 40]])
    expect(endProgress(marks, started, new Map())).toEqual({done: 0, total: 90})
    expect(
      endProgress(
        marks,
        started,
        new Map([
          ['t:0', 70],
          ['t:1', 80],
        ]),
      ),
    ).toEqual({done: 60, total: 90})
  })

  it('never counts past a mark, even when other replicas applied more', () => {
    expect(
      endProgress(
        marks,
        new Map(),
        new Map([
          ['t:0', 500],
          ['t:1', 900],
        ]),
      ),
    ).toEqual({done: 130, total: 130})
    expect(
      reachedEnd(
        marks,
        new Map([
          ['t:0', 500],
          ['t:1', 900],
        ]),
      ),
    ).toBe(true)
  })
})
