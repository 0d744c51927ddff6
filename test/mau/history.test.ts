import {describe, expect, it} from 'vitest'
import {monthRange, percentChange, trend} from '../../src/mau/history.js'

describe('trend', () => {
  it('gives each month and environment its change from the month before, with zero where an environment had no events', () => {
    const rows = [
      {month: '202210', environment_namespace: 'prod', users: 4, events: 40},
      {month: '202211', environment_namespace: 'prod', users: 6, events: 30},
      {month: '202211', environment_namespace: 'dev', users: 1, events: 1},
      {month: '202212', environment_namespace: 'dev', users: 2, events: 3},
    ]
    const months = trend(['202211', '202212'], rows)
    expect(months.map((m) => m.month)).toEqual(['202211', '202212'])
    expect(months[0]!.environments).toEqual([
      {environment_namespace: 'dev', users: 1, events: 1, users_change_percent: null, events_change_percent: null},
      {environment_namespace: 'prod', users: 6, events: 30, users_change_percent: 50, events_change_percent: -25},
    ])
    expect(months[1]!.environments[1]).toEqual({
      environment_namespace: 'prod',
      users: 0,
      events: 0,
      users_change_percent: -100,
      events_change_percent: -100,
    })
    expect(months[1]!.total).toEqual({users: 2, events: 3, users_change_percent: -71.4, events_change_percent: -90.3})
  })

  it('has no change for the first month when the month before had nothing', () => {
    const [first] = trend(['202301'], [{month: '202301', environment_namespace: 'prod', users: 3, events: 3}])
    expect(first!.total).toMatchObject({users_change_percent: null})
  })
})

describe('monthRange', () => {
  it('lists the months across a year end', () => {
    expect(monthRange('202211', '202302')).toEqual(['202211', '202212', '202301', '202302'])
  })

  it('refuses a backwards or too long range, naming the months', () => {
    expect(() => monthRange('202302', '202211')).toThrow('--from 202302 is after --to 202211')
    expect(() => monthRange('200001', '202301')).toThrow('200001 to 202301 is 277 months: expected at most 120.')
  })
})

describe('percentChange', () => {
  it('rounds to one decimal and has none without a base', () => {
    expect(percentChange(3, 2)).toBe(50)
    expect(percentChange(1, 3)).toBe(-66.7)
    expect(percentChange(5, 0)).toBeNull()
  })
})
