import {describe, expect, it} from 'vitest'
import {createPartitionsSql, monthsToCreate, partitionName, type Partition} from '../src/partitions.js'

const p = (name: string, lessThan: string): Partition => ({name, month: /^p\d{6}$/.test(name) ? name.slice(1) : null, lessThan, rows: 0, bytes: 0})

describe('monthsToCreate', () => {
  it('wants the current month and the ahead months on a table with only pmax', () => {
    expect(monthsToCreate([p('pmax', 'MAXVALUE')], '202211', 3)).toEqual(['202211', '202212', '202301', '202302'])
  })

  it('wants only the months above the highest existing partition', () => {
    const existing = [p('p202211', '202212'), p('p202212', '202301'), p('pmax', 'MAXVALUE')]
    expect(monthsToCreate(existing, '202212', 2)).toEqual(['202301', '202302'])
  })

  it('wants nothing when every month already has its partition', () => {
    const existing = [p('p202212', '202301'), p('p202301', '202302'), p('pmax', 'MAXVALUE')]
    expect(monthsToCreate(existing, '202212', 1)).toEqual([])
  })
})

describe('createPartitionsSql', () => {
  it('splits pmax when it exists, keeping a new catch-all', () => {
    expect(createPartitionsSql([p('pmax', 'MAXVALUE')], ['202212', '202301'])).toBe(
      "ALTER TABLE mau REORGANIZE PARTITION pmax INTO (PARTITION p202212 VALUES LESS THAN ('202301'), " +
        "PARTITION p202301 VALUES LESS THAN ('202302'), PARTITION pmax VALUES LESS THAN (MAXVALUE))",
    )
  })

  it('appends when the table has no pmax', () => {
    expect(createPartitionsSql([p('p202211', '202212')], ['202212'])).toBe("ALTER TABLE mau ADD PARTITION (PARTITION p202212 VALUES LESS THAN ('202301'))")
  })

  it('returns nothing to run for no months', () => {
    expect(createPartitionsSql([p('pmax', 'MAXVALUE')], [])).toBeNull()
  })
})

describe('partitionName', () => {
  it('refuses anything but a valid YYYYMM', () => {
    expect(partitionName('202212')).toBe('p202212')
    expect(() => partitionName("202212'); DROP TABLE mau; --")).toThrow(/refusing/)
    expect(() => partitionName('202213')).toThrow(/refusing/)
  })
})
