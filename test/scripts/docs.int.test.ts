/** The generated documentation is what the code generates (run `npm run docs` after changing a command or a flag). */
import {readFileSync} from 'node:fs'
import {describe, expect, it} from 'vitest'
// @ts-expect-error: a plain .mjs script, without type declarations
import {COMMANDS_DOC, CONFIG_DOC, commandReference, configTable, withConfigTable} from '../../scripts/docs.mjs'

const manifest = JSON.parse(readFileSync('oclif.manifest.json', 'utf8'))
const config = readFileSync(CONFIG_DOC, 'utf8')

describe('the configuration table', () => {
  it("is what the commands' flags say", () => {
    expect(withConfigTable(config, manifest)).toBe(config)
  })

  it('lists every flag that has an environment variable, with its flag and commands', () => {
    const table: string = configTable(manifest)
    for (const [id, command] of Object.entries<{flags: Record<string, {env?: string; hidden?: boolean}>}>(
      manifest.commands,
    )) {
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
    expect(withConfigTable(config, changed)).not.toBe(config)
  })
})

describe('the command reference', () => {
  it('is what --help prints for every command, as committed', () => {
    const generated: string = commandReference()
    expect(generated).toBe(readFileSync(COMMANDS_DOC, 'utf8'))
    for (const id of Object.keys(manifest.commands)) expect(generated).toContain(`## \`mau ${id.replace(/:/g, ' ')}`)
  }, 60_000)
})
