/**
 * The CronJobs hold in any zone: rendered from the production overlay with MAU_TIMEZONE set to
 * America/Los_Angeles (and checked in zones from UTC-12 to UTC+14), no CronJob does a month's work while it
 * is still the previous month in that zone, the report leaves within a day of its month's end (a missed day
 * is caught up by the next run), and what reads "current" runs every day.
 */
import {mkdtempSync, rmSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join, relative} from 'node:path'
import dayjs from 'dayjs'
import timezone from 'dayjs/plugin/timezone.js'
import utc from 'dayjs/plugin/utc.js'
import {describe, expect, it} from 'vitest'
import {addMonths, monthBounds, monthIn, type MonthArg} from '../../src/core/month.js'
import {render, type K8sObject} from './manifests.js'

dayjs.extend(utc)
dayjs.extend(timezone)

const ZONES = ['America/Los_Angeles', 'Asia/Tokyo', 'UTC', 'Europe/Berlin', 'Pacific/Kiritimati', 'Etc/GMT+12']
const DAY = 86_400

/** The production overlay with MAU_TIMEZONE replaced, rendered from a kustomization of its own. */
function renderIn(zone: string): K8sObject[] {
  const dir = mkdtempSync(join(tmpdir(), 'mau-overlay-'))
  try {
    const patch = `[{"op": "replace", "path": "/data/MAU_TIMEZONE", "value": "${zone}"}]`
    writeFileSync(
      join(dir, 'kustomization.yaml'),
      `resources: [${relative(dir, join(process.cwd(), 'deploy/overlays/production'))}]\npatches:\n  - target: {kind: ConfigMap, name: mau-config}\n    patch: '${patch}'\n`,
    )
    return render(dir)
  } finally {
    rmSync(dir, {recursive: true, force: true})
  }
}

type CronJob = {name: string; schedule: string; timeZone: string; args: string[]; env: {name: string}[]}
const cronJobs = (objects: K8sObject[]): CronJob[] =>
  objects
    .filter((o) => o.kind === 'CronJob')
    .map((o) => {
      const spec = o.spec as {
        schedule: string
        timeZone?: string
        jobTemplate: {spec: {template: {spec: {containers: {args: string[]; env?: {name: string}[]}[]}}}}
      }
      const container = spec.jobTemplate.spec.template.spec.containers[0]!
      return {
        name: o.metadata.name,
        schedule: spec.schedule,
        timeZone: spec.timeZone ?? 'Etc/UTC',
        args: container.args,
        env: container.env ?? [],
      }
    })

/** Pure: the instants (unix seconds) a schedule of fixed minute and hour fires in [from, to), in its time zone. */
function fires(schedule: string, zone: string, from: number, to: number): number[] {
  const [minute, hour, dom, month, dow] = schedule.trim().split(/\s+/)
  if (!/^\d+$/.test(minute!) || !/^\d+$/.test(hour!))
    throw new Error(`schedule "${schedule}": this check reads a fixed minute and hour only`)
  const matches = (field: string, value: number) => field === '*' || field.split(',').map(Number).includes(value)
  const out: number[] = []
  for (
    let day = dayjs
      .unix(from - 2 * DAY)
      .tz(zone)
      .startOf('day');
    day.unix() < to;
    day = day.add(1, 'day').startOf('day')
  ) {
    if (!matches(dom!, day.date()) || !matches(month!, day.month() + 1) || !matches(dow!, day.day())) continue
    const at = dayjs
      .tz(`${day.format('YYYY-MM-DD')} ${hour!.padStart(2, '0')}:${minute!.padStart(2, '0')}`, zone)
      .unix()
    if (at >= from && at < to) out.push(at)
  }
  return out
}

/** The month a CronJob works on: its --month, else its command's default (report send's catch-up and verify-migration: the month just ended). */
function workMonth(job: CronJob): MonthArg {
  const at = job.args.indexOf('--month')
  if (at >= 0) return job.args[at + 1] as MonthArg
  if (job.args[0] === 'partitions') return 'current'
  return 'previous'
}

const MONTHS = Array.from({length: 24}, (_, i) => addMonths('202601', i))

describe('the CronJobs of deploy/overlays/production, MAU_TIMEZONE=America/Los_Angeles', () => {
  const jobs = cronJobs(renderIn('America/Los_Angeles'))

  it('render with that zone, and no CronJob names a zone or a fixed month of its own: each reads the zone recorded in the database', () => {
    expect(
      renderIn('America/Los_Angeles').find((o) => o.kind === 'ConfigMap' && o.metadata.name === 'mau-config')?.data,
    ).toMatchObject({MAU_TIMEZONE: 'America/Los_Angeles'})
    expect(jobs.map((j) => j.name).sort()).toEqual([
      'mau-double-write-check',
      'mau-partitions-rotate',
      'mau-report-send',
      'mau-verify-migration',
    ])
    for (const job of jobs) {
      expect(job.args, job.name).not.toContain('--timezone')
      expect(
        job.env.map((e) => e.name),
        job.name,
      ).not.toContain('MAU_TIMEZONE')
      expect(['current', 'previous'], job.name).toContain(workMonth(job))
    }
  })

  it.each(ZONES)(
    "in %s, a month's work starts only once the month has ended, and the report leaves within a day of the end",
    (zone) => {
      for (const job of jobs) {
        const arg = workMonth(job)
        for (const m of MONTHS) {
          const {start, end} = monthBounds(m, zone)
          if (arg === 'previous') {
            // The first run after the month's end there works on it, and no run before that end does.
            const next = fires(job.schedule, job.timeZone, end, end + 40 * DAY)[0]!
            expect(monthIn(arg, zone, new Date(next * 1000)), `${job.name} ${m} ${zone}`).toBe(m)
            for (const f of fires(job.schedule, job.timeZone, start, end))
              expect(monthIn(arg, zone, new Date(f * 1000))).toBe(addMonths(m, -1))
            // The report (and a missed day caught up) within a day; the monthly verification within two.
            expect(
              next - end,
              `${job.name}: ${m} ends ${new Date(end * 1000).toISOString()} in ${zone}`,
            ).toBeLessThanOrEqual((job.name === 'mau-report-send' ? 1 : 2) * DAY)
          } else {
            // What reads the current month runs every day: it is never a day behind the month there.
            const days = fires(job.schedule, job.timeZone, start, end)
            expect(days.length, `${job.name} ${m}`).toBeGreaterThanOrEqual(Math.floor((end - start) / DAY) - 1)
            expect(days[0]! - start, `${job.name} ${m} ${zone}`).toBeLessThanOrEqual(DAY)
          }
        }
      }
    },
  )

  it('would catch the schedule that sent November on 1 January in Los Angeles', () => {
    const monthly = {
      name: 'mau-report-send',
      schedule: '30 1 1 * *',
      timeZone: 'Etc/UTC',
      args: ['report', 'send'],
      env: [],
    }
    const end = monthBounds('202611', 'America/Los_Angeles').end
    const next = fires(monthly.schedule, monthly.timeZone, end, end + 40 * DAY)[0]!
    expect(new Date(next * 1000).toISOString()).toBe('2027-01-01T01:30:00.000Z')
    expect(next - end).toBeGreaterThan(DAY)
  })
})
