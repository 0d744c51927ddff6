import {mkdirSync, writeFileSync} from 'node:fs'

/** Writes a benchmark's report to bench/results/NAME.md (committed) and prints it. */
export function publish(name: string, lines: string[]): void {
  mkdirSync('bench/results', {recursive: true})
  writeFileSync(`bench/results/${name}.md`, `${lines.join('\n')}\n`)
  console.log(lines.join('\n'))
}
