import {createHash} from 'node:crypto'
import {describe, expect, it} from 'vitest'
import {MonthResolver} from '../../src/core/month.js'
import {aggregate, deadLettersOf, firstFresh, prepareBatch} from '../../src/ingest/batch.js'
import {decodeJson} from '../../src/ingest/decode.js'

const DEC = Date.UTC(2022, 11, 5) / 1000
const NOW = Date.UTC(2022, 11, 20) / 1000
const msg = (offset: number, e: Record<string, unknown> | string | null) => ({
  offset: String(offset),
  value: e === null ? null : Buffer.from(typeof e === 'string' ? e : JSON.stringify(e)),
})
const ev = (ns: string, user: string, source: string, seen = DEC) => ({
  environment_namespace: ns,
  user_id: user,
  source_id: source,
  last_seen: seen,
})

describe('prepareBatch', () => {
  it('keeps every offset, the accepted events by column, and the rejected ones with their bytes', () => {
    const b = prepareBatch([msg(10, ev('prod', 'u1', 'IOS')), msg(11, '{oops'), msg(13, null)], decodeJson, NOW)
    expect(b).toMatchObject({firstOffset: 10, lastOffset: 13, namespaces: ['prod', '', ''], users: ['u1', '', '']})
    expect([...b.offsets]).toEqual([10, 11, 13])
    expect(b.deadLetters.map((d) => [d.offset, d.rejection.code, d.payload?.toString()])).toEqual([
      [11, 'decode', '{oops'],
      [13, 'decode', undefined],
    ])
  })

  it("keeps at most the dead-letter limit of a rejected message, with the whole one's length and SHA-256", () => {
    const big = Buffer.alloc(100_000, 0x78)
    const [letter] = prepareBatch([{offset: '4', value: big}], decodeJson, NOW, 1000).deadLetters
    expect(letter!.payload).toEqual(big.subarray(0, 1000))
    expect(letter!.bytes).toBe(100_000)
    expect(letter!.sha256!.toString('hex')).toBe(createHash('sha256').update(big).digest('hex'))
    expect(letter!.payload!.buffer).not.toBe(big.buffer)
  })
})

describe('firstFresh and deadLettersOf', () => {
  const b = prepareBatch(
    [msg(10, '{bad'), msg(12, ev('prod', 'u', 'WEB')), msg(15, '{bad'), msg(16, ev('prod', 'u', 'WEB'))],
    decodeJson,
    NOW,
  )

  it('find the first message not applied yet, across gaps in the offsets', () => {
    expect([firstFresh(b, 0), firstFresh(b, 11), firstFresh(b, 15), firstFresh(b, 17)]).toEqual([0, 1, 2, 4])
  })

  it('keep only the rejected messages from there on', () => {
    expect(deadLettersOf({batch: b, from: 2}).map((d) => d.offset)).toEqual([15])
  })
})

describe('aggregate', () => {
  it('sums events per environment, month, source and user across batches, sorted by that key', () => {
    const months = new MonthResolver('UTC')
    const a = prepareBatch(
      [msg(0, ev('prod', 'bob', 'IOS')), msg(1, ev('dev', 'amy', 'WEB')), msg(2, ev('prod', 'bob', 'IOS', DEC + 60))],
      decodeJson,
      NOW,
    )
    const b = prepareBatch(
      [
        msg(0, ev('prod', 'amy', 'IOS')),
        msg(1, ev('prod', 'bob', 'IOS', DEC - 60)),
        msg(2, ev('prod', 'bob', 'IOS', Date.UTC(2022, 10, 30) / 1000)),
      ],
      decodeJson,
      NOW,
    )
    const rows = aggregate(
      [
        {batch: a, from: 0},
        {batch: b, from: 1},
      ],
      months,
    )
    expect(
      rows.map((r) => [
        r.environmentNamespace,
        r.yearmonth,
        r.sourceId,
        r.userId,
        r.count,
        r.firstSeen - DEC,
        r.lastSeen - DEC,
      ]),
    ).toEqual([
      ['dev', '202212', 'WEB', 'amy', 1, 0, 0],
      ['prod', '202211', 'IOS', 'bob', 1, Date.UTC(2022, 10, 30) / 1000 - DEC, Date.UTC(2022, 10, 30) / 1000 - DEC],
      ['prod', '202212', 'IOS', 'bob', 3, -60, 60],
    ])
  })

  it('orders rows as their joined keys sort, so every transaction locks rows in one order', () => {
    const months = new MonthResolver('UTC')
    const ids = ['b', 'a', 'ab', 'a\u00e9', 'A', '10', '9']
    const batch = prepareBatch(
      ids.flatMap((u, i) => [msg(2 * i, ev('p', u, 'IOS')), msg(2 * i + 1, ev('p2', u, 'WEB'))]),
      decodeJson,
      NOW,
    )
    const keys = aggregate([{batch, from: 0}], months).map(
      (r) => `${r.environmentNamespace}\u0000${r.yearmonth}\u0000${r.sourceId}\u0000${r.userId}`,
    )
    expect(keys).toEqual([...keys].sort())
  })
})
