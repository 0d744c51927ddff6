import {describe, expect, it} from 'vitest'
import type {MauCount} from '../../src/mau/count.js'
import {checkReport, countTable, historyCsv, historyTable, toCsv, usersChart} from '../../src/mau/format.js'
import {trend} from '../../src/mau/history.js'

const counts: MauCount = {
  month: '202212',
  environments: [
    {environment_namespace: 'dev', users: 1, events: 7, sources: [{source_id: 'WEB', users: 1, events: 7}]},
    {
      environment_namespace: 'a,"b"',
      users: 2,
      events: 3,
      sources: [
        {source_id: 'IOS', users: 1, events: 1},
        {source_id: 'WEB', users: 2, events: 2},
      ],
    },
  ],
  total: {users: 3, events: 10},
}

describe('toCsv', () => {
  it('has one line per environment, the total last, and quotes what needs it', () => {
    expect(toCsv(counts, false)).toBe(
      'month,environment_namespace,source_id,users,events\n202212,dev,,1,7\n202212,"a,""b""",,2,3\n202212,,,3,10\n',
    )
  })

  it('adds a line per source on request', () => {
    expect(toCsv(counts, true).split('\n')).toEqual([
      'month,environment_namespace,source_id,users,events',
      '202212,dev,,1,7',
      '202212,dev,WEB,1,7',
      '202212,"a,""b""",,2,3',
      '202212,"a,""b""",IOS,1,1',
      '202212,"a,""b""",WEB,2,2',
      '202212,,,3,10',
      '',
    ])
  })
})

describe('countTable', () => {
  it('names the month and ends with the total', () => {
    const lines = countTable(counts, false).split('\n')
    expect(lines[0]).toBe('MAU for 202212')
    expect(lines.find((l) => l.includes('total'))).toMatch(/total.*3.*10/)
  })

  it('shows each source under its environment with --by source', () => {
    const out = countTable(counts, true)
    expect(out).toMatch(/dev\s*│\s*all\s*│\s*1\s*│\s*7/)
    expect(out).toMatch(/│\s*IOS\s*│\s*1\s*│\s*1/)
  })
})

describe('checkReport', () => {
  it('says the summary matches, or lists each line that differs with both sides', () => {
    expect(checkReport({month: '202212', ok: true, differences: []})).toBe('Summary of 202212 matches the rows.')
    const out = checkReport({
      month: '202212',
      ok: false,
      differences: [{environment_namespace: 'prod', source_id: '', summary: {users: 2, events: 5}, scan: null}],
    })
    expect(out).toMatch(/prod.*all.*2 users \/ 5 events.*missing/)
  })
})

describe('historyTable, historyCsv and usersChart', () => {
  const history = {
    from: '202211',
    to: '202212',
    months: trend(
      ['202211', '202212'],
      [
        {month: '202211', environment_namespace: 'prod', users: 1500, events: 20000},
        {month: '202212', environment_namespace: 'prod', users: 3000, events: 10000},
      ],
    ),
  }

  it('shows a line per month with separators and signed changes', () => {
    const out = historyTable(history)
    expect(out).toMatch(/2022-12 +│ prod +│ +3,000 │ +\+100\.0% │ +10,000 │ +-50\.0% │/)
    expect(out).toMatch(/2022-11 +│ prod +│ +1,500 │ +new │/)
  })

  it('keeps raw numbers in CSV, the total with an empty environment', () => {
    expect(historyCsv(history).split('\n')).toContain('202212,,3000,10000,100,-50')
  })

  it('charts users per month to the width, months labelled under it', () => {
    const chart = usersChart(history.months, {width: 40, height: 4})
    const lines = chart.split('\n')
    expect(lines[0]).toBe('Users per month')
    expect(lines.at(-1)).toMatch(/^ +2022-11 +2022-12$/)
    for (const line of lines) expect(line.length).toBeLessThanOrEqual(40)
    expect(lines[1]).toMatch(/^3,000 ┤ +╭─+/)
  })
})
