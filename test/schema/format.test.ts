import {describe, expect, it} from 'vitest'
import {describeRange, migrateReport, partitionsReport, rotateReport, statusReport} from '../../src/schema/format.js'
import {plan} from '../../src/schema/partitions.js'
import type {PartitionInfo} from '../../src/schema/rotate.js'

const NONE = {granted: [], adopted: [], gone: []}
const part = (name: string, from: string | null, lessThan: string): PartitionInfo => ({
  name,
  month: null,
  lessThan,
  rows: 0,
  bytes: 0,
  from,
  months: [],
  next: 'keep',
})

describe('describeRange', () => {
  it('names one month, a span, everything before a bound, and the catch-all', () => {
    expect(describeRange(part('p202212', '202212', '202301'))).toBe('202212')
    expect(describeRange(part('p202303', '202301', '202304'))).toBe('202301 .. 202303')
    expect(describeRange(part('pold', null, '202212'))).toBe('before 202212')
    expect(describeRange(part('pmax', '202304', 'MAXVALUE'))).toBe('202304 and later')
    expect(describeRange(part('pmax', null, 'MAXVALUE'))).toBe('all')
  })
})

describe('migrateReport and statusReport', () => {
  it('lists what was applied with zero-padded versions, or says the schema is current', () => {
    expect(
      migrateReport({
        database: 'mau',
        applied: [],
        version: 5,
        latest: 5,
        partitionsCreated: [],
        notes: [],
        roles: NONE,
      }),
    ).toBe('Schema is up to date at version 5.')
    expect(
      migrateReport({
        database: 'mau',
        applied: [{version: 6, name: 'exact-ids'}],
        version: 6,
        latest: 6,
        partitionsCreated: ['p202212'],
        notes: [{version: 6, note: '2 rows'}],
        roles: NONE,
      }),
    ).toBe('applied 006 exact-ids\ncreated partitions p202212\nnote from 006: 2 rows')
  })

  it("names the role accounts given this version's rights, those recorded on the way, those gone, or why none was touched", () => {
    const consumer = {user: 'mau_consumer', host: '%', role: 'consumer' as const}
    const server = {user: 'mau_server', host: '10.0.%', role: 'server' as const}
    expect(
      migrateReport({
        database: 'mau',
        applied: [],
        version: 10,
        latest: 10,
        partitionsCreated: [],
        notes: [],
        roles: {granted: [consumer, server], adopted: [server], gone: [{...consumer, user: 'old'}]},
      }),
    ).toBe(
      [
        'Schema is up to date at version 10.',
        "recorded as their roles' (they held exactly an earlier version's rights): mau_server@10.0.% (server)",
        'rights of this version given to mau_consumer@% (consumer), mau_server@10.0.% (server)',
        'recorded accounts that no longer exist, left alone: old@% (consumer)',
      ].join('\n'),
    )
    expect(
      migrateReport({
        database: 'mau',
        applied: [],
        version: 11,
        latest: 10,
        partitionsCreated: [],
        notes: [],
        roles: {...NONE, skipped: 'newer'},
      }),
    ).toBe('Schema is up to date at version 11.\nrole rights unchanged: newer')
  })

  it('names pending and edited migrations', () => {
    const out = statusReport({
      database: 'mau',
      version: 3,
      latest: 5,
      pending: [{version: 4, name: 'report-delivery'}],
      edited: [{version: 2, name: 'consumer-state'}],
    })
    expect(out).toBe(
      'database mau: version 3 of 5\npending 004 report-delivery\nEDITED  002 consumer-state (changed after it was applied)',
    )
  })
})

describe('rotateReport and partitionsReport', () => {
  const existing = [
    {name: 'p202212', month: '202212', lessThan: '202301', rows: 10, bytes: 2 * 1024 * 1024},
    {name: 'pmax', month: null, lessThan: 'MAXVALUE', rows: 0, bytes: 0},
  ]
  const p = plan({existing, current: '202212', aheadMonths: 1, retainMonths: 13})

  const deadLetters = (deleted: number) => ({retentionDays: 90, before: '2022-09-03T00:00:00.000Z', deleted})

  it('says there is nothing to do, or prints the SQL of a dry run, or each statement run with its time', () => {
    expect(
      rotateReport({
        dryRun: false,
        plan: {...p, actions: []},
        statements: [],
        keptTotals: [],
        executed: [],
        deadLetters: deadLetters(0),
      }),
    ).toMatch(/^Nothing to do: 202212 and the coming months have partitions/)
    expect(
      rotateReport({
        dryRun: true,
        plan: p,
        statements: ['ALTER TABLE mau X'],
        keptTotals: ['202110'],
        executed: [],
        deadLetters: deadLetters(0),
      }),
    ).toBe(
      'ALTER TABLE mau X;\n-- would keep the totals of 202110 (mau_month_total) before dropping their rows\n-- would delete 0 dead letters set aside before 2022-09-03T00:00:00.000Z (retention: 90 days)',
    )
    expect(
      rotateReport({
        dryRun: false,
        plan: p,
        statements: ['S'],
        keptTotals: [],
        executed: [{kind: 'split', sql: 'S', rows: 7, ms: 12}],
        deadLetters: deadLetters(1),
      }),
    ).toBe(
      'split 12 ms (~7 rows): S\ndeleted 1 dead letter set aside before 2022-09-03T00:00:00.000Z (retention: 90 days)',
    )
  })

  it('says how many dead letters past their retention it deleted, or would delete', () => {
    const none = {plan: {...p, actions: []}, statements: [], keptTotals: [], executed: []}
    expect(rotateReport({...none, dryRun: false, deadLetters: deadLetters(12_345)})).toContain(
      '\ndeleted 12,345 dead letters set aside before 2022-09-03T00:00:00.000Z (retention: 90 days)',
    )
    expect(rotateReport({...none, dryRun: true, deadLetters: deadLetters(2)})).toContain(
      '\n-- would delete 2 dead letters set aside before',
    )
  })

  it('shows each partition with its months, size in MB and what the next rotate does', () => {
    const out = partitionsReport({
      plan: p,
      keptTotals: ['202110'],
      partitions: [
        {...existing[0]!, from: null, months: ['202210', '202212'], next: 'keep'},
        {...existing[1]!, from: '202301', months: [], next: 'split'},
      ],
    })
    expect(out).toMatch(/p202212.*before 202301.*202210, 202212.*10.*2\.0.*keep/)
    expect(out).toContain('next rotate keeps the totals of 202110 and drops their rows')
    expect(out).toMatch(/pmax.*202301 and later.*split/)
    expect(out).toMatch(/next rotate creates: p202301\n/)
  })
})
