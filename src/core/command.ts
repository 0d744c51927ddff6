/**
 * What every `mau` command shares: `--json` (oclif's enableJsonFlag prints the typed result of run()),
 * the database handle (`withDb`), errors rendered with their exit code and suggested actions, secrets
 * scrubbed from any error text, and spinners only when a person is watching.
 */
import {Command, type Interfaces} from '@oclif/core'
import {type Db, type OpenOptions, withDb} from './db.js'
import {ExitCode, helpSuggestion, isParseError} from './errors.js'
import {canAnimate, startProgress} from './progress.js'
import {jsonText} from './render.js'
import type {Kafka} from 'kafkajs'
import {connectKafka} from './kafka.js'
import {kafkaSettings, type KafkaFlags} from './kafka-security.js'
import {applyRenamedEnv, resolveMysql, type MysqlSettings, type MysqlTlsFlags} from './settings.js'
import {defaultZone, type GivenZone, resolveZone} from './zone.js'

export abstract class MauCommand<T> extends Command {
  static override enableJsonFlag = true

  abstract override run(): Promise<T>

  override async init(): Promise<void> {
    applyRenamedEnv()
    await super.init()
  }

  /** The zone this run was started with (--timezone, MAU_TIMEZONE or the default), as parsed. */
  protected givenZone: GivenZone = defaultZone

  /** Parses as oclif does, and notes whether --timezone was given (flag or MAU_TIMEZONE) or is its default. */
  protected override async parse<
    F extends Record<string, unknown>,
    B extends Record<string, unknown>,
    A extends Record<string, unknown>,
  >(options?: Interfaces.Input<F, B, A>, argv?: string[]): Promise<Interfaces.ParserOutput<F, B, A>> {
    const out = await super.parse(options, argv)
    const zone = (out.flags as {timezone?: unknown}).timezone
    if (typeof zone === 'string') this.givenZone = {zone, explicit: !out.metadata.flags.timezone?.setFromDefault}
    return out
  }

  /**
   * withDb, with the zone months are cut in resolved once, at the start (core/zone.ts): the recorded one; with
   * none recorded, this run's, recorded unless `record` is false; another explicit zone exits 2.
   */
  protected withZone<R>(
    flags: {'mysql-url': string} & MysqlTlsFlags,
    fn: (db: Db, zone: string) => Promise<R>,
    opts: OpenOptions & {record?: boolean} = {},
  ): Promise<R> {
    return this.withDb(
      flags,
      async (db) => fn(db, (await resolveZone(db, this.givenZone, {record: opts.record ?? true})).zone),
      opts,
    )
  }

  /** MySQL's settings from the command's flags: the URL, its password, TLS (certificate files read once a run, not once a pool). */
  protected mysqlSettings(flags: {'mysql-url': string} & MysqlTlsFlags): MysqlSettings {
    let settings = this.resolvedMysql.get(flags)
    if (!settings) this.resolvedMysql.set(flags, (settings = resolveMysql(flags['mysql-url'], process.env, flags)))
    return settings
  }

  private readonly resolvedMysql = new WeakMap<object, MysqlSettings>()

  /** The command's MySQL pool for the length of fn; connection and driver errors come out as MauErrors. */
  protected withDb<R>(
    flags: {'mysql-url': string} & MysqlTlsFlags,
    fn: (db: Db) => Promise<R>,
    opts: OpenOptions = {},
  ): Promise<R> {
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
  protected async withProgress<R>(
    label: string,
    unit: string,
    fn: (report: (done: number, total?: number) => void) => Promise<R>,
  ): Promise<R> {
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
  protected override async catch(
    err: Error & {parse?: unknown; suggestions?: string[]; code?: unknown; exitCode?: number},
  ): Promise<unknown> {
    if ((isParseError(err) || err.exitCode === ExitCode.CONFIG) && !err.suggestions?.length)
      err.suggestions = [helpSuggestion(this.id)]
    throw err
  }
}
