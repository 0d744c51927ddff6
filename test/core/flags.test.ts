import {Parser} from '@oclif/core'
import {describe, expect, it} from 'vitest'
import * as flag from '../../src/core/flags.js'
import {addMonths, currentMonth, monthIn} from '../../src/core/month.js'

const parse = async <F extends Record<string, unknown>>(argv: string[], flags: F) =>
  (await Parser.parse(argv, {flags: flags as never})).flags as Record<string, unknown>

describe('--month', () => {
  it('reads YYYYMM and YYYY-MM as YYYYMM', async () => {
    expect((await parse(['--month', '2022-12'], {month: flag.month({relative: 'current'})})).month).toBe('202212')
    expect((await parse(['--month', '202301'], {month: flag.month({required: true})})).month).toBe('202301')
  })

  it("keeps current and previous (a CronJob's fixed arguments) as words, which name a month only in the zone the run resolves", async () => {
    expect((await parse(['--month', 'Previous'], {month: flag.month({required: true})})).month).toBe('previous')
    const zone = 'Pacific/Kiritimati'
    const now = new Date('2026-11-30T12:00:00Z') // already 1 December in Kiritimati (UTC+14), still 30 November in UTC
    expect(monthIn('current', zone, now)).toBe('202612')
    expect(monthIn('previous', zone, now)).toBe('202611')
    expect(monthIn('current', 'UTC', now)).toBe('202611')
    expect(monthIn('202212', zone, now)).toBe('202212')
  })

  it('names the bad value and the expected form', async () => {
    await expect(parse(['--month', '2022-13'], {month: flag.month({relative: 'current'})})).rejects.toThrow(
      /Invalid month "2022-13": expected YYYYMM or YYYY-MM/,
    )
  })

  it('defaults to the word current or previous, read once the zone is known', async () => {
    const flags = {
      timezone: flag.timezone,
      current: flag.month({relative: 'current'}),
      previous: flag.month({relative: 'previous'}),
    }
    const parsed = await parse(['--timezone', 'Pacific/Kiritimati'], flags)
    expect(parsed.current).toBe('current')
    expect(parsed.previous).toBe('previous')
    expect(monthIn(parsed.previous as string, 'Pacific/Kiritimati')).toBe(
      addMonths(currentMonth('Pacific/Kiritimati'), -1),
    )
  })

  it('is required where there is no sensible default', async () => {
    await expect(parse([], {month: flag.month({required: true})})).rejects.toThrow(/Missing required flag month/)
  })
})

describe('instant flags', () => {
  it('check the form when parsed and read a time without offset in the zone asked', async () => {
    const {since} = (await parse(['--since', '2022-12-01'], {since: flag.instant({summary: 's'})})) as {
      since: flag.Instant
    }
    expect(since.in('UTC')).toBe(Date.UTC(2022, 11, 1) / 1000)
    expect(since.in('Asia/Tokyo')).toBe(Date.UTC(2022, 10, 30, 15) / 1000)
  })

  it('name the flag and the bad value', async () => {
    await expect(parse(['--until', '2022-02-30'], {until: flag.instant({summary: 'u'})})).rejects.toThrow(
      /Invalid --until "2022-02-30": expected an ISO 8601 time/,
    )
  })
})

describe('--namespace and --timezone', () => {
  it('takes repeated and comma-separated environments, trimmed', async () => {
    expect(
      (await parse(['--namespace', 'prod, dev', '--namespace', 'qa'], {namespace: flag.namespace})).namespace,
    ).toEqual(['prod', 'dev', 'qa'])
  })

  it('refuses a time zone that is not an IANA name', async () => {
    await expect(parse(['--timezone', 'Mars/Olympus'], {timezone: flag.timezone})).rejects.toThrow(
      /Unknown time zone "Mars\/Olympus"/,
    )
  })
})
