import {afterAll, beforeAll, describe, expect, it} from 'vitest'
import {currentMonth} from '../../src/core/month.js'
import {mau} from '../helpers/cli.js'
import {createTestDatabase, type TestDatabase} from '../fixtures/services.js'

let db: TestDatabase
beforeAll(async () => {
  db = await createTestDatabase({migrated: true})
})
afterAll(async () => {
  await db.drop()
})

describe('mau partitions', () => {
  it("list shows each partition with its months and the next rotate's action", () => {
    const r = mau(['partitions', 'list', '--json'], {MAU_MYSQL_URL: db.url})
    expect(r.code).toBe(0)
    const parts = JSON.parse(r.stdout).partitions as {name: string; next: string}[]
    expect(parts[0]).toMatchObject({name: 'pmin', next: 'keep'})
    expect(parts[1]).toMatchObject({name: `p${currentMonth('UTC')}`, next: 'keep'})
    expect(parts.at(-1)).toMatchObject({name: 'pmax', lessThan: 'MAXVALUE'})
  })

  it('rotate --dry-run prints the SQL it would run and changes nothing; a real run then creates it', () => {
    const dry = mau(['partitions', 'rotate', '--dry-run', '--ahead-months', '5'], {MAU_MYSQL_URL: db.url})
    expect(dry.code).toBe(0)
    expect(dry.stdout).toMatch(
      /^ALTER TABLE mau REORGANIZE PARTITION pmax INTO \(PARTITION p\d{6} VALUES LESS THAN \('\d{6}'\), .*\);$/m,
    )
    expect(JSON.parse(mau(['partitions', 'list', '--json'], {MAU_MYSQL_URL: db.url}).stdout).partitions).toHaveLength(6)
    const real = mau(['partitions', 'rotate', '--ahead-months', '5', '--json'], {MAU_MYSQL_URL: db.url})
    expect(JSON.parse(real.stdout).executed).toHaveLength(2) // mau and mau_user_month
    expect(JSON.parse(mau(['partitions', 'list', '--json'], {MAU_MYSQL_URL: db.url}).stdout).partitions).toHaveLength(8)
  })
})
