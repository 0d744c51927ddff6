/**
 * What every `mau` command shares: `--json` (oclif's enableJsonFlag prints the typed result of run()),
 * the database handle (`withDb`), errors rendered with their exit code and suggested actions, secrets
 * scrubbed from any error text, and spinners only when a person is watching.
 */
import {Command} from '@oclif/core'
import ora from 'ora'
import {type Db, type OpenOptions, withDb} from './db.js'
import {ExitCode} from './errors.js'
import {redact} from './secrets.js'
import {resolveMysql} from './settings.js'

export abstract class MauCommand<T> extends Command {
  static override enableJsonFlag = true

  abstract override run(): Promise<T>

  /** The command's MySQL pool for the length of fn; connection and driver errors come out as MauErrors. */
  protected withDb<R>(flags: {'mysql-url': string}, fn: (db: Db) => Promise<R>, opts: OpenOptions = {}): Promise<R> {
    return withDb(resolveMysql(flags['mysql-url']), opts, fn)
  }

  /**
   * Runs fn behind an ora spinner on a terminal (never with --json); otherwise just runs it. A terminal
   * that reports no width (`stty size` 0 0, as some CI and `kubectl exec` sessions do) gets none: ora
   * redraws endlessly there. The spinner leaves no line behind, and stdin is left alone, so Ctrl+C stays
   * the terminal's.
   */
  protected async spin<R>(text: string, fn: () => Promise<R>): Promise<R> {
    if (this.jsonEnabled() || !process.stderr.isTTY || !(process.stderr.columns > 0)) return fn()
    const spinner = ora({text, stream: process.stderr, discardStdin: false}).start()
    try {
      const result = await fn()
      spinner.stop()
      return result
    } catch (error) {
      spinner.fail()
      throw error
    }
  }

  protected override toErrorJson(err: unknown): {error: Record<string, unknown>} {
    const e = err as Error & {code?: string; exitCode?: number; oclif?: {exit?: number}; suggestions?: string[]}
    return {
      error: {
        name: e.name,
        code: e.code,
        message: redact(e.message ?? String(err)),
        exitCode: e.exitCode ?? e.oclif?.exit ?? ExitCode.FAILED,
        suggestions: e.suggestions,
      },
    }
  }

  protected override async catch(err: Error & {exitCode?: number; oclif?: {exit?: number}}): Promise<unknown> {
    // oclif wraps a flag's own parse error in "Parsing --flag"; ours already name the flag and the bad value.
    if (err.message) err.message = redact(err.message.replace(/^Parsing --\S+ \n\t/, '').replace(/\nSee more help with --help$/, ''))
    if (err.stack) err.stack = redact(err.stack)
    process.exitCode = err.exitCode ?? err.oclif?.exit ?? ExitCode.FAILED
    return super.catch(err)
  }
}
