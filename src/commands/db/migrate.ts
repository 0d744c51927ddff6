import {aheadMonthsFlag, migrationsDirFlag, mysqlFlags, resolveMysql, timezoneFlag} from '../../config.js'
import {MauCommand} from '../../command.js'
import {migrate, type MigrateResult} from '../../migrate.js'

export default class DbMigrate extends MauCommand<MigrateResult> {
  static override summary = 'Apply the pending migrations in migrations/ and create the coming months\' partitions.'
  static override description = `Safe to run from several pods at once: a MySQL named lock lets one apply while the others wait.
Re-running applies nothing. Fails (exit 5) when an applied migration file was edited.`
  static override examples = ['<%= config.bin %> db migrate', 'MAU_MYSQL_URL=mysql://mau@db:3306/mau <%= config.bin %> db migrate --json']
  static override flags = {...mysqlFlags, ...timezoneFlag, ...aheadMonthsFlag, ...migrationsDirFlag}

  async run(): Promise<MigrateResult> {
    const {flags} = await this.parse(DbMigrate)
    const settings = resolveMysql(flags['mysql-url'])
    const result = await this.spin(`Migrating ${settings.display}`, () =>
      migrate(settings, {timezone: flags.timezone, aheadMonths: flags['ahead-months'], migrationsDir: flags['migrations-dir']}),
    )
    if (result.applied.length === 0) this.log(`Schema is up to date at version ${result.version}.`)
    for (const m of result.applied) this.log(`applied ${String(m.version).padStart(3, '0')} ${m.name}`)
    if (result.partitionsCreated.length > 0) this.log(`created partitions ${result.partitionsCreated.join(', ')}`)
    return result
  }
}
