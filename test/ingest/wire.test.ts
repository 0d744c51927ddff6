import {describe, expect, it} from 'vitest'
import {readFields, scan, WireError} from '../../src/ingest/wire.js'

const fields = (bytes: number[]) => {
  const seen: [number, number, number | string | undefined][] = []
  scan(Buffer.from(bytes), (n, f) => seen.push([n, f.wire, f.bytes ? f.bytes.toString() : f.varint]))
  return seen
}

describe('scan', () => {
  it('reads varints (a negative int64 as negative), skips fixed-size fields, and views length-delimited bytes', () => {
    const minusOne = [0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01]
    expect(
      fields([
        0x08,
        0x96,
        0x01,
        0x10,
        ...minusOne,
        0x19,
        1,
        2,
        3,
        4,
        5,
        6,
        7,
        8,
        0x22,
        2,
        0x68,
        0x69,
        0x2d,
        1,
        2,
        3,
        4,
      ]),
    ).toEqual([
      [1, 0, 150],
      [2, 0, -1],
      [3, 1, 0],
      [4, 2, 'hi'],
      [5, 5, 0],
    ])
  })

  it.each([
    [[0x08], /truncated varint at byte 1/],
    [[0x22, 5, 0x61], /field 4 claims 5 bytes at byte 0, past the end \(3\)/],
    [[0x0b], /field 1 has wire type 3 at byte 0/],
    [[0x00, 0x01], /field number 0 at byte 0/],
  ])('refuses bytes that are not a message: %j', (bytes, message) => {
    expect(() => fields(bytes)).toThrow(WireError)
    expect(() => fields(bytes)).toThrow(message)
  })
})

describe('readFields', () => {
  const specs = [
    {name: 'id', number: 1, wire: 2, text: true},
    {name: 'n', number: 2, wire: 0, text: false},
  ]

  it('keeps the named fields, the last occurrence winning, and skips the others', () => {
    expect(readFields(specs, Buffer.from([0x0a, 1, 0x61, 0x18, 5, 0x0a, 1, 0x62, 0x10, 7]), 'M')).toEqual({
      id: 'b',
      n: 7,
    })
  })

  it('names a field with the wrong wire type, and text that is not UTF-8', () => {
    expect(() => readFields(specs, Buffer.from([0x08, 1]), 'M')).toThrow(
      'M.id (field 1) is a varint: expected length-delimited',
    )
    expect(() => readFields(specs, Buffer.from([0x0a, 2, 0xff, 0xfe]), 'M')).toThrow(
      'M.id (field 1) is not valid UTF-8',
    )
  })
})
