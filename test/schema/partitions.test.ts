import {describe, expect, it} from 'vitest'
import {monthsAhead, partitionName, plan, spanning, type Partition} from '../../src/schema/partitions.js'
import {addMonths} from '../../src/core/month.js'

const part = (name: string, lessThan: string, rows = 0): Partition => ({
  name,
  month: /^p\d{6}$/.test(name) ? name.slice(1) : null,
  lessThan,
  rows,
  bytes: 0,
})
/** Month partitions as rotate leaves them: pmin below the first, then one partition a month. */
const monthly = (...months: string[]) => [
  part('pmin', months[0]!),
  ...months.map((m) => part(`p${m}`, addMonths(m, 1))),
]
const pmax = (rows = 0) => part('pmax', 'MAXVALUE', rows)
const sqlOf = (p: ReturnType<typeof plan>) => p.actions.map((a) => a.sql)

describe('plan: creating months', () => {
  it('splits an empty pmax into the current and ahead months across a year boundary', () => {
    const p = plan({existing: [pmax()], current: '202211', aheadMonths: 3, retainMonths: 13})
    expect(p.create).toEqual(['202211', '202212', '202301', '202302'])
    expect(sqlOf(p)).toEqual([
      "ALTER TABLE mau REORGANIZE PARTITION pmax INTO (PARTITION pmin VALUES LESS THAN ('202211'), PARTITION p202211 VALUES LESS THAN ('202212'), PARTITION p202212 VALUES LESS THAN ('202301'), " +
        "PARTITION p202301 VALUES LESS THAN ('202302'), PARTITION p202302 VALUES LESS THAN ('202303'), PARTITION pmax VALUES LESS THAN (MAXVALUE))",
    ])
  })

  it('does nothing when every month has its partition (a second run)', () => {
    const p = plan({
      existing: [...monthly('202211', '202212', '202301', '202302'), pmax()],
      current: '202211',
      aheadMonths: 3,
      retainMonths: 13,
    })
    expect(p.actions).toEqual([])
  })

  it('fills a gap by splitting the partition that holds the missing month', () => {
    const p = plan({
      existing: [...monthly('202211'), part('p202301', '202302'), pmax()],
      current: '202211',
      aheadMonths: 2,
      retainMonths: 13,
    })
    expect(p.create).toEqual(['202212'])
    expect(sqlOf(p)).toEqual([
      "ALTER TABLE mau REORGANIZE PARTITION p202301 INTO (PARTITION p202212 VALUES LESS THAN ('202301'), PARTITION p202301 VALUES LESS THAN ('202302'))",
    ])
  })

  it('re-creates a missing pmax together with the months beyond the last partition', () => {
    const p = plan({existing: monthly('202211'), current: '202211', aheadMonths: 1, retainMonths: 13})
    expect(sqlOf(p)).toEqual([
      "ALTER TABLE mau ADD PARTITION (PARTITION p202212 VALUES LESS THAN ('202301'), PARTITION pmax VALUES LESS THAN (MAXVALUE))",
    ])
  })

  it('splits a pmax that already holds rows, saying how many it must move', () => {
    const p = plan({existing: [...monthly('202210'), pmax(1234)], current: '202211', aheadMonths: 0, retainMonths: 13})
    expect(p.actions).toMatchObject([{kind: 'split', partition: 'pmax', create: ['202211'], rows: 1234}])
  })

  it('leaves a month alone when a partition mau did not create holds it, and says so', () => {
    const p = plan({existing: [part('legacy', '202301'), pmax()], current: '202211', aheadMonths: 1, retainMonths: 13})
    // legacy ends right after 202212, so that month counts as having its own partition
    expect(p.warnings).toEqual(['202211 lies in partition legacy, which mau did not create; left as it is'])
    expect(p.actions).toEqual([])
  })
})

describe('plan: dropping months', () => {
  const year = (from: string, n: number) => Array.from({length: n}, (_, i) => addMonths(from, i))

  it("drops only expired partitions: 13 months kept by default, so last year's same month stays", () => {
    const p = plan({
      existing: [...monthly(...year('202109', 18)), pmax()],
      current: '202302',
      aheadMonths: 0,
      retainMonths: 13,
    })
    expect(p.keepFrom).toBe('202202')
    expect(p.drop).toEqual(['p202109', 'p202110', 'p202111', 'p202112', 'p202201'])
    expect(sqlOf(p)).toEqual(['ALTER TABLE mau DROP PARTITION p202109, p202110, p202111, p202112, p202201'])
  })

  it('never drops the current or the previous month, whatever --retain-months says', () => {
    const p = plan({
      existing: [...monthly('202210', '202211', '202212'), pmax()],
      current: '202212',
      aheadMonths: 0,
      retainMonths: 0,
    })
    expect(p.keepFrom).toBe('202211')
    expect(p.drop).toEqual(['p202210'])
  })

  it('moves no rows without what rotate read of them (db migrate): no pmin for an older schema then', () => {
    expect(
      plan({existing: [part('p202612', '202701'), pmax()], current: '202612', aheadMonths: 0, retainMonths: null})
        .actions,
    ).toEqual([])
  })

  it('drops a first partition that also holds older months only when all of them expired', () => {
    const first = part('p202211', '202212') // made from pmax before pmin existed: holds everything before 202212
    const rest = (...months: string[]) => months.map((m) => part(`p${m}`, addMonths(m, 1)))
    expect(
      plan({existing: [first, ...rest('202212'), pmax()], current: '202212', aheadMonths: 0, retainMonths: 1}).drop,
    ).toEqual([])
    expect(
      plan({existing: [first, ...rest('202212', '202301'), pmax()], current: '202301', aheadMonths: 0, retainMonths: 1})
        .drop,
    ).toEqual(['p202211'])
  })

  it('never drops pmax or partitions it did not name', () => {
    const p = plan({
      existing: [part('legacy', '201901'), ...monthly('202212'), pmax(10)],
      current: '202212',
      aheadMonths: 0,
      retainMonths: 1,
    })
    expect(p.drop).toEqual([])
  })

  it('keeps everything when retention is off (db migrate)', () => {
    expect(
      plan({existing: [...monthly('201001'), pmax()], current: '202212', aheadMonths: 0, retainMonths: null}).drop,
    ).toEqual([])
  })
})

