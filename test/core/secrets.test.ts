import {describe, expect, it} from 'vitest'
import {redact, registerSecret} from '../../src/core/secrets.js'

describe('redact', () => {
  it('hides URL passwords and registered secrets anywhere in a text', () => {
    registerSecret('webhook-signing-key')
    expect(redact('failed mysql://u:pw@h/db and key webhook-signing-key')).toBe('failed mysql://u:***@h/db and key ***')
  })

  it('leaves the URL pattern of a help text as it is', () => {
    expect(redact('expected mysql://user[:password]@host[:port]/database.')).toBe(
      'expected mysql://user[:password]@host[:port]/database.',
    )
    expect(redact('Invalid "mysql://u:p[w@h/db"')).toBe('Invalid "mysql://u:***@h/db"')
  })
})
