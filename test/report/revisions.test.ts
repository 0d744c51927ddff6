import {describe, expect, it} from 'vitest'
import {revisionOf} from '../../src/report/revisions.js'
import type {ReportDocument} from '../../src/report/build.js'
import {sentTable, toReportCsv, toSlackText} from '../../src/report/format.js'

const figures = (total: number, envs: Record<string, number>) =>
  new Map([
    ['', {users: total, events: total * 2}],
    ...Object.entries(envs).map(([e, u]) => [e, {users: u, events: u * 2}] as const),
  ])

describe('revisionOf', () => {
  it('revises a month whose users moved by more than the threshold, naming the environments that moved', () => {
    const r = revisionOf('202611', figures(1000, {a: 900, b: 100}), figures(1002, {a: 902, b: 100}), 0.1)
    expect(r).toEqual({
      month: '202611',
      sent: {users: 1000, events: 2000},
      now: {users: 1002, events: 2004},
      users_change_percent: 0.2,
      environments: [{environment_namespace: 'a', sent: {users: 900, events: 1800}, now: {users: 902, events: 1804}}],
    })
  })

  it('leaves a month that moved by the threshold or less, and revises one sent empty that now has users', () => {
    expect(revisionOf('202611', figures(1000, {a: 1000}), figures(1001, {a: 1001}), 0.1)).toBeNull()
    expect(revisionOf('202611', figures(0, {}), figures(3, {a: 3}), 0.1)?.now).toEqual({users: 3, events: 6})
  })
})

describe('the revised section', () => {
  const doc: ReportDocument = {
    month: '202612',
    previous_month: '202611',
    generated_at: '2027-01-01T00:00:00.000Z',
    environments: [{environment_namespace: 'a', users: 5, events: 9, previous: null, sources: []}],
    totals: {users: 5, events: 9, previous: {users: 0, events: 0}},
    revised: [
      {
        month: '202611',
        sent: {users: 1000, events: 2000},
        now: {users: 1012, events: 2050},
        users_change_percent: 1.2,
        environments: [
          {environment_namespace: 'a', sent: {users: 1000, events: 2000}, now: {users: 1012, events: 2050}},
        ],
      },
    ],
  }

  it('is in the Slack text with the figures sent and now', () => {
    expect(toSlackText(doc)).toMatch(
      /\*Revised since sent\* \(late events\)\n```\nmonth +users sent +users now +change +events sent +events now\n2026-11 +1,000 +1,012 +\+1\.2% +2,000 +2,050\n```/,
    )
  })

  it("is in the CSV as lines marked (revised), the sent figures where the month before's stand", () => {
    expect(toReportCsv(doc)).toContain(
      '202611,,(revised),1012,2050,1000,2000\n202611,a,(revised),1012,2050,1000,2000\n',
    )
  })

  it('shows what a destination was sent against now', () => {
    const out = sentTable({
      destination: 'slack',
      sent_at: '2026-12-01T00:05:00.000Z',
      environments: [
        {
          environment_namespace: '',
          sent: {users: 10, events: 20},
          now: {users: 12, events: 25},
          users_added: 2,
          events_added: 5,
        },
      ],
    })
    expect(out).toMatch(/^Sent to slack at 2026-12-01T00:05:00.000Z; now:\n/)
    expect(out).toMatch(/total +│ +10 │ +12 │ +\+2 │ +20 │ +25 │ +\+5 │/)
  })
})
