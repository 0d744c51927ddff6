import {describe, expect, it} from 'vitest'
import type {BackfillResult} from '../../src/druid/backfill.js'
import {backfillReport, toVerifyCsv, verifyReport} from '../../src/druid/format.js'
import type {VerifyResult} from '../../src/druid/verify.js'

const result: VerifyResult = {
  month: '202212',
  timezone: 'UTC',
  window: {from: '2022-12-01T00:00:00.000Z', to: '2023-01-01T00:00:00.000Z'},
  approximate: false,
  tolerancePercent: 0,
  ok: false,
  verdict: 'mismatch',
  mismatches: 1,
  rows: [
    {
      environment_namespace: 'prod',
      source_id: '',
      druid: {users: 2, events: 5},
      mysql: {users: 2, events: 5},
      difference: {users: 0, events: 0},
      percent: {users: 0, events: 0},
      verdict: 'match',
    },
    {
      environment_namespace: 'prod',
      source_id: 'IOS',
      druid: {users: 4, events: 8},
      mysql: {users: 3, events: 8},
      difference: {users: -1, events: 0},
      percent: {users: -25, events: 0},
      verdict: 'mismatch',
      onlyInDruid: ['u-9', 'a '],
      onlyInMysql: ['a'],
    },
    {
      environment_namespace: 'dev',
      source_id: '',
      druid: null,
      mysql: {users: 1, events: 1},
      difference: {users: 1, events: 1},
      percent: {users: null, events: null},
      verdict: 'only-in-mysql',
    },
  ],
  caveats: ['a caveat'],
}

describe('toVerifyCsv', () => {
  it('has one line per verified line, with empty cells where a side has nothing', () => {
    expect(toVerifyCsv(result).split('\n')).toEqual([
      'month,environment_namespace,source_id,druid_users,mysql_users,users_diff,users_diff_pct,druid_events,mysql_events,events_diff,events_diff_pct,verdict',
      '202212,prod,,2,2,0,0,5,5,0,0,match',
      '202212,prod,IOS,4,3,-1,-25,8,8,0,0,mismatch',
      '202212,dev,,,1,1,,,1,1,,only-in-mysql',
      '',
    ])
  })
})

describe('verifyReport', () => {
  it('states the window, each line with its verdict, the one-sided users, the caveats and a FAIL line', () => {
    const out = verifyReport(result)
    expect(out.split('\n')[0]).toBe(
      '202212 in UTC, 2022-12-01T00:00:00.000Z to 2023-01-01T00:00:00.000Z; distinct users exact',
    )
    expect(out).toMatch(/prod.*IOS.*4.*8.*3.*8.*-1 -25%.*mismatch/)
    expect(out).toMatch(/dev.*all.*-.*-.*1.*1.*only-in-mysql/)
    expect(out).toContain('only in Druid (prod/IOS): "u-9", "a "')
    expect(out).toContain('only in MySQL (prod/IOS): "a"')
    expect(out).toContain('note: a caveat')
    expect(out.split('\n').at(-1)).toBe('FAIL: 1 of 3 lines differ.')
  })

  it('ends with PASS when every line agrees', () => {
    expect(
      verifyReport({...result, ok: true, mismatches: 0, rows: [result.rows[0]!], caveats: []})
        .split('\n')
        .at(-1),
    ).toBe('PASS: 1 lines agree.')
  })
})

describe('verifyReport while both sides ingest', () => {
  const inFlightLine = {
    ...result.rows[1]!,
    verdict: 'in-flight' as const,
    inFlight: {events: 40, users: 12},
    onlyInDruid: undefined,
    onlyInMysql: undefined,
  }
  const partitions = [{partition: 0, mysql: {before: 100, after: 120}, druid: {before: 90, after: 130}}]

  it('passes a line the messages in flight explain, and says where each side stood', () => {
    const out = verifyReport({
      ...result,
      ok: true,
      verdict: 'in-flight',
      mismatches: 0,
      rows: [result.rows[0]!, inFlightLine],
      caveats: [],
      inFlight: {topic: 'user-events', messages: 1234, events: 1200, partitions},
    })
    expect(out).toMatch(/prod.*IOS.*in-flight/)
    expect(out).toContain(
      'in flight on user-events: 1,234 messages between the sides, 1,200 events of them in the window (partition 0: MySQL 100..120, Druid 90..130)',
    )
    expect(out.split('\n').at(-1)).toBe(
      'PASS (in flight): 1 of 2 lines differ only by messages one side has not applied yet.',
    )
  })

  it('names the users no message in flight explains', () => {
    const failed = {...inFlightLine, verdict: 'mismatch' as const, notInFlight: ['quiet-7']}
    const out = verifyReport({
      ...result,
      rows: [failed],
      caveats: [],
      inFlight: {topic: 'user-events', messages: 10, events: 10, partitions},
    })
    expect(out).toContain('not explained by the messages in flight (prod/IOS): "quiet-7"')
    expect(out.split('\n').at(-1)).toBe('FAIL: 1 of 1 lines differ.')
  })
})

describe('backfillReport', () => {
  it('shows each environment and the total, and the first rejection of an environment', () => {
    const r: BackfillResult = {
      month: '202211',
      timezone: 'UTC',
      mode: 'replace',
      window: {from: 'a', to: 'b'},
      environments: [
        {
          environment_namespace: 'prod',
          outcome: 'replaced',
          rows: 3,
          events: 9,
          rejected: 1,
          firstRejection: 'user_id is "": expected a non-empty string',
        },
      ],
      total: {rows: 3, events: 9, rejected: 1},
    }
    const out = backfillReport(r)
    expect(out.split('\n')[0]).toBe('202211 (replace) from a to b')
    expect(out).toMatch(/prod.*replaced.*3.*9.*1/)
    expect(out).toMatch(/total.*3.*9.*1/)
    expect(out.split('\n').at(-1)).toBe('rejected in prod: user_id is "": expected a non-empty string')
  })
})
