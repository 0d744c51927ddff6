import {describe, expect, it} from 'vitest'
import {configError, errorDocument, renderError} from '../../src/core/errors.js'
import {wantsJson} from '../../src/core/exit.js'

describe('errorDocument', () => {
  it('carries code, message, exit code and suggestions of a mau error', () => {
    const doc = errorDocument(configError('Invalid month "2025": expected YYYYMM.', ['Pass --month 202511.']))
    expect(doc).toEqual({
      error: {
        code: 'BAD_CONFIG',
        message: 'Invalid month "2025": expected YYYYMM.',
        exitCode: 2,
        suggestions: ['Pass --month 202511.'],
      },
    })
  })

  it("makes an oclif parse error bad input (exit 2, BAD_FLAGS) and drops oclif's wrapping", () => {
    const parse = Object.assign(new Error('Parsing --month \n\tExpected an integer\nSee more help with --help'), {
      parse: {},
    })
    expect(errorDocument(parse).error).toMatchObject({code: 'BAD_FLAGS', message: 'Expected an integer', exitCode: 2})
    expect(errorDocument(parse).error.suggestions[0]).toMatch(/--help/)
  })

  it("calls another exit-2 refusal of oclif's BAD_INPUT", () => {
    expect(
      errorDocument(Object.assign(new Error('Command nosuch not found.'), {oclif: {exit: 2}})).error,
    ).toMatchObject({code: 'BAD_INPUT', exitCode: 2})
  })

  it('gives an unexpected error code FAILED and exit 1', () => {
    expect(errorDocument(new TypeError('boom')).error).toEqual({
      code: 'FAILED',
      message: 'boom',
      exitCode: 1,
      suggestions: [],
    })
  })
})

describe('renderError', () => {
  it('starts with "Error:" and never with a class name', () => {
    const out = renderError(errorDocument(configError('Bad value "x".', ['Do y.'])), false)
    expect(out).toBe('Error: Bad value "x".\nCode: BAD_CONFIG\nTry: Do y.')
  })

  it('shows terminal escapes quoted from bad input as text, line by line', () => {
    const out = renderError(
      errorDocument(configError('No events for environment "a\u001b[2J".\nSecond line.', ['Try "\u009b31m".'])),
      false,
    )
    expect(out).toBe(
      'Error: No events for environment "a\\x1b[2J".\nSecond line.\nCode: BAD_CONFIG\nTry: Try "\\u009b31m".',
    )
  })
})

describe('wantsJson', () => {
  it('sees --json among the flags but not after "--"', () => {
    expect(wantsJson(['count', '--json'])).toBe(true)
    expect(wantsJson(['count', '--', '--json'])).toBe(false)
  })
})

describe("errorDocument of oclif's missing-flag error", () => {
  it('names the flag with its dashes and drops the preamble', () => {
    const parse = Object.assign(
      new Error('The following error occurred:\n  Missing required flag before\nSee more help with --help'),
      {parse: {}},
    )
    expect(errorDocument(parse).error.message).toBe('Missing required flag --before')
  })
})
