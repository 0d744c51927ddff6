/** Human output: cli-table3 tables with plain borders that stay readable in logs and narrow terminals, and CSV lines. */
import Table from 'cli-table3'

/** One CSV line; fields with a comma, quote or newline are quoted (RFC 4180). */
export function csvLine(fields: (string | number)[]): string {
  return fields.map((f) => (typeof f === 'string' && /[",\n]/.test(f) ? `"${f.replace(/"/g, '""')}"` : String(f))).join(',')
}

export function table(head: string[], rows: (string | number)[][]): string {
  const t = new Table({head, style: {head: [], border: [], compact: true}})
  t.push(...rows.map((r) => r.map(String)))
  return t.toString()
}
