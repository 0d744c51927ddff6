/** Every failure, from any layer, is one JSON document with --json and an "Error:" line otherwise. */
import {describe, expect, it} from 'vitest'
import {mau} from '../helpers/cli.js'

const UNREACHABLE = {MAU_MYSQL_URL: 'mysql://root@127.0.0.1:1/nowhere'}

describe('errors', () => {
  it('an unknown command suggests the nearest one, as JSON with --json', () => {
    const r = mau(['cuont', '--json'])
    expect(r.code).toBe(2)
    expect(JSON.parse(r.stdout)).toEqual({
      error: {
        code: 'UNKNOWN_COMMAND',
        message: '"cuont" is not a mau command.',
        exitCode: 2,
        suggestions: ['Did you mean "mau count"?', 'Run "mau help" for a list of commands.'],
      },
    })
  })

  it('an unknown command in a topic suggests the command there', () => {
    const r = mau(['partitions', 'rotat'])
    expect(r.code).toBe(2)
    expect(r.stderr).toContain('Did you mean "mau partitions rotate"?')
  })

  it('a parse error has a code and a suggestion with --json', () => {
    const r = mau(['count', '--bogus', '--json'])
    expect(r.code).toBe(2)
    expect(JSON.parse(r.stdout).error).toEqual({
      code: 'BAD_FLAGS',
      message: 'Nonexistent flag: --bogus',
      exitCode: 2,
      suggestions: ['Run "mau count --help" for the flags and their formats.'],
    })
  })

  it("a bad value names itself, without oclif's wrapping", () => {
    const r = mau(['count', '--month', '2025', '--json'])
    expect(JSON.parse(r.stdout).error).toMatchObject({
      code: 'BAD_CONFIG',
      message: 'Invalid month "2025": expected YYYYMM or YYYY-MM, such as 202212 or 2022-12.',
      exitCode: 2,
    })
  })

  it('human errors start with "Error:", never a class name, and stdout stays empty', () => {
    const r = mau(['count'], UNREACHABLE)
    expect(r.code).toBe(4)
    expect(r.stdout).toBe('')
    expect(r.stderr.split('\n')[0]).toMatch(
      /^Error: MySQL at mysql:\/\/root@127\.0\.0\.1:1\/nowhere is unavailable: connect ECONNREFUSED/,
    )
    expect(r.stderr).toContain('Code: MYSQL_UNAVAILABLE')
    expect(r.stderr).not.toMatch(/MauError|CLIError| {4}at /)
  })

  it('the JSON document is one line when stdout is not a terminal', () => {
    const r = mau(['count', '--json'], UNREACHABLE)
    expect(r.stdout.trim().split('\n')).toHaveLength(1)
  })
})

describe("oclif's plugins", () => {
  it('mau help and mau help <command> show help', () => {
    expect(mau(['help']).stdout).toMatch(/COMMANDS[\s\S]*count/)
    const r = mau(['help', 'count'])
    expect(r.code).toBe(0)
    expect(r.stdout).toContain('--last')
  })

  it.each(['bash', 'zsh', 'powershell'])('mau autocomplete %s gives setup instructions', (shell) => {
    const r = mau(['autocomplete', shell], {HOME: '/tmp/mau-autocomplete-test'})
    expect(r.code).toBe(0)
    expect(r.stdout).toContain(`mau autocomplete script ${shell}`)
  })
})
