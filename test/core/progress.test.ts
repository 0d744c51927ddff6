import {describe, expect, it} from 'vitest'
import {formatDuration, progressText, startStatus} from '../../src/core/progress.js'

describe('progressText', () => {
  it('shows done of total, percentage, rate and time left', () => {
    expect(
      progressText({label: 'Backfilling 202611', done: 412_000, total: 1_000_000, unit: 'events', elapsedSeconds: 8}),
    ).toBe('Backfilling 202611  412,000/1,000,000 events  41%  51,500/s  ETA 11s')
  })

  it('shows what is done and the rate when the total is unknown', () => {
    expect(progressText({label: 'Scanning 202611', done: 250_000, unit: 'rows', elapsedSeconds: 2})).toBe(
      'Scanning 202611  250,000 rows  125,000/s',
    )
  })

  it('gives no rate or ETA in the first second, and no ETA once done', () => {
    expect(progressText({label: 'x', done: 10, total: 100, unit: 'rows', elapsedSeconds: 0.2})).toBe(
      'x  10/100 rows  10%',
    )
    expect(progressText({label: 'x', done: 100, total: 100, unit: 'rows', elapsedSeconds: 4})).toBe(
      'x  100/100 rows  100%  25/s',
    )
    expect(progressText({label: 'x', done: 0, total: 0, unit: 'rows', elapsedSeconds: 4})).toBe(
      'x  0/0 rows  100%  0/s',
    )
  })
})

describe('formatDuration', () => {
  it('reads as seconds, minutes or hours', () => {
    expect(formatDuration(42)).toBe('42s')
    expect(formatDuration(75)).toBe('1m15s')
    expect(formatDuration(7500)).toBe('2h05m')
  })
})

describe('startStatus', () => {
  it('draws nothing where nothing may animate', () => {
    const status = startStatus('Counting', false)
    expect(() => {
      status.update('Counting more')
      status.stop()
    }).not.toThrow()
  })
})
