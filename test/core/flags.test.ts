import {Parser} from '@oclif/core'
import {describe, expect, it} from 'vitest'
import * as flag from '../../src/core/flags.js'
import {addMonths, currentMonth} from '../../src/core/month.js'

const parse = async <F extends Record<string, unknown>>(argv: string[], flags: F) => (await Parser.parse(argv, {flags: flags as never})).flags as Record<string, unknown>

describe('--month', () => {
  it('reads YYYYMM and YYYY-MM as YYYYMM', async () => {
    expect((await parse(['--month', '2022-12'], {month: flag.month({relative: 'current'})})).month).toBe('202212')
    expect((await parse(['--month', '202301'], {month: flag.month({required: true})})).month).toBe('202301')
  })

  it('reads current and previous (a CronJob\'s fixed arguments) in the --timezone of the command line, else MAU_TIMEZONE', () => {
    const zone = 'Pacific/Kiritimati'
    expect(flag.relativeMonth('current', ['verify-migration', '--timezone', zone])).toBe(currentMonth(zone))
    expect(flag.relativeMonth('Previous', ['verify-migration', `--timezone=${zone}`])).toBe(addMonths(currentMonth(zone), -1))
    const saved = process.env.MAU_TIMEZONE
    process.env.MAU_TIMEZONE = 'Pacific/Pago_Pago'
    try {
      expect(flag.relativeMonth('current', [])).toBe(currentMonth('Pacific/Pago_Pago'))
    } finally {
      if (saved === undefined) delete process.env.MAU_TIMEZONE
      else process.env.MAU_TIMEZONE = saved
    }
    expect(flag.relativeMonth('202212', [])).toBeUndefined()
  })

  it('names the bad value and the expected form', async () => {
    await expect(parse(['--month', '2022-13'], {month: flag.month({relative: 'current'})})).rejects.toThrow(/Invalid month "2022-13": expected YYYYMM or YYYY-MM/)
  })

  it('defaults to the current or previous month in the --timezone given', async () => {
    const zone = 'Pacific/Kiritimati'
    const flags = {timezone: flag.timezone, current: flag.month({relative: 'current'}), previous: flag.month({relative: 'previous'})}
    const parsed = await parse(['--timezone', zone], flags)
    expect(parsed.current).toBe(currentMonth(zone))
    expect(parsed.previous).toBe(addMonths(currentMonth(zone), -1))
  })

  it('is required where there is no sensible default', async () => {
    await expect(parse([], {month: flag.month({required: true})})).rejects.toThrow(/Missing required flag month/)
  })
})

describe('instant flags', () => {
  it('check the form when parsed and read a time without offset in the zone asked', async () => {
    const {since} = (await parse(['--since', '2022-12-01'], {since: flag.instant({summary: 's'})})) as {since: flag.Instant}
    expect(since.in('UTC')).toBe(Date.UTC(2022, 11, 1) / 1000)
    expect(since.in('Asia/Tokyo')).toBe(Date.UTC(2022, 10, 30, 15) / 1000)
  })

  it('name the flag and the bad value', async () => {
    await expect(parse(['--until', '2022-02-30'], {until: flag.instant({summary: 'u'})})).rejects.toThrow(/Invalid --until "2022-02-30": expected an ISO 8601 time/)
  })
})

describe('--namespace and --timezone', () => {
  it('takes repeated and comma-separated environments, trimmed', async () => {
    expect((await parse(['--namespace', 'prod, dev', '--namespace', 'qa'], {namespace: flag.namespace})).namespace).toEqual(['prod', 'dev', 'qa'])
  })

  it('refuses a time zone that is not an IANA name', async () => {
    await expect(parse(['--timezone', 'Mars/Olympus'], {timezone: flag.timezone})).rejects.toThrow(/Unknown time zone "Mars\/Olympus"/)
  })
})
