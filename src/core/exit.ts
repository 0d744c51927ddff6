/** How `mau` leaves on an error: one rendering for every failure, whether a command, oclif's parser or the command lookup raised it. */
import {errorDocument, renderError} from './errors.js'
import {jsonText, useColour} from './render.js'
import {redact} from './secrets.js'

/** Whether the command line asked for JSON (flags end at "--"). */
export function wantsJson(argv: string[]): boolean {
  const end = argv.indexOf('--')
  return (end === -1 ? argv : argv.slice(0, end)).includes('--json')
}

export function fail(error: unknown, argv: string[]): never {
  const e = error as {code?: unknown; oclif?: {exit?: number}; stack?: string}
  // this.exit(n) and --version end with an ExitError: the command already said what it had to say.
  if (e?.code === 'EEXIT') process.exit(e.oclif?.exit ?? 0)
  const doc = errorDocument(error)
  doc.error.message = redact(doc.error.message)
  if (wantsJson(argv)) process.stdout.write(`${jsonText(doc)}\n`)
  else process.stderr.write(`${renderError(doc, useColour(process.stderr))}\n`)
  if (process.env.MAU_LOG_LEVEL === 'debug' && e?.stack) process.stderr.write(`${redact(e.stack)}\n`)
  process.exit(doc.error.exitCode)
}
