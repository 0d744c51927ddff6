/**
 * A rolling upgrade from the previous release (mau 0.1.0, schema 8) under traffic, and a rollback, every
 * workload as its role's own MySQL user. 0.1.0 migrated and granted each role (its own `db grants`); its
 * consumer runs while events arrive; this version migrates; its consumer joins the same group and the old
 * one stops; then the rollback: the old version's `db migrate` on the newer schema, and its consumer back
 * on it. The counts are exact, and with no step but the migration each role holds exactly its rights in
 * this version (`doctor --role`, run as that role's user, exits 0).
 */
import type {ChildProcess} from 'node:child_process'
import {randomBytes} from 'node:crypto'
import mysql from 'mysql2/promise'
import {afterAll, beforeAll, describe, expect, it} from 'vitest'
import {ROLE_NAMES, type RoleName} from '../../src/core/roles.js'
import {encode, type Truth} from '../fixtures/events.js'
import {DECEMBER_2022, eventsApplied, generate, produce, query, readRows} from '../fixtures/mau.js'
import {createTestDatabase, createTopic, groupOf, LATEST_VERSION, type TestDatabase} from '../fixtures/services.js'
import {exited} from '../helpers/child.js'
import {mauAt, PREVIOUS, previousVersion, startAt} from '../helpers/previous-version.js'

const PARTITIONS = 3
let previous: string
let db: TestDatabase
let topic: {topic: string; drop: () => Promise<void>}
const suffix = randomBytes(3).toString('hex')
const users = Object.fromEntries(
  ROLE_NAMES.map((r) => [
    r,
    {user: `mau_up_${r.slice(0, 4)}_${suffix}`, password: `pw-${randomBytes(8).toString('hex')}`},
  ]),
) as Record<RoleName, {user: string; password: string}>
const started: {child: ChildProcess}[] = []

/** A role's environment in a pod: its user in the URL, its password from the environment. */
const as = (r: RoleName | 'admin'): Record<string, string> =>
  r === 'admin'
    ? {MAU_MYSQL_URL: db.url}
    : {MAU_MYSQL_URL: db.url.replace('//root@', `//${users[r].user}@`), MAU_MYSQL_PASSWORD: users[r].password}

beforeAll(async () => {
  previous = previousVersion()
  db = await createTestDatabase()
  topic = await createTopic(PARTITIONS)
})
afterAll(async () => {
  for (const s of started) if (s.child.exitCode === null && s.child.signalCode === null) s.child.kill('SIGKILL')
  await topic?.drop()
  const conn = await mysql.createConnection({host: db.settings.host, port: db.settings.port, user: 'root'})
  for (const {user} of Object.values(users)) await conn.query(`DROP USER IF EXISTS '${user}'@'%'`)
  await conn.end()
  await db?.drop()
})

/** Events produced in batches until stopped, all added to one ground truth. */
function traffic(truth: Truth) {
  let stop = false
  let seed = 1000
  const running = (async () => {
    while (!stop) {
      const {events} = generate({events: 300, users: 1500, namespaces: 3, seed: seed++, ...DECEMBER_2022})
      await produce(
        topic.topic,
        events.map((e) => encode(e, 'json')),
        PARTITIONS,
      )
      for (const e of events) truth.add(e)
      await new Promise((r) => setTimeout(r, 100))
    }
  })()
  return async () => {
    stop = true
    await running
  }
}

const until = async (what: () => Promise<boolean>, ms = 60_000) => {
  for (const end = Date.now() + ms; !(await what());) {
    if (Date.now() > end) throw new Error('timed out waiting')
    await new Promise((r) => setTimeout(r, 100))
  }
}

