/**
 * Structured logs on stderr, so that stdout stays for results (`--json` output is parsed by scripts).
 * In a pod (stderr not a terminal) each record is one JSON line for the collector; at a terminal it is
 * one line of text, printed above any status line. Level from MAU_LOG_LEVEL (default info).
 */
import {pino, type Logger} from 'pino'
import {printAbove} from './progress.js'
import {printable} from './render.js'
import {redact} from './secrets.js'

export type {Logger}

const SKIP = new Set(['level', 'time', 'name', 'msg', 'pid', 'hostname'])

/** One JSON log record as a line of text: "12:00:01 WARN  message  key=value ...". */
export function textLine(json: string): string {
  const r = JSON.parse(json) as Record<string, unknown>
  const time = typeof r.time === 'string' ? r.time.slice(11, 19) : ''
  const fields = Object.entries(r)
    .filter(([k]) => !SKIP.has(k))
    .map(
      ([k, v]) =>
        `${k}=${printable(String(typeof v === 'string' ? v : k === 'err' ? (v as {message?: string}).message : JSON.stringify(v)))}`,
    )
  return `${[time, String(r.level).toUpperCase().padEnd(5), printable(typeof r.msg === 'string' ? r.msg : ''), ...fields].filter((p) => p !== '').join('  ')}\n`
}

function briefError(e: unknown): unknown {
  if (!(e instanceof Error)) return e
  const {code} = e as {code?: unknown}
  return {type: e.name, message: e.message, ...(code === undefined ? {} : {code})}
}

export function createLogger(
  name: string,
  level = process.env.MAU_LOG_LEVEL ?? 'info',
  text = Boolean(process.stderr.isTTY),
): Logger {
  return pino(
    {
      name,
      level,
      base: {name},
      timestamp: pino.stdTimeFunctions.isoTime,
      formatters: {level: (label) => ({level: label})},
      // One line per failure: the stack only when asked for (MAU_LOG_LEVEL=debug).
      serializers: {err: level === 'debug' || level === 'trace' ? pino.stdSerializers.err : briefError},
      hooks: {
        // Error messages can carry connection strings; scrub every line, not only the ones we remember.
        logMethod(args, method) {
          method.apply(this, args.map((a) => (typeof a === 'string' ? redact(a) : a)) as Parameters<typeof method>)
        },
      },
    },
    {write: (line: string) => printAbove(text ? textLine(line) : line)},
  )
}

/**
 * Node's own warnings (a MaxListenersExceededWarning, a deprecation) as log records: Node prints them as raw
 * text on stderr, the one line of a pod's output a collector could not parse. Replaces Node's printer.
 */
export function routeWarnings(
  log: Pick<Logger, 'warn'>,
  proc: Pick<NodeJS.Process, 'removeAllListeners' | 'on'> = process,
): void {
  proc.removeAllListeners('warning')
  proc.on('warning', (w: Error & {code?: string}) =>
    log.warn({warning: w.name, ...(w.code ? {code: w.code} : {})}, w.message),
  )
}
