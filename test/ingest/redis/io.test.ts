import {describe, expect, it} from 'vitest'
import {parseXread} from '../../../src/ingest/redis/io.js'
import {fairShare} from '../../../src/ingest/redis/ownership.js'

describe('an XREAD reply', () => {
  it("becomes each stream's entries with the value of their one field, bytes kept as they are", () => {
    const value = Buffer.from([0x0a, 0xff, 0x00])
    const reply: [Buffer, [Buffer, Buffer[]][]][] = [
      [
        Buffer.from('goal-3{stream}'),
        [
          [Buffer.from('1700000000000-0'), [Buffer.from('message-id'), value]],
          [Buffer.from('1700000000000-1'), [Buffer.from('no-value')]],
        ],
      ],
    ]
    expect(parseXread(reply)).toEqual(
      new Map([
        [
          'goal-3{stream}',
          [
            {id: '1700000000000-0', value},
            {id: '1700000000000-1', value: null},
          ],
        ],
      ]),
    )
    expect(parseXread(null)).toEqual(new Map())
  })
})

describe('the share of streams a replica takes', () => {
  it('is ceil(streams / replicas), all of them alone', () => {
    expect([fairShare(32, 1), fairShare(32, 2), fairShare(32, 3), fairShare(32, 0), fairShare(2, 5)]).toEqual([
      32, 16, 11, 32, 1,
    ])
  })
})