describe(`a rolling upgrade from mau ${PREVIOUS.version} (schema ${PREVIOUS.schema}) under traffic, and back`, () => {
  it('counts every event once, and leaves each role exactly its rights in this version with no step but the migration', async () => {
    // 0.1.0 installed as its set-up Job does: the schema, then one user per role.
    const installed = await mauAt(previous, ['db', 'migrate', '--json'], as('admin'))
    expect([installed.code, JSON.parse(installed.stdout).version]).toEqual([0, PREVIOUS.schema])
    await query(db.settings, "UPDATE mau_setting SET value = '120' WHERE name = 'retain_months'")
    const granted = await Promise.all(
      ROLE_NAMES.map((r) =>
        mauAt(previous, ['db', 'grants', '--role', r, '--user', users[r].user, '--apply', '--json'], {
          ...as('admin'),
          MAU_GRANTS_PASSWORD: users[r].password,
        }),
      ),
    )
    expect(granted.map((g) => g.code)).toEqual(ROLE_NAMES.map(() => 0))

    const {events: first, truth} = generate({events: 3000, users: 1500, namespaces: 3, seed: 7, ...DECEMBER_2022})
    await produce(
      topic.topic,
      first.map((e) => encode(e, 'json')),
      PARTITIONS,
    )
    const consume = ['consume', '--topic', topic.topic, '--group', groupOf(topic.topic), '--session-timeout', '10']
    const old = startAt(previous, consume, as('consumer'))
    started.push(old)
    await old.logged('joined consumer group')
    const stopTraffic = traffic(truth)
    await until(async () => (await eventsApplied(db.settings)) > 0)

    // The new image's init container: this version's migration (0.1.0's operator may not grant: an administrator's, once).
    const migrated = await mauAt('.', ['db', 'migrate', '--json'], as('admin'))
    expect(migrated.code).toBe(0)
    const upgrade = JSON.parse(migrated.stdout)
    expect(upgrade.version).toBe(LATEST_VERSION)
    expect(upgrade.roles.adopted.map((a: {role: string}) => a.role).sort()).toEqual([...ROLE_NAMES].sort())

    const next = startAt('.', consume, as('consumer'))
    started.push(next)
    await next.logged('joined consumer group')
    old.child.kill('SIGTERM')
    expect((await exited(old.child)).code).toBe(0)

    // The rollback: the old version's migration on the newer schema changes nothing; its consumer comes back.
    const rolledBack = await mauAt(previous, ['db', 'migrate', '--json'], as('operator'))
    expect([rolledBack.code, JSON.parse(rolledBack.stdout || '{}').applied]).toEqual([0, []])
    const back = startAt(previous, consume, as('consumer'))
    started.push(back)
    await back.logged('joined consumer group')
    next.child.kill('SIGTERM')
    expect((await exited(next.child)).code).toBe(0)

    await stopTraffic()
    await until(async () => (await eventsApplied(db.settings)) === truth.events)
    back.child.kill('SIGTERM')
    expect((await exited(back.child)).code).toBe(0)
    expect(await readRows(db.settings)).toEqual(truth.rows)
    expect(truth.events).toBeGreaterThan(first.length)

    // Rolled forward again, as the operator now: it may grant (its role has GRANT OPTION in this version).
    const forward = await mauAt('.', ['db', 'migrate', '--json'], as('operator'))
    expect([forward.code, JSON.parse(forward.stdout).roles.granted.length]).toEqual([0, ROLE_NAMES.length])
    const [counted, ...doctors] = await Promise.all([
      mauAt('.', ['count', '--month', '202212', '--json'], as('auditor')),
      ...ROLE_NAMES.map((r) => mauAt('.', ['doctor', '--role', r, '--topic', topic.topic, '--json'], as(r))),
    ])
    expect(
      doctors.map((d, i) => [ROLE_NAMES[i], d.code, JSON.parse(d.stdout).checks.filter((c: {ok: boolean}) => !c.ok)]),
    ).toEqual(ROLE_NAMES.map((r) => [r, 0, []]))
    const distinct = new Set([...truth.rows.keys()].map((k) => `${k.split('|')[0]}|${k.split('|')[3]}`)).size
    expect(JSON.parse(counted.stdout).total).toEqual({users: distinct, events: truth.events})
  })
})
