import {describe, expect, it} from 'vitest'
import {compare, judge, verifyWindow} from '../../src/druid/verify.js'

const exact = {approximate: false, tolerancePercent: 2}
const approx = {approximate: true, tolerancePercent: 2}

describe('judge', () => {
  it('passes only equal lines when counts are exact', () => {
    expect(judge({users: 100, events: 500}, {users: 100, events: 500}, exact)).toBe('match')
    expect(judge({users: 100, events: 500}, {users: 99, events: 500}, exact)).toBe('mismatch')
    expect(judge({users: 100, events: 500}, {users: 100, events: 501}, exact)).toBe('mismatch')
  })

  it('lets users differ within the tolerance when Druid approximates, but never events', () => {
    expect(judge({users: 1000, events: 5000}, {users: 1019, events: 5000}, approx)).toBe('within-tolerance')
    expect(judge({users: 1000, events: 5000}, {users: 1021, events: 5000}, approx)).toBe('mismatch')
    expect(judge({users: 1000, events: 5000}, {users: 1000, events: 4999}, approx)).toBe('mismatch')
  })

  it('names the side a line is missing from', () => {
    expect(judge(null, {users: 1, events: 1}, exact)).toBe('only-in-mysql')
    expect(judge({users: 1, events: 1}, null, exact)).toBe('only-in-druid')
  })
})

describe('compare', () => {
  it('pairs environment and source lines from both sides, with differences in percent of Druid', () => {
    const druid = [
      {environment_namespace: 'prod', source_id: '', users: 4, events: 10},
      {environment_namespace: 'prod', source_id: 'IOS', users: 4, events: 10},
      {environment_namespace: 'stage', source_id: '', users: 1, events: 1},
    ]
    const mysql = {
      month: '202212',
      total: {users: 0, events: 0},
      environments: [
        {environment_namespace: 'dev', users: 2, events: 2, sources: [{source_id: 'WEB', users: 2, events: 2}]},
        {environment_namespace: 'prod', users: 3, events: 10, sources: [{source_id: 'IOS', users: 3, events: 10}]},
      ],
    }
    const rows = compare(druid, mysql, exact)
    expect(rows.map((r) => [r.environment_namespace, r.source_id, r.verdict])).toEqual([
      ['dev', '', 'only-in-mysql'],
      ['dev', 'WEB', 'only-in-mysql'],
      ['prod', '', 'mismatch'],
      ['prod', 'IOS', 'mismatch'],
      ['stage', '', 'only-in-druid'],
    ])
    expect(rows[2]).toMatchObject({
      druid: {users: 4, events: 10},
      mysql: {users: 3, events: 10},
      difference: {users: -1, events: 0},
      percent: {users: -25, events: 0},
    })
    expect(rows[0]!.percent).toEqual({users: null, events: null})
  })
})

describe('verifyWindow', () => {
  it('cuts the month where the consumer cuts it, in the time zone', () => {
    expect(verifyWindow('202212', 'Asia/Tokyo')).toEqual({
      from: Date.UTC(2022, 10, 30, 15),
      to: Date.UTC(2022, 11, 31, 15),
    })
  })

  it('starts at --since when it falls inside the month, and refuses one after it', () => {
    const since = Date.UTC(2022, 11, 10) / 1000
    expect(verifyWindow('202212', 'UTC', since)).toEqual({from: since * 1000, to: Date.UTC(2023, 0, 1)})
    expect(verifyWindow('202212', 'UTC', Date.UTC(2022, 5, 1) / 1000).from).toBe(Date.UTC(2022, 11, 1))
    expect(() => verifyWindow('202212', 'UTC', Date.UTC(2023, 0, 1) / 1000)).toThrow(
      /--since 2023-01-01T00:00:00.000Z is after month 202212 ends in UTC/,
    )
  })
})
