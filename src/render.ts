/** Human output: cli-table3 tables with plain borders that stay readable in logs and narrow terminals. */
import Table from 'cli-table3'

export function table(head: string[], rows: (string | number)[][]): string {
  const t = new Table({head, style: {head: [], border: [], compact: true}})
  t.push(...rows.map((r) => r.map(String)))
  return t.toString()
}
