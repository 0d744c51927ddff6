import {describe, expect, it} from 'vitest'
import {pieces, textBytes} from '../../src/core/db.js'

describe('pieces', () => {
  it('cuts items into runs under a byte limit, in order, a single oversized item alone', () => {
    expect(pieces([3, 3, 3, 9, 1], (n) => n, 6)).toEqual([[3, 3], [3], [9], [1]])
  })

  it('honours an item limit as well', () => {
    expect(pieces([1, 1, 1, 1, 1], (n) => n, 100, 2)).toEqual([[1, 1], [1, 1], [1]])
  })

  it('gives no runs for no items', () => {
    expect(pieces([], () => 1, 10)).toEqual([])
  })
})

describe('textBytes', () => {
  it('is an upper bound of the escaped UTF-8 of hostile ids (quotes, backslashes, 4-byte characters)', () => {
    for (const id of ["'".repeat(255), '\\'.repeat(255), '😀'.repeat(127), 'é'.repeat(255)]) {
      const escaped = Buffer.byteLength(id.replace(/['\\]/g, (c) => `\\${c}`))
      expect(textBytes(id)).toBeGreaterThanOrEqual(escaped)
    }
  })
})
