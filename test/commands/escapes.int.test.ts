/**
 * Event data is untrusted: an environment or a dead letter's reason holding terminal escapes must be shown
 * as text in every human output, never sent to the terminal raw.
 */
import {afterAll, beforeAll, describe, expect, it} from 'vitest'
import {openDb} from '../../src/core/db.js'
import {writerPool} from '../../src/mau/rows.js'
import {consumeAll, produce} from '../fixtures/mau.js'
import {createTestDatabase, createTopic, type TestDatabase} from '../fixtures/services.js'
import {mauAsync} from '../helpers/cli.js'

/** Sets the window title and clears the screen; DEL, CR and a C1 CSI that also pass as printable elsewhere. */
const HOSTILE = 'prod\u001b]0;pwned\u0007\u001b[2J\r\u007f\u009b31m'
/** Any control character but the line feed that ends a line. */
const RAW_CONTROL = /[\u0000-\u0009\u000b-\u001f\u007f-\u009f]/

let db: TestDatabase

beforeAll(async () => {
  db = await createTestDatabase({migrated: true})
  const topic = await createTopic(1)
  const event = {
    environment_namespace: HOSTILE,
    user_id: 'u\u001b[1m',
    source_id: 'IOS',
    last_seen: Date.UTC(2022, 11, 5) / 1000,
  }
  // The second message is not JSON: V8's parse error quotes the raw ESC into the dead letter's reason.
  await produce(topic.topic, [JSON.stringify(event), '{"environment_namespace": \u001b[2J}'])
  const pool = openDb(db.settings, writerPool(2))
  await consumeAll(pool, topic.topic)
  await pool.end()
  await topic.drop()
})
afterAll(async () => {
  await db.drop()
})

describe('human output of hostile event data', () => {
  it.each([
    ['count', ['count', '--month', '202212', '--by', 'source']],
    ['count --csv', ['count', '--month', '202212', '--csv']],
    ['report show', ['report', 'show', '--month', '202212']],
    ['report show --csv', ['report', 'show', '--month', '202212', '--csv']],
    [
      'report send to stdout (JSON at a terminal)',
      ['report', 'send', '--month', '202212', '--to', 'stdout', '--force'],
    ],
    ['deadletter list', ['deadletter', 'list']],
    ['count of the hostile environment, refused', ['count', '--month', '202301', '--namespace', HOSTILE]],
  ])('%s shows control characters as escapes', async (_, args) => {
    const r = await mauAsync(args, {MAU_MYSQL_URL: db.url})
    expect(r.stdout + r.stderr).not.toMatch(RAW_CONTROL)
    expect(r.stdout + r.stderr).toMatch(args.includes('stdout') ? /\\u001b\[2J/ : /\\x1b\[2J/)
  })
})
