import {describe, expect, it} from 'vitest'
import {monthsDue, planCatchUp} from '../../src/report/catch-up.js'
import {parseDestination} from '../../src/report/deliver.js'

describe('monthsDue', () => {
  it('is every month after the last delivered, up to the one before the current, oldest first', () => {
    expect(monthsDue('202609', '202612', false)).toEqual(['202610', '202611'])
    expect(monthsDue('202611', '202701', false)).toEqual(['202612'])
  })

  it('is just the previous month where nothing was delivered, and nothing once it was', () => {
    expect(monthsDue(undefined, '202701', false)).toEqual(['202612'])
    expect(monthsDue('202612', '202701', false)).toEqual([])
  })

  it('adds the current month only when a partial month is allowed, and never resends it', () => {
    expect(monthsDue('202611', '202701', true)).toEqual(['202612', '202701'])
    expect(monthsDue('202701', '202701', true)).toEqual([])
  })
})

describe('planCatchUp', () => {
  it('groups the destinations due each month, oldest month first; stdout keeps no record and gets the previous month', () => {
    const hook = parseDestination('webhook:https://billing.example/mau', {})
    const file = parseDestination('file:/reports/mau-{month}.json', {})
    const stdout = parseDestination('stdout', {})
    const plan = planCatchUp(
      [hook, file, stdout],
      new Map([
        [hook.key, '202609'],
        [file.key, '202610'],
        ['stdout', '202611'],
      ]),
      '202612',
      false,
    )
    expect(plan.map((p) => [p.month, p.destinations.map((d) => d.key)])).toEqual([
      ['202610', [hook.key]],
      ['202611', [hook.key, file.key, 'stdout']],
    ])
  })
})
