import {describe, expect, it} from 'vitest'
import type {Queryable} from '../../src/core/db.js'
import {createLogger} from '../../src/core/log.js'
import {currentMonth} from '../../src/core/month.js'
import {KnownUsers, knownUsers, storedKey} from '../../src/ingest/known-users.js'
import {ConsumerMetrics} from '../../src/ingest/metrics.js'
import type {PartitionRef} from '../../src/ingest/offsets.js'

const p0: PartitionRef = {group: 'g', topic: 't', partition: 0}
const p1: PartitionRef = {group: 'g', topic: 't', partition: 1}
const users = (environmentNamespace: string, yearmonth: string, ...list: string[]) => ({
  environmentNamespace,
  yearmonth,
  users: list,
})
/** A database whose stored offsets are these (by partition of topic t), read by certify for partitions not locked. */
const storedIn = (offsets: Record<number, number>): Queryable => ({
  query: (async () => [
    Object.entries(offsets).map(([partition, next]) => ({topic: 't', kafka_partition: partition, next_offset: next})),
    [],
  ]) as unknown as Queryable['query'],
})
const nothingRead: Queryable = {
  query: () => {
    throw new Error('certify read the database although the window locked every partition')
  },
}

function known(month = '202612', limit = 100) {
  let current = month
  const reasons: string[] = []
  const k = new KnownUsers(
    limit,
    () => current,
    (why) => reasons.push(`${why.users}: ${why.reason}`),
  )
  k.refresh()
  return {k, reasons, setMonth: (m: string) => (current = m)}
}

describe('KnownUsers', () => {
  it('knows the users a committed window recorded, in their environment and the current month only', () => {
    const {k} = known()
    k.learn([users('prod', '202612', 'alice'), users('prod', '202611', 'bob')], [{ref: p0, nextOffset: 10}])
    expect(k.has('prod', '202612', 'alice')).toBe(true)
    expect(k.has('dev', '202612', 'alice')).toBe(false)
    expect(k.has('prod', '202611', 'bob')).toBe(false)
    expect(k.count).toBe(1)
  })

  it('forgets everything when the month ends', () => {
    const {k, reasons, setMonth} = known()
    k.learn([users('prod', '202612', 'alice')], [{ref: p0, nextOffset: 10}])
    const generation = k.generation
    setMonth('202701')
    k.refresh()
    expect(reasons).toEqual(['1: the month is now 202701'])
    expect(k.has('prod', '202612', 'alice')).toBe(false)
    expect(k.generation).toBe(generation + 1)
  })

  it('stops learning at its limit, and a limit of 0 learns nothing', () => {
    const {k} = known('202612', 2)
    k.learn([users('prod', '202612', 'a', 'b', 'c')], [])
    expect(k.count).toBe(2)
    expect(k.has('prod', '202612', 'c')).toBe(false)
    const off = new KnownUsers(0, () => '202612')
    off.refresh()
    off.learn([users('prod', '202612', 'a')], [])
    expect(off.has('prod', '202612', 'a')).toBe(false)
  })

  it('holds while MySQL keeps exactly the offsets it stored, read from the window when it locked them all', async () => {
    const {k} = known()
    k.learn([users('prod', '202612', 'alice')], [{ref: p0, nextOffset: 10}])
    k.learn([users('prod', '202612', 'bob')], [{ref: p0, nextOffset: 20}])
    expect(await k.certify(nothingRead, new Map([[storedKey(p0), 20]]))).toBe(true)
    expect(k.has('prod', '202612', 'alice')).toBe(true)
  })

  it('is forgotten when a stored offset is past its own: after a lost window, a move on (a reset, a recorded loss) cannot be told from progress', async () => {
    const {k} = known()
    k.learn([users('prod', '202612', 'alice')], [{ref: p0, nextOffset: 20}])
    expect(await k.certify(nothingRead, new Map([[storedKey(p0), 5000]]))).toBe(false)
    expect(k.has('prod', '202612', 'alice')).toBe(false)
  })

  it('is forgotten when a stored offset is below its own: a failover or restore lost a window it learned from', async () => {
    const {k, reasons} = known()
    k.learn([users('prod', '202612', 'alice')], [{ref: p0, nextOffset: 10}])
    k.learn([users('prod', '202612', 'bob')], [{ref: p0, nextOffset: 20}])
    const generation = k.generation
    expect(await k.certify(nothingRead, new Map([[storedKey(p0), 10]]))).toBe(false)
    expect(reasons).toEqual(["2: MySQL's stored offset of g t:0 is 10, not the 20 this consumer stored"])
    expect(k.has('prod', '202612', 'alice')).toBe(false)
    expect(k.generation).toBe(generation + 1)
  })

  it("reads the offsets of partitions the window did not lock, and a partition's missing row counts as lost", async () => {
    const {k} = known()
    k.learn(
      [users('prod', '202612', 'alice')],
      [
        {ref: p0, nextOffset: 10},
        {ref: p1, nextOffset: 7},
      ],
    )
    expect(await k.certify(storedIn({1: 7}), new Map([[storedKey(p0), 10]]))).toBe(true)
    expect(await k.certify(storedIn({}), new Map([[storedKey(p0), 10]]))).toBe(false)
    expect(k.count).toBe(0)
  })

  it('reports its size and each time it is forgotten in the metrics, and is off at a limit of 0', async () => {
    const metrics = new ConsumerMetrics()
    const deps = {log: createLogger('test', 'silent'), metrics}
    expect(knownUsers(0, 'UTC', deps)).toBeUndefined()
    const k = knownUsers(10, 'UTC', deps)!
    k.refresh()
    k.learn([users('prod', currentMonth('UTC'), 'a', 'b')], [{ref: p0, nextOffset: 5}])
    const value = async (m: typeof metrics.knownUsers | typeof metrics.knownUsersForgotten) =>
      (await m.get()).values[0]?.value
    expect(await value(metrics.knownUsers)).toBe(2)
    await k.certify(nothingRead, new Map([[storedKey(p0), 1]]))
    expect(await value(metrics.knownUsers)).toBe(0)
    expect(await value(metrics.knownUsersForgotten)).toBe(1)
  })
})
