/**
 * Structured logs: one JSON line per thing worth logging, on stderr so that stdout stays for results
 * (`--json` output is parsed by scripts). Level from MAU_LOG_LEVEL (default info).
 */
import {pino, type Logger} from 'pino'
import {redact} from './secrets.js'

export type {Logger}

export function createLogger(name: string, level = process.env.MAU_LOG_LEVEL ?? 'info'): Logger {
  return pino(
    {
      name,
      level,
      base: {name},
      timestamp: pino.stdTimeFunctions.isoTime,
      formatters: {level: (label) => ({level: label})},
      hooks: {
        // Error messages can carry connection strings; scrub every line, not only the ones we remember.
        logMethod(args, method) {
          method.apply(this, args.map((a) => (typeof a === 'string' ? redact(a) : a)) as Parameters<typeof method>)
        },
      },
    },
    pino.destination({dest: 2, sync: true}),
  )
}
