import {Errors} from '@oclif/core'
import {printable} from './render.js'

/**
 * Exit codes are part of the interface: Kubernetes Jobs and CronJobs act on them
 * (podFailurePolicy stops retrying on CONFIG, backoff retries on UNAVAILABLE).
 */
export const ExitCode = {
  OK: 0,
  /** The command ran and found a problem (a check failed, a delivery failed). */
  FAILED: 1,
  /** Bad flags, environment or input: retrying will not help. */
  CONFIG: 2,
  /** Another run holds the named lock. */
  LOCKED: 3,
  /** MySQL, Kafka or another service could not be reached: worth retrying. */
  UNAVAILABLE: 4,
  /** The schema is not what this version expects (not migrated, or an applied migration was edited). */
  SCHEMA: 5,
} as const
export type ExitCodeValue = (typeof ExitCode)[keyof typeof ExitCode]

/**
 * What each exit code means and what a Kubernetes Job should do about it: the one source of the exit-code
 * table in docs/operations.md (scripts/docs.mjs writes it; a test fails when the two differ).
 */
export const EXIT_CODE_MEANINGS: Record<ExitCodeValue, {meaning: string; job: string}> = {
  [ExitCode.OK]: {meaning: 'done (or nothing to do)', job: ''},
  [ExitCode.FAILED]: {
    meaning:
      'the command ran and found a problem (a mismatch, a failed delivery, messages lost upstream, a failed check)',
    job: 'alert',
  },
  [ExitCode.CONFIG]: {
    meaning:
      'bad flags, settings or input (an unknown command or flag, an unknown time zone or one other than the zone the database records, a password in the MySQL or Redis URL, refused credentials or certificates, a privilege MySQL refused, a missing topic or database, a query Druid rejects)',
    job: 'stop retrying (`podFailurePolicy` on exit code 2)',
  },
  [ExitCode.LOCKED]: {meaning: 'another run holds the named lock', job: 'retry later'},
  [ExitCode.UNAVAILABLE]: {
    meaning: 'MySQL, Kafka, Redis or Druid unreachable, or Druid failed or timed out',
    job: 'retry with backoff',
  },
  [ExitCode.SCHEMA]: {
    meaning: 'schema not migrated, or an applied migration file was edited',
    job: 'run `mau db migrate` / restore the file',
  },
}

/** An error an operator can act on: what went wrong, the exit code, and what to do next. */
export class MauError extends Errors.CLIError {
  readonly exitCode: ExitCodeValue

  constructor(message: string, opts: {exit?: ExitCodeValue; code?: string; suggestions?: string[]} = {}) {
    const exit = opts.exit ?? ExitCode.FAILED
    super(message, {exit, code: opts.code, suggestions: opts.suggestions})
    this.name = 'MauError'
    this.exitCode = exit
  }
}

export function configError(message: string, suggestions?: string[]): MauError {
  return new MauError(message, {exit: ExitCode.CONFIG, code: 'BAD_CONFIG', suggestions})
}

/** mysql2 and kafkajs surface connection failures with these codes; everything else is not transient. */
const TRANSIENT_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ETIMEDOUT',
  'EPIPE',
  'ENOTFOUND',
  'EAI_AGAIN',
  'EHOSTUNREACH',
  'PROTOCOL_CONNECTION_LOST',
  'ER_CON_COUNT_ERROR',
  'ER_SERVER_SHUTDOWN',
  'ER_LOCK_DEADLOCK',
  'ER_LOCK_WAIT_TIMEOUT',
  'ER_QUERY_INTERRUPTED',
  'ER_CONNECTION_KILLED',
  'PROTOCOL_SEQUENCE_TIMEOUT',
])

/** Refused for what the statement is, or for how the connection was configured (TLS), whatever state the connection is left in: retrying sends the same. */
const PERMANENT_CODES = new Set([
  'ER_NET_PACKET_TOO_LARGE',
  'ER_SIGNAL_EXCEPTION',
  'ER_DATA_TOO_LONG',
  'HANDSHAKE_SSL_ERROR',
  'HANDSHAKE_NO_SSL_SUPPORT',
])