describe('plan: retention for every row', () => {
  const fresh = () => [...monthly('202612', '202701', '202702', '202703'), pmax()]

  it('gives each month with rows below the oldest partition its own partition, and drops the expired one', () => {
    // The case: 202510 and 202601 written into a fresh schema land in pmin; 13 months keep 202512 on.
    const p = plan({
      existing: fresh(),
      current: '202612',
      aheadMonths: 3,
      retainMonths: 13,
      monthsWithRows: {pmin: ['202601', '202510']},
    })
    expect(sqlOf(p)).toEqual([
      "ALTER TABLE mau REORGANIZE PARTITION pmin INTO (PARTITION pmin VALUES LESS THAN ('202510'), PARTITION p202510 VALUES LESS THAN ('202511'), " +
        "PARTITION p202512 VALUES LESS THAN ('202601'), PARTITION p202601 VALUES LESS THAN ('202602'), PARTITION p202611 VALUES LESS THAN ('202612'))",
      'ALTER TABLE mau DROP PARTITION p202510',
    ])
    expect(p.droppedBelow).toBe('202511')
  })

  it('turns the bottom partition of an older schema into pmin and its month, isolating the months found in it', () => {
    const existing = [part('p202612', '202701'), ...monthly('202701').slice(1), pmax()]
    const p = plan({
      existing,
      current: '202612',
      aheadMonths: 1,
      retainMonths: 13,
      monthsWithRows: {p202612: ['202510', '202612']},
    })
    expect(p.actions[0]).toMatchObject({kind: 'split', partition: 'p202612', create: ['202510']})
    expect(p.actions[0]!.sql).toContain(
      "PARTITION pmin VALUES LESS THAN ('202510'), PARTITION p202510 VALUES LESS THAN ('202511'), PARTITION p202611 VALUES LESS THAN ('202612'), PARTITION p202612 VALUES LESS THAN ('202701')",
    )
    expect(p.drop).toEqual(['p202510'])
    // Without rows below, only pmin is made.
    expect(sqlOf(plan({existing, current: '202612', aheadMonths: 1, retainMonths: 13, monthsWithRows: {}}))[0]).toBe(
      "ALTER TABLE mau REORGANIZE PARTITION p202612 INTO (PARTITION pmin VALUES LESS THAN ('202612'), PARTITION p202612 VALUES LESS THAN ('202701'))",
    )
  })

  it('leaves an empty pmin, and a gap partition holding only its own month, as they are', () => {
    const existing = [
      part('pmin', '202510'),
      part('p202510', '202511'),
      part('p202601', '202602'),
      ...monthly('202612').slice(1),
      pmax(),
    ]
    expect(
      plan({
        existing,
        current: '202612',
        aheadMonths: 0,
        retainMonths: 24,
        monthsWithRows: {pmin: [], p202601: ['202601']},
      }).actions,
    ).toEqual([])
  })
})

describe('plan: a month below the oldest partition becomes current (a clock set back, a bench)', () => {
  it('carves it out of pmin, which stays at the bottom', () => {
    const p = plan({existing: [...monthly('202612'), pmax()], current: '202509', aheadMonths: 0, retainMonths: 24})
    expect(sqlOf(p)).toEqual([
      "ALTER TABLE mau REORGANIZE PARTITION pmin INTO (PARTITION pmin VALUES LESS THAN ('202509'), PARTITION p202509 VALUES LESS THAN ('202510'), PARTITION p202611 VALUES LESS THAN ('202612'))",
    ])
  })
})

describe('spanning', () => {
  it('names pmin, the bottom partition and partitions of several months that begin below the given month', () => {
    const existing = [
      part('pmin', '202510'),
      part('p202510', '202511'),
      part('p202601', '202602'),
      ...monthly('202612').slice(1),
      pmax(),
    ]
    expect(spanning(existing, '202612')).toEqual(['pmin', 'p202601', 'p202612'])
    // Rotate asks below the oldest month kept: a partition of recent months is not read every day.
    expect(spanning(existing, '202512')).toEqual(['pmin', 'p202601'])
    expect(spanning(existing, '202510')).toEqual(['pmin'])
    expect(spanning([part('p202612', '202701'), pmax()], '202612')).toEqual(['p202612'])
  })
})

describe('partitionName', () => {
  it('refuses anything but a valid YYYYMM', () => {
    expect(partitionName('202212')).toBe('p202212')
    expect(() => partitionName("202212'); DROP TABLE mau; --")).toThrow(/refusing/)
    expect(() => partitionName('202213')).toThrow(/refusing/)
  })
})

describe('monthsAhead', () => {
  const p = (month: string | null): Partition => ({
    name: month ? `p${month}` : 'pmax',
    month,
    lessThan: 'x',
    rows: 0,
    bytes: 0,
  })

  it('counts the coming months with their own partition, up to the first missing one, across a year', () => {
    expect(monthsAhead([p('202211'), p('202212'), p('202301'), p('202302'), p(null)], '202211')).toBe(3)
    expect(monthsAhead([p('202212'), p('202302'), p(null)], '202211')).toBe(1)
    expect(monthsAhead([p('202211'), p(null)], '202211')).toBe(0)
  })
})
