import {describe, expect, it} from 'vitest'
import type {ReportDocument} from '../../src/report/build.js'
import {deliveriesTable, toReportCsv, toSlackText} from '../../src/report/format.js'

const doc: ReportDocument = {
  month: '202212',
  previous_month: '202211',
  generated_at: '2023-01-01T00:05:00.000Z',
  environments: [
    {
      environment_namespace: 'dev',
      users: 1,
      events: 4,
      previous: null,
      sources: [{source_id: 'WEB', users: 1, events: 4}],
    },
    {environment_namespace: 'prod, eu', users: 2000, events: 6000, previous: {users: 1000, events: 9}, sources: []},
  ],
  totals: {users: 2001, events: 6004, previous: {users: 1000, events: 9}},
}

describe('toSlackText', () => {
  it('renders a monospace table with thousands separators and the change against the month before', () => {
    expect(toSlackText(doc)).toBe(
      [
        '*Monthly active users, 2022-12*',
        '```',
        'environment  users  events  users 202211  events 202211  users change',
        'dev              1       4             -              -           new',
        'prod, eu     2,000   6,000         1,000              9       +100.0%',
        'total        2,001   6,004         1,000              9       +100.1%',
        '```',
      ].join('\n'),
    )
  })

  it('shows terminal escapes in an environment name as text, so Slack and a terminal only ever see text', () => {
    const hostile = {
      ...doc,
      environments: [{...doc.environments[0]!, environment_namespace: 'x\u001b]0;t\u0007\u009b2J'}],
    }
    expect(toSlackText(hostile)).toContain('x\\x1b]0;t\\x07\\u009b2J')
    expect(toSlackText(hostile)).not.toMatch(/[\u0000-\u0009\u000b-\u001f\u007f-\u009f]/)
  })
})

describe('toReportCsv', () => {
  it('has a line per environment and source, raw numbers, and quotes a namespace with a comma', () => {
    expect(toReportCsv(doc)).toBe(
      [
        'month,environment_namespace,source_id,users,events,previous_users,previous_events',
        '202212,dev,,1,4,,',
        '202212,dev,WEB,1,4,,',
        '202212,"prod, eu",,2000,6000,1000,9',
        '202212,,,2001,6004,1000,9',
        '',
      ].join('\n'),
    )
  })
})

describe('deliveriesTable', () => {
  it('shows each destination with its status, attempts and detail', () => {
    const out = deliveriesTable([{destination: 'slack', status: 'failed', attempts: 5, message: 'HTTP 500'}])
    expect(out).toMatch(/destination.*status.*attempts.*detail/)
    expect(out).toMatch(/slack.*failed.*5.*HTTP 500/)
  })
})
