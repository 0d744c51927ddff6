/**
 * The one animated line a command may show on stderr, and the text that goes in it. Nothing animates
 * unless stderr is a terminal with a positive width (ora redraws endlessly at 0 columns); logs and
 * warnings are printed above the line, never glued onto it.
 */
import ora, {type Ora} from 'ora'

let line: Ora | undefined

/** A person is watching a terminal that can hold a status line (not a dumb one, not a CI job's). */
export function canAnimate(stream: NodeJS.WriteStream = process.stderr): boolean {
  return Boolean(stream.isTTY) && stream.columns > 0 && process.env.TERM !== 'dumb' && !('CI' in process.env)
}

/** Writes text (ending in a newline) to stderr above the status line, then redraws the line. */
export function printAbove(text: string): void {
  if (!line?.isSpinning) {
    process.stderr.write(text)
    return
  }
  line.clear()
  process.stderr.write(text)
  line.render()
}

/** Functions, not methods: startProgress hands them on alone, so none may rely on `this`. */
export interface StatusLine {
  update: (text: string) => void
  stop: () => void
  fail: () => void
}

const NONE: StatusLine = {update() {}, stop() {}, fail() {}}

/** Starts the status line (or a no-op where nothing may animate); stdin is left alone so Ctrl+C stays the terminal's. */
export function startStatus(text: string, enabled = canAnimate()): StatusLine {
  if (!enabled) return NONE
  line?.stop()
  // Enabled: canAnimate has decided, and ora's own test (the same, less the width) must not print a static line.
  const mine = ora({text, stream: process.stderr, discardStdin: false, isEnabled: true}).start()
  line = mine
  const end = (how: 'stop' | 'fail') => () => {
    mine[how]()
    if (line === mine) line = undefined
  }
  let drawn = 0
  const update = (t: string) => {
    if (!mine.isSpinning) return
    mine.text = t
    // ora draws on its own clock; a command that ends between two frames would never show the last text.
    if (Date.now() - drawn >= 100) {
      drawn = Date.now()
      mine.render()
    }
  }
  return {update, stop: end('stop'), fail: end('fail')}
}

export const formatCount = (n: number): string => Math.round(n).toLocaleString('en-US')

/** 75 -> "1m15s"; under a minute "42s"; hours "2h05m". */
export function formatDuration(seconds: number): string {
  const s = Math.max(0, Math.round(seconds))
  if (s < 60) return `${s}s`
  if (s < 3600) return `${Math.floor(s / 60)}m${String(s % 60).padStart(2, '0')}s`
  return `${Math.floor(s / 3600)}h${String(Math.floor((s % 3600) / 60)).padStart(2, '0')}m`
}

export interface Progress {
  label: string
  done: number
  /** Unknown totals show what is done and the rate, without percentage or ETA. */
  total?: number
  unit: string
  elapsedSeconds: number
}

/** "Backfilling 202611  412,000/1,000,000 events  41%  52,300/s  ETA 11s" */
export function progressText(p: Progress): string {
  const rate = p.elapsedSeconds > 0 ? p.done / p.elapsedSeconds : 0
  const parts = [p.label]
  if (p.total === undefined) parts.push(`${formatCount(p.done)} ${p.unit}`)
  else {
    parts.push(`${formatCount(p.done)}/${formatCount(p.total)} ${p.unit}`)
    parts.push(`${p.total > 0 ? Math.min(100, Math.floor((100 * p.done) / p.total)) : 100}%`)
  }
  if (p.elapsedSeconds >= 1) parts.push(`${formatCount(rate)}/s`)
  if (p.total !== undefined && p.done < p.total && rate > 0 && p.elapsedSeconds >= 1)
    parts.push(`ETA ${formatDuration((p.total - p.done) / rate)}`)
  return parts.join('  ')
}

/** A status line that renders progressText, at most a few times a second. */
export function startProgress(
  label: string,
  unit: string,
  enabled = canAnimate(),
): {report: (done: number, total?: number) => void; stop: () => void; fail: () => void} {
  const status = startStatus(label, enabled)
  const started = Date.now()
  return {
    report: (done, total) =>
      status.update(progressText({label, done, total, unit, elapsedSeconds: (Date.now() - started) / 1000})),
    stop: status.stop,
    fail: status.fail,
  }
}
