import {readFileSync} from 'node:fs'
import {describe, expect, it} from 'vitest'

const manifest = JSON.parse(readFileSync('oclif.manifest.json', 'utf8')) as {
  commands: Record<
    string,
    {
      hidden?: boolean
      examples?: string[]
      description?: string
      summary?: string
      flags: Record<string, {summary?: string; description?: string}>
    }
  >
}
const ours = Object.entries(manifest.commands).filter(([, c]) => !c.hidden)

/** Lines inside a paragraph: oclif wraps text to the terminal, so a hard break there breaks a sentence. */
const brokenLines = (text = '') =>
  text.split('\n\n').flatMap((p) =>
    p
      .split('\n')
      .slice(0, -1)
      .filter((l) => !l.startsWith('- ')),
  )

describe("every command's help", () => {
  it('has at least one example', () => {
    for (const [id, c] of ours) expect(c.examples?.length ?? 0, id).toBeGreaterThan(0)
  })

  it('has a summary, and descriptions without hard line breaks inside a paragraph', () => {
    for (const [id, c] of ours) {
      expect(c.summary, id).toBeTruthy()
      expect(brokenLines(c.description), id).toEqual([])
      for (const [name, f] of Object.entries(c.flags)) expect(brokenLines(f.description), `${id} --${name}`).toEqual([])
    }
  })

  it('states the unit of every duration flag', () => {
    for (const [id, c] of ours) {
      for (const [name, f] of Object.entries(c.flags)) {
        if (/timeout|wait|staleness|drain|stall/.test(name))
          expect(`${f.summary} ${f.description ?? ''}`, `${id} --${name}`).toMatch(/[Ss]econds/)
      }
    }
  })
})
