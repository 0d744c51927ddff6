import {describe, expect, it} from 'vitest'
import {csvLine} from '../../src/core/render.js'

describe('csvLine', () => {
  it('quotes only fields that need it, doubling quotes', () => {
    expect(csvLine(['plain', 3, 'a,b', 'say "hi"', 'two\nlines', ''])).toBe('plain,3,"a,b","say ""hi""","two\nlines",')
  })
})
