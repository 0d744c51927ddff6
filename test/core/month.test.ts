import {describe, expect, it} from 'vitest'
import {
  addMonths,
  monthBounds,
  monthIn,
  MonthResolver,
  monthOf,
  monthsBetween,
  parseInstant,
  parseMonthArg,
  parseYearMonth,
} from '../../src/core/month.js'

describe('parseYearMonth', () => {
  it('accepts YYYYMM and YYYY-MM', () => {
    expect(parseYearMonth('202212')).toBe('202212')
    expect(parseYearMonth('2023-01')).toBe('202301')
  })

  it.each(['20221', '202213', '202200', '2022-1', 'abc', '1969-12'])(
    'rejects %s naming the value and the expected form',
    (bad) => {
      expect(() => parseYearMonth(bad)).toThrow(new RegExp(`Invalid month "${bad}": expected YYYYMM or YYYY-MM`))
    },
  )
})

describe('month arithmetic', () => {
  it('crosses year boundaries both ways', () => {
    expect(addMonths('202212', 1)).toBe('202301')
    expect(addMonths('202301', -1)).toBe('202212')
    expect(addMonths('202301', -13)).toBe('202112')
    expect(monthsBetween('202211', '202302')).toBe(3)
  })
})

describe('monthOf', () => {
  it('zero-pads January (the original wrote 20221)', () => {
    expect(monthOf(Date.UTC(2023, 0, 15) / 1000, 'UTC')).toBe('202301')
  })

  it('uses the configured zone, not UTC, at a month boundary', () => {
    const utcNewYearEve = Date.UTC(2022, 11, 31, 20, 0, 0) / 1000 // 05:00 on 1 Jan in Tokyo
    expect(monthOf(utcNewYearEve, 'UTC')).toBe('202212')
    expect(monthOf(utcNewYearEve, 'Asia/Tokyo')).toBe('202301')
    expect(monthOf(Date.UTC(2023, 0, 1, 3, 0, 0) / 1000, 'America/Los_Angeles')).toBe('202212')
  })
})

describe('monthBounds', () => {
  it('starts the month at local midnight', () => {
    expect(monthBounds('202301', 'UTC')).toEqual({start: Date.UTC(2023, 0, 1) / 1000, end: Date.UTC(2023, 1, 1) / 1000})
    expect(monthBounds('202301', 'Asia/Tokyo').start).toBe(Date.UTC(2022, 11, 31, 15) / 1000)
  })

  it('handles a month whose start moves with DST (New York, March vs April)', () => {
    const {start, end} = monthBounds('202303', 'America/New_York')
    expect(start).toBe(Date.UTC(2023, 2, 1, 5) / 1000) // EST, UTC-5
    expect(end).toBe(Date.UTC(2023, 3, 1, 4) / 1000) // EDT, UTC-4
  })
})

describe('MonthResolver', () => {
  it('agrees with monthOf on every hour across a year in a DST zone', () => {
    const resolver = new MonthResolver('Europe/Berlin')
    const from = Date.UTC(2022, 11, 25) / 1000
    for (let t = from; t < from + 400 * 86400; t += 3600 - 7) {
      expect(resolver.resolve(t)).toBe(monthOf(t, 'Europe/Berlin'))
    }
  })
})

describe('parseInstant', () => {
  it('reads ISO 8601 with an offset, and a date and time without one in the time zone', () => {
    expect(parseInstant('2022-12-01T00:00:00Z', 'Asia/Tokyo', '--since')).toBe(Date.UTC(2022, 11, 1) / 1000)
    expect(parseInstant('2022-12-01T09:00:00+09:00', 'UTC', '--since')).toBe(Date.UTC(2022, 11, 1) / 1000)
    expect(parseInstant('2022-12-01', 'Asia/Tokyo', '--since')).toBe(Date.UTC(2022, 10, 30, 15) / 1000)
    expect(parseInstant('2022-12-01 06:30', 'UTC', '--since')).toBe(Date.UTC(2022, 11, 1, 6, 30) / 1000)
  })

  it('names the flag and the bad value', () => {
    expect(() => parseInstant('2022-02-30', 'UTC', '--until')).toThrow(
      /Invalid --until "2022-02-30": expected an ISO 8601 time/,
    )
    expect(() => parseInstant('last monday', 'UTC', '--since')).toThrow(/Invalid --since "last monday"/)
  })
})

describe('month arguments', () => {
  it('keep current and previous as words until a zone reads them', () => {
    expect(parseMonthArg(' PREVIOUS ')).toBe('previous')
    expect(parseMonthArg('2026-11')).toBe('202611')
    expect(() => parseMonthArg('last')).toThrow(/Invalid month "last"/)
    // 1 December 2026 at 01:30 UTC: still November in Los Angeles, December in Tokyo.
    const at = new Date('2026-12-01T01:30:00Z')
    expect(monthIn('previous', 'America/Los_Angeles', at)).toBe('202610')
    expect(monthIn('previous', 'Asia/Tokyo', at)).toBe('202611')
  })
})
