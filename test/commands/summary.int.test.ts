/** mau summary check and rebuild as an operator runs them: exit 1 on a difference, and a rebuild that repairs it. */
import {afterAll, beforeAll, describe, expect, it} from 'vitest'
import {query} from '../fixtures/mau.js'
import {createTestDatabase, type TestDatabase} from '../fixtures/services.js'
import {mauAsync} from '../helpers/cli.js'

let db: TestDatabase
beforeAll(async () => {
  db = await createTestDatabase({migrated: true})
  await query(
    db.settings,
    `INSERT INTO mau (environment_namespace, yearmonth, source_id, user_id, event_count, created_at, updated_at)
    VALUES ('prod', '202212', 'IOS', 'alice', 3, 0, 0), ('prod', '202212', 'WEB', 'alice', 1, 0, 0), ('dev', '202212', 'WEB', 'bob', 2, 0, 0)`,
  )
})
afterAll(async () => {
  await db.drop()
})

const summary = (args: string[]) => mauAsync(['summary', ...args], {MAU_MYSQL_URL: db.url})

describe('mau summary check and rebuild', () => {
  it('exits 1 listing every line the summary lacks, then 0 once rebuilt', async () => {
    const before = await summary(['check', '--month', '202212', '--json'])
    expect(before.code).toBe(1)
    const doc = JSON.parse(before.stdout)
    expect(doc).toMatchObject({month: '202212', ok: false})
    expect(doc.differences).toContainEqual({
      environment_namespace: 'prod',
      source_id: '',
      summary: null,
      scan: {users: 1, events: 4},
    })
    expect(doc.differences).toHaveLength(5)

    const rebuilt = await summary(['rebuild', '--month', '2022-12', '--json'])
    expect(rebuilt.code).toBe(0)
    expect(JSON.parse(rebuilt.stdout)).toEqual({month: '202212', rows: 5})

    const after = await summary(['check', '--month', '202212'])
    expect(after.code).toBe(0)
    expect(after.stdout).toMatch(/Summary of 202212 matches the rows\./)
  })

  it('names a counter that drifted, both sides shown', async () => {
    await query(
      db.settings,
      "UPDATE mau_summary SET events = events + 1 WHERE environment_namespace = 'dev' AND source_id = 'WEB'",
    )
    const r = await summary(['check', '--month', '202212'])
    expect(r.code).toBe(1)
    expect(r.stdout).toMatch(/dev\s*│\s*WEB\s*│\s*1 users \/ 3 events\s*│\s*1 users \/ 2 events/)
  })

  it('exits 2 naming a bad month, and rebuild insists on one', async () => {
    const bad = await summary(['check', '--month', '2022-13', '--json'])
    expect(bad.code).toBe(2)
    expect(JSON.parse(bad.stdout).error).toMatchObject({
      code: 'BAD_CONFIG',
      exitCode: 2,
      message: 'Invalid month "2022-13": expected YYYYMM or YYYY-MM, such as 202212 or 2022-12.',
    })
    const none = await summary(['rebuild'])
    expect(none.code).toBe(2)
    expect(none.stderr).toMatch(/Missing required flag --month/)
  })
})
