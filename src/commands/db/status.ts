import {MauCommand} from '../../core/command.js'
import {ExitCode} from '../../core/errors.js'
import * as flag from '../../core/flags.js'
import {statusReport} from '../../schema/format.js'
import {status, type StatusResult} from '../../schema/migrate.js'

export default class DbStatus extends MauCommand<StatusResult> {
  static override summary = 'Show the applied schema version, pending migrations and edited migration files.'
  static override description =
    'Exits 5 when migrations are pending or an applied file was edited, so it can gate a deployment.'
  static override examples = [
    '<%= config.bin %> db status',
    'MAU_MYSQL_URL=mysql://mau@db:3306/mau <%= config.bin %> db status --json',
  ]
  static override flags = {...flag.database, 'migrations-dir': flag.migrationsDir}

  async run(): Promise<StatusResult> {
    const {flags} = await this.parse(DbStatus)
    const result = await this.withDb(flags, (db) => status(db, {migrationsDir: flags['migrations-dir']}))
    this.log(statusReport(result))
    if (result.pending.length > 0 || result.edited.length > 0) process.exitCode = ExitCode.SCHEMA
    return result
  }
}
