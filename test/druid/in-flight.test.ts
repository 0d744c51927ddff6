import {describe, expect, it} from 'vitest'
import {InFlight, inFlightRange, type PartitionBounds} from '../../src/druid/in-flight.js'
import type {VerifyRow} from '../../src/druid/verify.js'

const ev = (user: string, sourceId = 'IOS', env = 'prod') => ({
  environmentNamespace: env,
  userId: user,
  sourceId,
  lastSeen: 1_700_000_000,
})

/** A line MySQL minus Druid, with its one-sided users. */
function row(
  diff: {users: number; events: number},
  o: {source?: string; onlyInMysql?: string[]; onlyInDruid?: string[]} = {},
): VerifyRow {
  return {
    environment_namespace: 'prod',
    source_id: o.source ?? 'IOS',
    druid: {users: 100, events: 1000},
    mysql: {users: 100 + diff.users, events: 1000 + diff.events},
    difference: diff,
    percent: {users: null, events: null},
    verdict: 'mismatch',
    onlyInMysql: o.onlyInMysql ?? [],
    onlyInDruid: o.onlyInDruid ?? [],
  }
}

/** MySQL at 110 (before and after), Druid at least 100 and at most 100 (a side that stands still). */
const mysqlAhead: PartitionBounds = {mysql: {before: 110, after: 110}, druid: {before: 100, after: 100}}

describe('inFlightRange', () => {
  it('reads from the lower position before to the higher after', () => {
    expect(inFlightRange({mysql: {before: 50, after: 60}, druid: {before: 40, after: 90}})).toEqual({from: 40, to: 90})
    expect(inFlightRange(mysqlAhead)).toEqual({from: 100, to: 110})
  })
})

describe('InFlight', () => {
  it('explains MySQL ahead by exactly the events and new users it has applied and Druid has not', () => {
    const lines = [row({users: 2, events: 10}, {onlyInMysql: ['a', 'b']})]
    const f = new InFlight(new Map([[0, mysqlAhead]]), lines)
    for (let o = 100; o < 110; o++) f.add(0, o, ev(o < 105 ? 'a' : 'b'))
    expect(f.explain(lines[0]!)).toEqual({explained: true, events: 10, users: 2, notInFlight: []})
  })

  it('does not explain one event more than the messages between the sides', () => {
    const line = row({users: 2, events: 11}, {onlyInMysql: ['a', 'b']})
    const f = new InFlight(new Map([[0, mysqlAhead]]), [line])
    for (let o = 100; o < 110; o++) f.add(0, o, ev(o < 105 ? 'a' : 'b'))
    expect(f.explain(line).explained).toBe(false)
  })

  it('names a user on one side only whom no message between the sides carries, even when the events add up', () => {
    const line = row({users: 0, events: 9}, {onlyInDruid: ['lost'], onlyInMysql: ['a']})
    const f = new InFlight(new Map([[0, mysqlAhead]]), [line])
    for (let o = 100; o < 110; o++) f.add(0, o, ev('a'))
    expect(f.explain(line)).toMatchObject({explained: false, notInFlight: ['lost']})
  })

  it('does not let a message Druid may have applied explain a user only in MySQL', () => {
    // Druid stands anywhere from 100 to 120 (its status is stale); MySQL at 110. A user at offset 115 can be
    // in Druid only, never in MySQL only.
    const b: PartitionBounds = {mysql: {before: 110, after: 110}, druid: {before: 100, after: 120}}
    const onlyMysql = row({users: 1, events: 0}, {onlyInMysql: ['late']})
    const f = new InFlight(new Map([[0, b]]), [onlyMysql])
    f.add(0, 115, ev('late'))
    expect(f.explain(onlyMysql)).toMatchObject({explained: false, notInFlight: ['late']})
    const onlyDruid = row({users: -1, events: -1}, {onlyInDruid: ['late']})
    const g = new InFlight(new Map([[0, b]]), [onlyDruid])
    g.add(0, 115, ev('late'))
    expect(g.explain(onlyDruid).explained).toBe(true)
  })

  it('bounds the events by where each side may stand: a side behind can be behind by none, some or all of the range', () => {
    const b: PartitionBounds = {mysql: {before: 100, after: 104}, druid: {before: 102, after: 110}}
    const line = (events: number) => row({users: 0, events})
    const judged = (events: number) => {
      const l = line(events)
      const f = new InFlight(new Map([[0, b]]), [l])
      for (let o = 100; o < 110; o++) f.add(0, o, ev('a'))
      return f.explain(l).explained
    }
    // MySQL counted 0..4 of the range, Druid 2..10: the difference lies in [0 - 10, 4 - 2].
    expect([-11, -10, 2, 3].map(judged)).toEqual([false, true, true, false])
  })

  it('counts an event on its source line and on its environment line, and ignores other environments and undecodable messages', () => {
    const source = row({users: 1, events: 1}, {onlyInMysql: ['a']})
    const all = row({users: 1, events: 1}, {source: '', onlyInMysql: ['a']})
    const f = new InFlight(new Map([[0, mysqlAhead]]), [source, all])
    f.add(0, 100, ev('a'))
    f.add(0, 101, ev('x', 'IOS', 'dev'))
    f.add(0, 102, undefined)
    expect(f.explain(source).explained).toBe(true)
    expect(f.explain(all)).toMatchObject({explained: true, events: 1, users: 1})
    expect([f.messages, f.events]).toEqual([3, 2])
  })

  it("judges the messages of each partition by that partition's positions", () => {
    const line = row({users: 0, events: 1})
    const f = new InFlight(
      new Map([
        [0, mysqlAhead],
        [1, {mysql: {before: 7, after: 7}, druid: {before: 7, after: 7}}],
      ]),
      [line],
    )
    f.add(1, 5, ev('a'))
    expect(f.explain(line).explained).toBe(false)
    f.add(0, 105, ev('a'))
    expect(f.explain(line).explained).toBe(true)
  })
})
