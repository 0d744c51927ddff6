import {describe, expect, it} from 'vitest'
import {nearest} from '../../src/core/not-found.js'

describe('nearest', () => {
  it('finds the command a typo meant, topics included', () => {
    const ids = ['count', 'consume', 'partitions:rotate', 'partitions:list', 'report:send']
    expect(nearest('cuont', ids)).toBe('count')
    expect(nearest('partitions:rotat', ids)).toBe('partitions:rotate')
    expect(nearest('x', [])).toBeUndefined()
  })
})
