/** Exit codes are written once: docs/operations.md's table is what src/core/errors.ts says, and no other document has one. */
import {readFileSync} from 'node:fs'
import {describe, expect, it} from 'vitest'
// @ts-expect-error: a plain .mjs script, without type declarations
import {EXIT_CODES_DOC, exitCodeTable, withExitCodeTable} from '../../scripts/docs.mjs'
import {EXIT_CODE_MEANINGS, ExitCode} from '../../src/core/errors.js'

const operations = readFileSync(EXIT_CODES_DOC, 'utf8')

describe('the exit-code table', () => {
  it('is what src/core/errors.ts says (npm run docs writes it)', () => {
    expect(withExitCodeTable(operations, EXIT_CODE_MEANINGS)).toBe(operations)
  })

  it('has one line per exit code, in order, with its meaning and what a Job should do', () => {
    const lines: string[] = exitCodeTable(EXIT_CODE_MEANINGS).split('\n').slice(2)
    expect(lines.map((l) => Number(l.split('|')[1]))).toEqual(Object.values(ExitCode).sort())
    expect(lines[2]).toContain('stop retrying')
    expect(lines[2]).toContain('a password in the MySQL or Redis URL')
  })

  it('changes when a meaning changes', () => {
    expect(
      withExitCodeTable(operations, {...EXIT_CODE_MEANINGS, [ExitCode.LOCKED]: {meaning: 'locked', job: 'wait'}}),
    ).not.toBe(operations)
  })

  it('is the only one: the other documents link to it instead of copying it', () => {
    for (const doc of [
      'README.md',
      'deploy/README.md',
      'docs/how-it-works.md',
      'docs/migration.md',
      'docs/reliability.md',
    ]) {
      expect(readFileSync(doc, 'utf8'), doc).not.toMatch(/\| code \| meaning/)
    }
    expect(readFileSync('README.md', 'utf8')).toContain('(docs/operations.md#exit-codes)')
  })
})
