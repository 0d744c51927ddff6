import {describe, expect, it} from 'vitest'
import {backfillWindow} from '../../src/druid/backfill.js'

const now = new Date('2022-12-14T12:00:00Z')

describe('backfillWindow', () => {
  it('replaces a month that is over, whole', () => {
    expect(backfillWindow({month: '202211', timezone: 'UTC', now})).toEqual({
      from: Date.UTC(2022, 10, 1),
      to: Date.UTC(2022, 11, 1),
      mode: 'replace',
    })
  })

  it('refuses the current month without a cut-over, and a month not started', () => {
    expect(() => backfillWindow({month: '202212', timezone: 'UTC', now})).toThrow(
      /Month 202212 is not over in UTC: replacing it would erase what the consumer is writing/,
    )
    expect(() => backfillWindow({month: '202301', timezone: 'UTC', now})).toThrow(
      /Month 202301 has not started in UTC: expected a month up to 202212/,
    )
  })

  it('merges up to --until, which must lie within the month and in the past', () => {
    const until = Date.UTC(2022, 11, 5, 9) / 1000
    expect(backfillWindow({month: '202212', timezone: 'UTC', until, now})).toEqual({
      from: Date.UTC(2022, 11, 1),
      to: until * 1000,
      mode: 'merge',
    })
    expect(() => backfillWindow({month: '202212', timezone: 'UTC', until: Date.UTC(2022, 10, 5) / 1000, now})).toThrow(
      /--until 2022-11-05T00:00:00.000Z is outside month 202212/,
    )
    expect(() => backfillWindow({month: '202212', timezone: 'UTC', until: Date.UTC(2022, 11, 20) / 1000, now})).toThrow(
      /--until 2022-12-20T00:00:00.000Z is in the future/,
    )
  })

  it('uses the month bounds of the time zone', () => {
    expect(backfillWindow({month: '202211', timezone: 'Asia/Tokyo', now})).toMatchObject({
      from: Date.UTC(2022, 9, 31, 15),
      to: Date.UTC(2022, 10, 30, 15),
    })
  })
})
