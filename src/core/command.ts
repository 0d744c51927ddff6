/**
 * What every `mau` command shares: `--json` (oclif's enableJsonFlag prints the typed result of run()),
 * the database handle (`withDb`), errors rendered with their exit code and suggested actions, secrets
 * scrubbed from any error text, and spinners only when a person is watching.
 */
import {Command} from '@oclif/core'
import {type Db, type OpenOptions, withDb} from './db.js'
import {ExitCode, helpSuggestion, isParseError} from './errors.js'
import {canAnimate, startProgress} from './progress.js'
import {jsonText} from './render.js'
import type {Kafka} from 'kafkajs'
import {connectKafka} from './kafka.js'
import {kafkaSettings, type KafkaFlags} from './kafka-security.js'
import {applyRenamedEnv, resolveMysql, type MysqlSettings, type MysqlTlsFlags} from './settings.js'

export abstract class MauCommand<T> extends Command {
  static override enableJsonFlag = true

  abstract override run(): Promise<T>

  override async init(): Promise<void> {
    applyRenamedEnv()
    await super.init()
  }

  /** MySQL's settings from the command's flags: the URL, its password, TLS (certificate files read once a run, not once a pool). */
  protected mysqlSettings(flags: {'mysql-url': string} & MysqlTlsFlags): MysqlSettings {
    let settings = this.resolvedMysql.get(flags)
    if (!settings) this.resolvedMysql.set(flags, (settings = resolveMysql(flags['mysql-url'], process.env, flags)))
    return settings
  }

  private readonly resolvedMysql = new WeakMap<object, MysqlSettings>()

  /** The command's MySQL pool for the length of fn; connection and driver errors come out as MauErrors. */
  protected withDb<R>(flags: {'mysql-url': string} & MysqlTlsFlags, fn: (db: Db) => Promise<R>, opts: OpenOptions = {}): Promise<R> {
    return withDb(this.mysqlSettings(flags), opts, fn, this.id)
  }

  /** A Kafka client for the command's flags, its settings tried first (a refused certificate or login exits 2 at once). */
  protected async kafka(flags: KafkaFlags, clientId: string): Promise<Kafka> {
    return (await connectKafka(kafkaSettings(flags), clientId)).kafka
  }

  /** Runs fn behind a spinner where a person watches a terminal (never with --json); it leaves no line behind. */
  protected spin<R>(text: string, fn: () => Promise<R>): Promise<R> {
    return this.withProgress(text, '', () => fn())
  }

  /** Like spin, with a progress line fn reports to: done (and total, when known) in unit, rate and ETA. */
  protected async withProgress<R>(label: string, unit: string, fn: (report: (done: number, total?: number) => void) => Promise<R>): Promise<R> {
    const progress = startProgress(label, unit, !this.jsonEnabled() && canAnimate())
    try {
      const result = await fn(progress.report)
      progress.stop()
      return result
    } catch (error) {
      progress.fail()
      throw error
    }
  }

  /** The final --json document: one line unless a person reads it at a terminal. */
  override logJson(json: unknown): void {
    process.stdout.write(`${jsonText(json)}\n`)
  }

  /** Failures are rendered once, by bin/run.js (core/exit.ts); here bad input learns which command's help to suggest. */
  protected override async catch(err: Error & {parse?: unknown; suggestions?: string[]; code?: unknown; exitCode?: number}): Promise<unknown> {
    if ((isParseError(err) || err.exitCode === ExitCode.CONFIG) && !err.suggestions?.length) err.suggestions = [helpSuggestion(this.id)]
    throw err
  }
}
