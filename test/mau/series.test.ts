import {describe, expect, it} from 'vitest'
import {selectSeries, toSeries} from '../../src/mau/series.js'

const row = (environment_namespace: string, source_id: string, yearmonth: string, users: number) => ({
  environment_namespace,
  source_id,
  yearmonth,
  users,
  events: users * 3,
})

describe('toSeries and selectSeries', () => {
  const all = toSeries([
    row('a', 'IOS', '202511', 1),
    row('a', 'IOS', '202601', 2),
    row('a', 'WEB', '202601', 5),
    row('b', 'IOS', '202601', 7),
  ])

  it('groups sorted rows into one series per environment and source, months ascending', () => {
    expect(all.map((s) => [s.environment_namespace, s.source_id, s.points.map((p) => p.yearmonth)])).toEqual([
      ['a', 'IOS', ['202511', '202601']],
      ['a', 'WEB', ['202601']],
      ['b', 'IOS', ['202601']],
    ])
    expect(all[0]!.points[1]).toEqual({yearmonth: '202601', users: 2, events: 6})
  })

  it('keeps the named environments and sources, all when none is named', () => {
    expect(selectSeries(all, [], [])).toHaveLength(3)
    expect(selectSeries(all, ['a'], ['IOS']).map((s) => s.points.length)).toEqual([2])
    expect(selectSeries(all, [], ['IOS']).map((s) => s.environment_namespace)).toEqual(['a', 'b'])
  })
})
