import {describe, expect, it} from 'vitest'
import {withCause} from '../../src/report/deliver.js'

describe('withCause', () => {
  it('adds the cause fetch hides behind "fetch failed"', () => {
    const error = new TypeError('fetch failed', {
      cause: Object.assign(new Error('connect ECONNREFUSED 10.0.0.1:443'), {code: 'ECONNREFUSED'}),
    })
    expect(withCause(error)).toBe('fetch failed: connect ECONNREFUSED 10.0.0.1:443')
  })

  it('leaves a message alone that has no cause or already says it', () => {
    expect(withCause(new Error('HTTP 500'))).toBe('HTTP 500')
    expect(withCause(new Error('boom: ETIMEDOUT', {cause: {code: 'ETIMEDOUT'}}))).toBe('boom: ETIMEDOUT')
  })
})
