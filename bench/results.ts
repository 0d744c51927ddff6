import {mkdirSync, writeFileSync} from 'node:fs'

/**
 * Writes a benchmark's report to bench/results/NAME.md (committed) and prints it; MAU_BENCH_RESULTS names
 * another folder (the small runs of test/bench/, which must not replace the committed figures).
 */
export function publish(name: string, lines: string[]): void {
  const dir = process.env.MAU_BENCH_RESULTS ?? 'bench/results'
  mkdirSync(dir, {recursive: true})
  writeFileSync(`${dir}/${name}.md`, `${lines.join('\n')}\n`)
  console.log(lines.join('\n'))
}
