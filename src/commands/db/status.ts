import {migrationsDirFlag, mysqlFlags, resolveMysql} from '../../config.js'
import {MauCommand} from '../../command.js'
import {ExitCode} from '../../errors.js'
import {status, type StatusResult} from '../../migrate.js'

export default class DbStatus extends MauCommand<StatusResult> {
  static override summary = 'Show the applied schema version, pending migrations and edited migration files.'
  static override description = 'Exits 5 when migrations are pending or an applied file was edited, so it can gate a deployment.'
  static override flags = {...mysqlFlags, ...migrationsDirFlag}

  async run(): Promise<StatusResult> {
    const {flags} = await this.parse(DbStatus)
    const result = await status(resolveMysql(flags['mysql-url']), {migrationsDir: flags['migrations-dir']})
    this.log(`database ${result.database}: version ${result.version} of ${result.latest}`)
    for (const m of result.pending) this.log(`pending ${String(m.version).padStart(3, '0')} ${m.name}`)
    for (const m of result.edited) this.log(`EDITED  ${String(m.version).padStart(3, '0')} ${m.name} (changed after it was applied)`)
    if (result.pending.length > 0 || result.edited.length > 0) process.exitCode = ExitCode.SCHEMA
    return result
  }
}
