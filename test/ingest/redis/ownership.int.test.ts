/**
 * The streams' MySQL locks (ownership.ts) against the real MariaDB: a replica whose lock connection goes
 * silent (its node or network lost, no socket closed) frees its streams within the session timeout, gives
 * them up itself once its lock queries time out, and stops in bounded time.
 */
import {afterEach, beforeEach, describe, expect, it} from 'vitest'
import {openDb, type Db} from '../../../src/core/db.js'
import {createLogger} from '../../../src/core/log.js'
import {Ownership} from '../../../src/ingest/redis/ownership.js'
import {streamKeys} from '../../../src/ingest/redis/streams.js'
import {createTestDatabase, type TestDatabase} from '../../fixtures/services.js'
import {CuttableProxy} from '../../helpers/proxy.js'

let db: TestDatabase
const pools: Db[] = []
const owners: Ownership[] = []

beforeEach(async () => {
  db = await createTestDatabase()
})
afterEach(async () => {
  await Promise.all(owners.splice(0).map((o) => o.stop()))
  await Promise.all(pools.splice(0).map((p) => p.end()))
  await db.drop()
})

const log = createLogger('test', process.env.DEBUG_REDIS ? 'info' : 'silent', false)
const keys = streamKeys(['goal'], 4)
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms))
const until = async (what: () => boolean, ms: number, label: string) => {
  for (const end = Date.now() + ms; !what();) {
    if (Date.now() > end) throw new Error(`timed out after ${ms} ms waiting for ${label}`)
    await sleep(50)
  }
}
function owner(pool: Db, o: {sessionTimeoutSeconds?: number; queryTimeoutMs?: number} = {}) {
  const released: string[] = []
  const ownership = new Ownership('mau-redis', keys, {
    db: pool,
    log,
    acquired: () => undefined,
    released: (k) => released.push(...k),
    ...o,
  })
  owners.push(ownership)
  return {ownership, released}
}
const pool = (port = db.settings.port, connectionLimit = 4) => {
  const p = openDb({...db.settings, port}, {connectionLimit})
  pools.push(p)
  return p
}

describe('the ownership of Redis streams', () => {
  it('frees the streams of a replica gone silent within the session timeout; that replica gives them up and stops', async () => {
    const proxy = new CuttableProxy({host: db.settings.host, port: db.settings.port})
    await proxy.start()
    try {
      const a = owner(pool(proxy.port), {sessionTimeoutSeconds: 2, queryTimeoutMs: 1_000})
      await a.ownership.start(200)
      expect(a.ownership.streams.size).toBe(4)
      const b = owner(pool(), {sessionTimeoutSeconds: 2})
      await b.ownership.start(200)
      await until(() => a.ownership.streams.size === 2 && b.ownership.streams.size === 2, 10_000, 'a fair share')

      proxy.freeze()
      const frozenAt = Date.now()
      // MySQL ends A's silent session after its wait_timeout (2 s), and B takes the streams at its next look.
      await until(() => b.ownership.streams.size === 4, 8_000, 'B to take every stream')
      expect(Date.now() - frozenAt).toBeLessThan(5_000)
      // A's lock queries time out (1 s): it stops reading every stream, whatever MySQL still thinks.
      await until(() => a.ownership.streams.size === 0, 5_000, 'A to give up its streams')
      expect(new Set(a.released)).toEqual(new Set(keys))
      const stopping = Date.now()
      await a.ownership.stop()
      expect(Date.now() - stopping).toBeLessThan(3_000)
    } finally {
      await proxy.stop()
    }
  })

  it('does not keep the connection whose first query failed', async () => {
    // One connection in the pool: a leaked one would leave none for anyone. A wait_timeout that is not a
    // whole number of seconds is refused by MySQL (ER_WRONG_TYPE_FOR_VAR), failing the connection's first query.
    const one = pool(db.settings.port, 1)
    const a = owner(one, {sessionTimeoutSeconds: 1.5})
    await a.ownership.start(100)
    expect(a.ownership.streams.size).toBe(0)
    await sleep(300)
    await a.ownership.stop()
    const conn = await Promise.race([one.getConnection(), sleep(3_000).then(() => undefined)])
    expect(conn, 'the pool has no connection left').toBeDefined()
    conn?.release()
  })
})
