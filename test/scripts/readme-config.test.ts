import {readFileSync} from 'node:fs'
import {describe, expect, it} from 'vitest'
// @ts-expect-error: a plain .mjs script, without type declarations
import {configTable, withConfigTable} from '../../scripts/readme-config.mjs'

const manifest = JSON.parse(readFileSync('oclif.manifest.json', 'utf8'))
const readme = readFileSync('README.md', 'utf8')

describe('the README configuration table', () => {
  it('is what the commands\' flags say (run npm run docs after changing a flag)', () => {
    expect(withConfigTable(readme, manifest)).toBe(readme)
  })

  it('lists every flag that has an environment variable, with its flag and commands', () => {
    const table: string = configTable(manifest)
    for (const [id, command] of Object.entries<{flags: Record<string, {env?: string; hidden?: boolean}>}>(manifest.commands)) {
      for (const [name, flag] of Object.entries(command.flags)) {
        if (!flag.env || flag.hidden) continue
        const line = table.split('\n').find((l) => l.startsWith(`| \`${flag.env}\` |`))
        expect(line, flag.env).toContain(`--${name}`)
        expect(line, flag.env).toContain(id.replace(/:/g, ' '))
      }
    }
  })

  it('changes when a flag changes', () => {
    const changed = structuredClone(manifest)
    changed.commands.consume.flags['batch-size'].default = 1
    expect(withConfigTable(readme, changed)).not.toBe(readme)
  })
})
