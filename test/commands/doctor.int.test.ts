import {afterAll, beforeAll, describe, expect, it} from 'vitest'
import {mau} from '../helpers/cli.js'
import {createTestDatabase, createTopic, LATEST_VERSION, type TestDatabase} from '../fixtures/services.js'

let db: TestDatabase
let topic: {topic: string; drop: () => Promise<void>}
beforeAll(async () => {
  db = await createTestDatabase()
  topic = await createTopic(1)
})
afterAll(async () => {
  await topic.drop()
  await db.drop()
})

describe('mau doctor', () => {
  it('exits 5 and says to migrate on an empty database, then 0 once migrated', () => {
    const before = mau(['doctor', '--json', '--topic', topic.topic], {MAU_MYSQL_URL: db.url})
    expect(before.code).toBe(5)
    expect(JSON.parse(before.stdout).checks).toContainEqual({
      name: 'schema',
      ok: false,
      detail: `version 0 of ${LATEST_VERSION}`,
      fix: 'Run `mau db migrate`.',
    })
    expect(mau(['db', 'migrate'], {MAU_MYSQL_URL: db.url}).code).toBe(0)
    expect(mau(['doctor', '--json', '--topic', topic.topic], {MAU_MYSQL_URL: db.url}).code).toBe(0)
  })

  it('exits 2 for a topic that does not exist and 4 for unreachable brokers', () => {
    expect(mau(['db', 'migrate'], {MAU_MYSQL_URL: db.url}).code).toBe(0)
    expect(mau(['doctor', '--topic', 'no-such-topic'], {MAU_MYSQL_URL: db.url}).code).toBe(2)
    expect(mau(['doctor', '--brokers', '127.0.0.1:1', '--topic', topic.topic], {MAU_MYSQL_URL: db.url}).code).toBe(4)
  })
})
