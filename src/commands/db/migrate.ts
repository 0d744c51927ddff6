import {MauCommand} from '../../core/command.js'
import * as flag from '../../core/flags.js'
import {migrateReport} from '../../schema/format.js'
import {MIGRATE_POOL, migrate, type MigrateResult} from '../../schema/migrate.js'

export default class DbMigrate extends MauCommand<MigrateResult> {
  static override summary = 'Apply the pending migrations in migrations/ and create the coming months\' partitions.'
  static override description = `Safe to run from several pods at once: a MySQL named lock lets one apply while the others wait. Re-running applies nothing. Fails (exit 5) when an applied migration file was edited.`
  static override examples = ['<%= config.bin %> db migrate', 'MAU_MYSQL_URL=mysql://mau@db:3306/mau <%= config.bin %> db migrate --json']
  static override flags = {...flag.database, timezone: flag.timezone, 'ahead-months': flag.aheadMonths, 'migrations-dir': flag.migrationsDir, 'lock-wait': flag.lockWait(60)}

  async run(): Promise<MigrateResult> {
    const {flags} = await this.parse(DbMigrate)
    const options = {timezone: flags.timezone, aheadMonths: flags['ahead-months'], migrationsDir: flags['migrations-dir'], lockWaitSeconds: flags['lock-wait']}
    const result = await this.spin('Migrating', () => this.withDb(flags, (db) => migrate(db, options), MIGRATE_POOL))
    this.log(migrateReport(result))
    return result
  }
}
