/**
 * Months as the `mau` table keys them: "YYYYMM", zero-padded, in a configured IANA time zone.
 * The month of an event comes from its last_seen instant, never from the consumer's wall clock.
 */
import dayjs from 'dayjs'
import timezone from 'dayjs/plugin/timezone.js'
import utc from 'dayjs/plugin/utc.js'
import {configError} from './errors.js'

dayjs.extend(utc)
dayjs.extend(timezone)

export type YearMonth = string

const YEARMONTH = /^(\d{4})-?(\d{2})$/

/** Accepts YYYYMM or YYYY-MM; returns YYYYMM or throws a clear configuration error. */
export function parseYearMonth(input: string): YearMonth {
  const m = YEARMONTH.exec(input.trim())
  const month = m ? Number(m[2]) : 0
  if (!m || month < 1 || month > 12 || Number(m[1]) < 1970) {
    throw configError(`Invalid month "${input}": expected YYYYMM or YYYY-MM, such as 202212 or 2022-12.`)
  }
  return `${m[1]}${m[2]}`
}

export function isYearMonth(value: string): boolean {
  const m = /^(\d{4})(\d{2})$/.exec(value)
  return m !== null && Number(m[2]) >= 1 && Number(m[2]) <= 12 && Number(m[1]) >= 1970
}

export function addMonths(ym: YearMonth, n: number): YearMonth {
  const index = Number(ym.slice(0, 4)) * 12 + Number(ym.slice(4, 6)) - 1 + n
  return `${String(Math.floor(index / 12)).padStart(4, '0')}${String((index % 12) + 1).padStart(2, '0')}`
}

/**
 * A month as an operator gives it: YYYYMM, or `current` / `previous` (a CronJob's fixed arguments), which
 * name a month only once the run knows its zone: the recorded one (core/zone.ts).
 */
// eslint-disable-next-line @typescript-eslint/no-redundant-type-constituents -- YearMonth is a string: the words say what else parseMonthArg returns
export type MonthArg = YearMonth | 'current' | 'previous'

/** Pure: YYYYMM, YYYY-MM, current or previous (any case); a bad value exits 2 naming it. */
export function parseMonthArg(input: string): MonthArg {
  const relative = input.trim().toLowerCase()
  return relative === 'current' || relative === 'previous' ? relative : parseYearMonth(input)
}

/** The month an argument names, in `zone`, now. */
export function monthIn(arg: MonthArg, zone: string, now: Date = new Date()): YearMonth {
  if (arg === 'current') return currentMonth(zone, now)
  if (arg === 'previous') return addMonths(currentMonth(zone, now), -1)
  return arg
}

/** Whole months from a to b (b - a). */
export function monthsBetween(a: YearMonth, b: YearMonth): number {
  const idx = (ym: YearMonth) => Number(ym.slice(0, 4)) * 12 + Number(ym.slice(4, 6))
  return idx(b) - idx(a)
}

export function monthOf(unixSeconds: number, zone: string): YearMonth {
  return dayjs.unix(unixSeconds).tz(zone).format('YYYYMM')
}

export function currentMonth(zone: string, now: Date = new Date()): YearMonth {
  return monthOf(Math.floor(now.getTime() / 1000), zone)
}

/** [start, end) of a month in unix seconds, exact even where DST moves midnight. */
export function monthBounds(ym: YearMonth, zone: string): {start: number; end: number} {
  return {start: firstSecondOf(ym, zone), end: firstSecondOf(addMonths(ym, 1), zone)}
}

/** Binary search for the first second whose month (in zone) is >= ym; zone offsets are within ±1 day of UTC. */
function firstSecondOf(ym: YearMonth, zone: string): number {
  const utcMidnight = Date.UTC(Number(ym.slice(0, 4)), Number(ym.slice(4, 6)) - 1, 1) / 1000
  let lo = utcMidnight - 2 * 86400
  let hi = utcMidnight + 2 * 86400
  while (lo < hi) {
    const mid = Math.floor((lo + hi) / 2)
    if (monthOf(mid, zone) >= ym) hi = mid
    else lo = mid + 1
  }
  return lo
}

/**
 * Maps event times to months at consumer speed: the zone conversion runs once per month seen,
 * after which an event is two comparisons.
 */
export class MonthResolver {
  private readonly ranges: {start: number; end: number; ym: YearMonth}[] = []

  constructor(readonly zone: string) {}

  resolve(unixSeconds: number): YearMonth {
    for (const r of this.ranges) {
      if (unixSeconds >= r.start && unixSeconds < r.end) return r.ym
    }
    const ym = monthOf(unixSeconds, this.zone)
    this.ranges.unshift({...monthBounds(ym, this.zone), ym})
    if (this.ranges.length > 24) this.ranges.pop()
    return ym
  }
}

const ISO_INSTANT = /^(\d{4})-(\d{2})-(\d{2})(?:[T ](\d{2}):(\d{2})(?::(\d{2})(?:\.\d{1,3})?)?)?(Z|[+-]\d{2}:?\d{2})?$/

/**
 * An instant given by an operator: ISO 8601 (2022-12-01T09:00:00+09:00, 2022-12-01T00:00Z), or a date
 * and time without offset, read in `zone` (2022-12-01 is the month's first midnight there). Unix seconds.
 */
export function parseInstant(input: string, zone: string, flag: string): number {
  const m = ISO_INSTANT.exec(input.trim())
  const bad = () =>
    configError(
      `Invalid ${flag} "${input}": expected an ISO 8601 time such as 2022-12-01T00:00:00Z, or a date and time read in ${zone}.`,
    )
  if (!m) throw bad()
  const [year, month, day, hour, minute, second] = m.slice(1, 7).map((v) => Number(v ?? 0)) as [
    number,
    number,
    number,
    number,
    number,
    number,
  ]
  const daysInMonth = new Date(Date.UTC(year, month, 0)).getUTCDate()
  if (month < 1 || month > 12 || day < 1 || day > daysInMonth || hour > 23 || minute > 59 || second > 59) throw bad()
  const seconds = m[7]
    ? Date.parse(input.trim().replace(' ', 'T')) / 1000
    : dayjs.tz(input.trim().replace(' ', 'T'), zone).valueOf() / 1000
  if (!Number.isFinite(seconds)) throw bad()
  return Math.floor(seconds)
}
