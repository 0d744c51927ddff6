import {describe, expect, it} from 'vitest'
import type {Db} from '../../src/core/db.js'
import {environmentOf, MonthCounts, only} from '../../src/serve/counts.js'

/** A stand-in for the pool that answers mau_summary reads with `users`, counting the reads. */
function summaryDb(state: {users: number; reads: number; fail?: boolean}): Db {
  return {
    query: async () => {
      state.reads++
      if (state.fail) throw Object.assign(new Error('connect ECONNREFUSED'), {code: 'ECONNREFUSED'})
      return [[{environment_namespace: 'prod', source_id: '', users: state.users, events: 10}]]
    },
  } as unknown as Db
}

describe('MonthCounts', () => {
  it('refreshes a count in the background once it is half the bound old, answering meanwhile from the one it has', async () => {
    const state = {users: 1, reads: 0}
    let now = 0
    const counts = new MonthCounts(summaryDb(state), 5, () => now)
    expect((await counts.month('202212')).value.total.users).toBe(1)
    state.users = 2
    now = 2_499
    expect(await counts.month('202212')).toMatchObject({value: {total: {users: 1}}, ageSeconds: 2.499})
    expect(state.reads).toBe(1)
    now = 2_500
    expect(await counts.month('202212')).toMatchObject({value: {total: {users: 1}}, ageSeconds: 2.5})
    await new Promise((r) => setImmediate(r))
    expect(state.reads).toBe(2)
    now = 2_600
    expect(await counts.month('202212')).toMatchObject({value: {total: {users: 2}}, ageSeconds: 0.1})
  })

  it('never answers with a count as old as the bound: past it, a request waits for MySQL, and fails with it', async () => {
    const state = {users: 1, reads: 0, fail: false}
    let now = 0
    const counts = new MonthCounts(summaryDb(state), 5, () => now)
    await counts.month('202212')
    state.fail = true
    now = 4_999
    expect((await counts.month('202212')).ageSeconds).toBe(4.999)
    await new Promise((r) => setImmediate(r))
    now = 5_000
    await expect(counts.month('202212')).rejects.toMatchObject({code: 'ECONNREFUSED'})
  })

  it('shares one read among the requests that arrive while it runs, and reads every time with a bound of 0', async () => {
    const state = {users: 1, reads: 0}
    const counts = new MonthCounts(summaryDb(state), 5)
    await Promise.all([counts.month('202212'), counts.month('202212'), counts.month('202212')])
    expect(state.reads).toBe(1)
    const uncached = new MonthCounts(summaryDb(state), 0)
    await uncached.month('202212')
    await uncached.month('202212')
    expect(state.reads).toBe(3)
  })

  it('keeps no failed read: the next request asks MySQL again', async () => {
    const state = {users: 1, reads: 0, fail: true}
    const counts = new MonthCounts(summaryDb(state), 5)
    await expect(counts.month('202212')).rejects.toMatchObject({code: 'ECONNREFUSED'})
    state.fail = false
    expect((await counts.month('202212')).value.total.users).toBe(1)
  })
})

describe('environmentOf and only', () => {
  const month = {
    month: '202212',
    environments: [
      {environment_namespace: 'prod', users: 2, events: 5, sources: []},
      {environment_namespace: 'dev', users: 1, events: 1, sources: []},
    ],
    total: {users: 3, events: 6},
  }

  it('answers zeros for an environment without events', () => {
    expect(environmentOf(month, 'prod')).toMatchObject({users: 2, events: 5})
    expect(environmentOf(month, 'prod ')).toEqual({environment_namespace: 'prod ', users: 0, events: 0, sources: []})
  })

  it('narrows to the environments asked for, with their total', () => {
    expect(only(month, ['dev'])).toEqual({
      month: '202212',
      environments: [month.environments[1]],
      total: {users: 1, events: 1},
    })
    expect(only(month, [])).toBe(month)
  })
})
