import {describe, expect, it} from 'vitest'
import {bad, columns, csvLine, good, jsonText, printable, table, tone, useColour} from '../../src/core/render.js'

describe('csvLine', () => {
  it('quotes only fields that need it, doubling quotes', () => {
    expect(csvLine(['plain', 3, 'a,b', 'say "hi"', ''])).toBe('plain,3,"a,b","say ""hi""",')
  })

  it('shows control characters as escapes, a line break included, so one field stays one line', () => {
    expect(csvLine(['two\nlines', 'a,\u001b[2J'])).toBe('two\\x0alines,"a,\\x1b[2J"')
  })
})

describe('printable', () => {
  it('escapes C0 controls, DEL and C1 controls visibly, and leaves other text alone', () => {
    expect(printable('\u001b]0;title\u0007\u001b[2J')).toBe('\\x1b]0;title\\x07\\x1b[2J')
    expect(printable('a\rb\u007fc\u009bd\te')).toBe('a\\x0db\\x7fc\\u009bd\\x09e')
    expect(printable('prod-環境 😀 ü')).toBe('prod-環境 😀 ü')
  })

  it('is applied to every text cell of a table and of chat columns', () => {
    const hostile = 'ns\u001b]0;pwned\u0007\u001b[2J'
    for (const out of [
      table(['environment', 'users'], [[hostile, 1]], plain),
      columns(['environment', 'users'], [[hostile, 1]]),
    ]) {
      expect(out).not.toMatch(/[\u0000-\u0008\u000b-\u001f\u007f-\u009f]/)
      expect(out).toContain('ns\\x1b]0;pwned\\x07\\x1b[2J')
    }
  })
})

const plain = {width: undefined, colour: false}

describe('table', () => {
  it('right-aligns numbers with thousands separators and leaves text left', () => {
    const out = table(
      ['environment', 'users'],
      [
        ['prod', 1234567],
        ['dev', 5],
      ],
      plain,
    )
    expect(out).toContain('│ prod        │ 1,234,567 │')
    expect(out).toContain('│ dev         │         5 │')
  })

  it('leaves out a column that is empty in every row, header and all', () => {
    const out = table(
      ['environment', 'source', 'users'],
      [
        ['prod', null, 1],
        ['total', '', 1],
      ],
      plain,
    )
    expect(out).not.toContain('source')
    expect(out.split('\n')[1]).toBe('│ environment │ users │')
  })

  it('shrinks the widest text column with an ellipsis until the table fits the width', () => {
    const reason = 'user_id: expected a non-empty string of at most 255 characters, got a number'
    const out = table(['id', 'reason', 'count'], [[1, reason, 1000]], {width: 40, colour: false})
    for (const line of out.split('\n')) expect(line.length).toBeLessThanOrEqual(40)
    expect(out).toContain('…')
    expect(out).toContain('1,000')
  })

  it('keeps every column at least a few characters wide even when the width cannot hold them', () => {
    const out = table(['a', 'b'], [['x'.repeat(30), 'y'.repeat(30)]], {width: 5, colour: false})
    expect(out).toMatch(/│ x{5}… │ y{5}… │/)
  })

  it('colours good and bad cells only when asked', () => {
    const rows = [
      ['mysql', good('ok')],
      ['kafka', bad('FAIL')],
    ]
    expect(table(['check', 'status'], rows, {width: undefined, colour: true})).toContain('\u001B[31mFAIL\u001B[39m')
    expect(table(['check', 'status'], rows, {width: undefined, colour: true})).toContain('\u001B[32mok\u001B[39m')
    expect(table(['check', 'status'], rows, plain)).not.toContain('\u001B[')
  })

  it('does not truncate when no width is known (a pipe or a file)', () => {
    const long = 'z'.repeat(300)
    expect(table(['x'], [[long]], plain)).toContain(long)
  })
})

describe('tone', () => {
  it('paints a verdict line red or green, or leaves it plain', () => {
    expect(tone('FAIL: 2 of 9 lines differ.', 'bad', true)).toBe('\u001B[31mFAIL: 2 of 9 lines differ.\u001B[39m')
    expect(tone('PASS', 'good', false)).toBe('PASS')
  })
})

describe('useColour', () => {
  it('is on at a terminal unless NO_COLOR is set or TERM is dumb, and never for a pipe', () => {
    const saved = {NO_COLOR: process.env.NO_COLOR, TERM: process.env.TERM}
    try {
      delete process.env.NO_COLOR
      process.env.TERM = 'xterm-256color'
      expect(useColour({isTTY: true})).toBe(true)
      expect(useColour({isTTY: false})).toBe(false)
      process.env.NO_COLOR = '1'
      expect(useColour({isTTY: true})).toBe(false)
      delete process.env.NO_COLOR
      process.env.TERM = 'dumb'
      expect(useColour({isTTY: true})).toBe(false)
    } finally {
      for (const [k, v] of Object.entries(saved))
        if (v === undefined) delete process.env[k]
        else process.env[k] = v
    }
  })
})

describe('columns', () => {
  it('aligns plain columns for a chat message, numbers and changes to the right', () => {
    expect(
      columns(
        ['environment', 'users', 'change'],
        [
          ['prod', 1200, '+4.0%'],
          ['staging', 3, 'new'],
        ],
      ),
    ).toBe(['environment  users  change', 'prod         1,200   +4.0%', 'staging          3     new'].join('\n'))
  })
})

describe('jsonText', () => {
  it('is one line for a program and indented for a person', () => {
    expect(jsonText({a: [1]}, false)).toBe('{"a":[1]}')
    expect(jsonText({a: 1}, true)).toBe('{\n  "a": 1\n}')
  })
})
