/** Every link between the project's documents leads somewhere: the file exists, and so does the heading it names. */
import {existsSync, readdirSync, readFileSync} from 'node:fs'
import {dirname, join, normalize} from 'node:path'
import {describe, expect, it} from 'vitest'

const documents = [
  'README.md',
  'CHANGELOG.md',
  'deploy/README.md',
  'bench/results/history.md',
  ...readdirSync('docs')
    .filter((f) => f.endsWith('.md'))
    .map((f) => `docs/${f}`),
]

/** GitHub's anchor for a heading: lower case, punctuation dropped, spaces to hyphens; repeats get -1, -2. */
export function anchors(markdown: string): Set<string> {
  const seen = new Map<string, number>()
  const out = new Set<string>()
  let fenced = false
  for (const line of markdown.split('\n')) {
    if (line.startsWith('```')) fenced = !fenced
    const m = !fenced && /^#{1,6} (.+)$/.exec(line)
    if (!m) continue
    const base = m[1]!
      .trim()
      .toLowerCase()
      .replace(/[^\p{L}\p{N}\s_-]/gu, '')
      .replace(/\s/g, '-')
    const n = seen.get(base) ?? 0
    seen.set(base, n + 1)
    out.add(n === 0 ? base : `${base}-${n}`)
  }
  for (const [, id] of markdown.matchAll(/<a (?:id|name)="([^"]+)"/g)) out.add(id!)
  return out
}

/** The relative links of a document (not in code), as [target file, anchor]. */
function links(markdown: string): {target: string; anchor?: string}[] {
  const prose = markdown.replace(/```[\s\S]*?```/g, '').replace(/`[^`\n]*`/g, '')
  return [...prose.matchAll(/\]\(([^)\s]+)\)/g)]
    .map(([, href]) => href!)
    .filter((href) => !/^[a-z]+:/.test(href))
    .map((href) => {
      const [target, anchor] = href.split('#')
      return {target: target!, anchor}
    })
}

describe('links between the documents', () => {
  it('finds headings as GitHub names them', () => {
    expect([
      ...anchors(
        '# How it works\n## Exactly once\n### Ids are exact bytes\n## Hostile input: what was tried, and what holds\n## Exactly once',
      ),
    ]).toEqual([
      'how-it-works',
      'exactly-once',
      'ids-are-exact-bytes',
      'hostile-input-what-was-tried-and-what-holds',
      'exactly-once-1',
    ])
  })

  it.each(documents)('%s: every relative link names a file and a heading that exist', (doc) => {
    const broken: string[] = []
    for (const {target, anchor} of links(readFileSync(doc, 'utf8'))) {
      const file = target === '' ? doc : normalize(join(dirname(doc), target))
      if (!existsSync(file)) {
        broken.push(`${target}: no such file`)
        continue
      }
      if (anchor && file.endsWith('.md') && !anchors(readFileSync(file, 'utf8')).has(anchor))
        broken.push(`${target}#${anchor}: no such heading in ${file}`)
    }
    expect(broken).toEqual([])
  })

  it.each(documents)("%s: names another document's section by a link, never in words that outlive a move", (doc) => {
    // "the main README's Configuration table" pointed nowhere once the manual moved to docs/.
    const prose = readFileSync(doc, 'utf8').replace(/```[\s\S]*?```/g, '')
    expect(prose.match(/\bREADME's\s+["\w][^\n]*/g) ?? []).toEqual([])
  })
})
