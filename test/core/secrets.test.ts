import {describe, expect, it} from 'vitest'
import {redact, registerSecret} from '../../src/core/secrets.js'

describe('redact', () => {
  it('hides URL passwords and registered secrets anywhere in a text', () => {
    registerSecret('webhook-signing-key')
    expect(redact('failed mysql://u:pw@h/db and key webhook-signing-key')).toBe('failed mysql://u:***@h/db and key ***')
  })
})