export function isTransient(error: unknown): boolean {
  if (!error || typeof error !== 'object') return false
  const e = error as {code?: unknown; fatal?: unknown; retriable?: unknown; cause?: unknown}
  if (typeof e.code === 'string' && PERMANENT_CODES.has(e.code)) return false
  if (typeof e.code === 'string' && TRANSIENT_CODES.has(e.code)) return true
  if (e.fatal === true) return true
  if (e.retriable === true) return true
  return e.cause ? isTransient(e.cause) : false
}

/** Wraps a service failure so the exit code says "retry later" and the message names the service. */
export function unavailable(service: string, target: string, error: unknown): MauError {
  const reason = error instanceof Error ? error.message : String(error)
  return new MauError(`${service} at ${target} is unavailable: ${reason}`, {
    exit: ExitCode.UNAVAILABLE,
    code: `${service.toUpperCase()}_UNAVAILABLE`,
    suggestions: [`Check that ${service} is running and reachable, then retry (locally: npm run services:start).`],
  })
}

/** What `--json` prints for any failure: the README's contract, the same for parse errors and unknown commands. */
export interface ErrorDocument {
  error: {code: string; message: string; exitCode: number; suggestions: string[]}
}

type AnyError = Error & {
  code?: unknown
  exitCode?: number
  oclif?: {exit?: number}
  suggestions?: string[]
  parse?: unknown
}

/** oclif's own parse errors (unknown flag, missing or invalid value) carry a parse context and no code of ours. */
export function isParseError(err: unknown): boolean {
  const e = err as AnyError
  return e?.parse !== undefined && typeof e.code !== 'string'
}

export const helpSuggestion = (commandId?: string): string =>
  `Run "mau ${commandId ? `${commandId.replace(/:/g, ' ')} ` : ''}--help" for the flags and their formats.`

/** Any error as the document above. A parse error is bad input (exit 2), and the way out is the command's help. */
export function errorDocument(err: unknown): ErrorDocument {
  const e = (err instanceof Error ? err : new Error(String(err))) as AnyError
  const parseError = isParseError(e)
  const exitCode = parseError ? ExitCode.CONFIG : (e.exitCode ?? e.oclif?.exit ?? ExitCode.FAILED)
  // oclif's other refusals (e.g. `mau help nosuch`) exit 2 without a code: bad input all the same.
  const code =
    typeof e.code === 'string'
      ? e.code
      : parseError
        ? 'BAD_FLAGS'
        : exitCode === ExitCode.CONFIG
          ? 'BAD_INPUT'
          : 'FAILED'
  return {
    error: {
      code,
      message: cleanMessage(e.message || String(err)),
      exitCode,
      suggestions: e.suggestions?.length ? e.suggestions : parseError ? [helpSuggestion()] : [],
    },
  }
}

/** oclif wraps a flag's own parse error in "Parsing --flag" and appends a help hint; ours already name the flag and value. */
function cleanMessage(message: string): string {
  return message
    .replace(/^Parsing --\S+ \n\t/, '')
    .replace(/\nSee more help with --help$/, '')
    .replace(/^The following errors? occurred:\n\s*/, '')
    .replace(/\n\s+/g, '\n')
    .replace(/Missing required flag (?!-)(\S+)/g, 'Missing required flag --$1')
}

/** The human rendering: "Error: ...", then the code and what to try; red only where colour is wanted. */
export function renderError(doc: ErrorDocument, colour: boolean): string {
  const {code, message, suggestions} = doc.error
  const red = (s: string) => (colour ? `\u001B[31m${s}\u001B[39m` : s)
  const dim = (s: string) => (colour ? `\u001B[2m${s}\u001B[22m` : s)
  // A message quotes the bad value, which may hold terminal escapes: each line is shown, never obeyed.
  const shown = (s: string) => s.split('\n').map(printable).join('\n')
  return [
    `${red('Error:')} ${shown(message)}`,
    dim(`Code: ${code}`),
    ...suggestions.map((s) => `Try: ${shown(s)}`),
  ].join('\n')
}
