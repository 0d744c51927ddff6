/**
 * Human output, in one place: tables (cli-table3) for every command, plain aligned columns for chat
 * messages, CSV lines and JSON documents. Numbers are right-aligned with thousands separators here and
 * only here; --json and --csv carry them raw.
 */
import Table from 'cli-table3'

/** Colour for people at a terminal only, and never when NO_COLOR is set (https://no-color.org) or TERM is dumb. */
export function useColour(stream: {isTTY?: boolean} = process.stdout): boolean {
  return Boolean(stream.isTTY) && !process.env.NO_COLOR && process.env.TERM !== 'dumb'
}

/** The width to fit output to: the terminal's, or none (no truncation) for a pipe or a file. */
export function terminalWidth(stream: {isTTY?: boolean; columns?: number} = process.stdout): number | undefined {
  return stream.isTTY && (stream.columns ?? 0) > 0 ? stream.columns : undefined
}

/** A JSON document: indented for a person at a terminal, one line for a program reading a pipe or a log. */
export function jsonText(value: unknown, pretty = Boolean(process.stdout.isTTY)): string {
  // JSON.stringify escapes C0 controls but not DEL and C1 (U+009B is a CSI): \u escapes parse the same.
  return (pretty ? JSON.stringify(value, null, 2) : JSON.stringify(value)).replace(
    /[\u007f-\u009f]/g,
    (c) => `\\u${hex(c, 4)}`,
  )
}

/** C0 controls, DEL and C1 controls: an ESC or CSI (U+009B) from event data would drive the reader's terminal. */
const CONTROL = /[\u0000-\u001f\u007f-\u009f]/g
const hex = (c: string, digits: number) => c.charCodeAt(0).toString(16).padStart(digits, '0')

/** Pure: text with every control character shown as an escape (\x1b, \u009b), so that data is seen, never obeyed. */
export function printable(s: string): string {
  return s.replace(CONTROL, (c) => (c.charCodeAt(0) < 0x80 ? `\\x${hex(c, 2)}` : `\\u${hex(c, 4)}`))
}

/** One CSV line; fields with a comma or quote are quoted (RFC 4180); control characters escaped (printable). */
export function csvLine(fields: (string | number)[]): string {
  return fields
    .map((f) =>
      typeof f !== 'string' ? String(f) : /[",]/.test(f) ? `"${printable(f).replace(/"/g, '""')}"` : printable(f),
    )
    .join(',')
}

/** A cell that says good or bad news: green or red where colour is on, plain text otherwise. */
export interface Marked {
  value: string | number
  tone: 'good' | 'bad'
}
export type Cell = string | number | null | undefined | Marked

export const bad = (value: string | number): Marked => ({value, tone: 'bad'})
export const good = (value: string | number): Marked => ({value, tone: 'good'})

export const formatNumber = (n: number): string => n.toLocaleString('en-US', {maximumFractionDigits: 2})

/** A percent change: "+4.0%", "-12.5%", or "new" when there was nothing to compare with. */
export const formatChange = (p: number | null): string => (p === null ? 'new' : `${p > 0 ? '+' : ''}${p.toFixed(1)}%`)

const isMarked = (c: Cell): c is Marked => typeof c === 'object' && c !== null
const raw = (c: Cell) => (isMarked(c) ? c.value : c)
const text = (c: Cell): string => {
  const v = raw(c)
  return v === null || v === undefined ? '' : typeof v === 'number' ? formatNumber(v) : printable(v)
}
/** Numbers, and text that reads as one ("-12 -3.5%", "+4.0%", "-"), are right-aligned. */
const NUMERIC_TEXT = /^(?:[+-]?[\d,.]+%?(?: [+-]?[\d,.]+%)?|-|new)$/
const looksNumeric = (c: Cell) => typeof raw(c) === 'number' || text(c) === '' || NUMERIC_TEXT.test(text(c))
const TONES = {good: [32, 39], bad: [31, 39]} as const
const paint = (s: string, tone: Marked['tone'] | undefined, colour: boolean) =>
  colour && tone ? `\u001B[${TONES[tone][0]}m${s}\u001B[${TONES[tone][1]}m` : s

/** A line of good or bad news (a verdict under a table), coloured where colour is on. */
export function tone(line: string, t: Marked['tone'], colour = useColour()): string {
  return paint(line, t, colour)
}

export interface TableOptions {
  /** Fit to this many columns, truncating the widest text cells with an ellipsis. Default: the terminal's. */
  width?: number
  colour?: boolean
}

const MIN_COLUMN = 6

/**
 * A table for people. Columns that are empty in every row are left out; a column whose cells are all
 * numbers is right-aligned; the widest text columns give way (with "…") until the table fits the width.
 */
export function table(head: string[], rows: Cell[][], opts: TableOptions = {}): string {
  const width = 'width' in opts ? opts.width : terminalWidth()
  const colour = opts.colour ?? useColour()
  const keep = head.map((_, i) => rows.some((r) => text(r[i]) !== ''))
  const cols = head.map((_, i) => i).filter((i) => keep[i])
  const numeric = cols.map((i) => rows.every((r) => looksNumeric(r[i])))
  const widths = cols.map((i) => Math.max(head[i]!.length, ...rows.map((r) => text(r[i]).length)))
  // cli-table3's frame: one border before each column, one after the last, one space of padding either side.
  const frame = (w: number[]) => w.reduce((a, x) => a + x + 3, 1)
  while (width !== undefined && frame(widths) > width) {
    const widest = widths.reduce(
      (best, w, k) => (!numeric[k] && w > widths[best]! ? k : best),
      numeric.findIndex((n) => !n),
    )
    if (widest < 0 || widths[widest]! <= MIN_COLUMN) break
    widths[widest]!--
  }
  const t = new Table({
    head: cols.map((i) => head[i]!),
    colWidths: widths.map((w) => w + 2),
    colAligns: numeric.map((n) => (n ? 'right' : 'left')),
    style: {head: [], border: [], compact: true},
    wordWrap: false,
  })
  t.push(...rows.map((r) => cols.map((i) => paint(text(r[i]), isMarked(r[i]) ? r[i].tone : undefined, colour))))
  return t.toString()
}

/** Plain aligned columns (no borders), for monospace blocks in chat messages; numbers right-aligned. */
export function columns(head: string[], rows: Cell[][]): string {
  const all = [head, ...rows.map((r) => r.map(text))]
  const numeric = head.map((_, i) => i > 0 && rows.every((r) => looksNumeric(r[i])))
  const widths = head.map((_, i) => Math.max(...all.map((r) => r[i]!.length)))
  return all
    .map((r) =>
      r
        .map((c, i) => (numeric[i] ? c.padStart(widths[i]!) : c.padEnd(widths[i]!)))
        .join('  ')
        .trimEnd(),
    )
    .join('\n')
}
