import {MauCommand} from '../../core/command.js'
import * as flag from '../../core/flags.js'
import {resolveZone} from '../../core/zone.js'
import {migrateReport} from '../../schema/format.js'
import {MIGRATE_POOL, migrate, type MigrateResult} from '../../schema/migrate.js'

type Result = MigrateResult & {timezone: string | null}

export default class DbMigrate extends MauCommand<Result> {
  static override summary = "Apply the pending migrations in migrations/ and create the coming months' partitions."
  static override description = `Safe to run from several pods at once: a MySQL named lock lets one apply while the others wait. Re-running applies nothing. Fails (exit 5) when an applied migration file was edited. Given --timezone or MAU_TIMEZONE, it records that zone if none is recorded yet, and exits 2 if another is (mau db timezone).`
  static override examples = [
    '<%= config.bin %> db migrate',
    'MAU_MYSQL_URL=mysql://mau@db:3306/mau MAU_TIMEZONE=Asia/Tokyo <%= config.bin %> db migrate --json',
  ]
  static override flags = {
    ...flag.database,
    timezone: flag.timezone,
    'ahead-months': flag.aheadMonths,
    'migrations-dir': flag.migrationsDir,
    'lock-wait': flag.lockWait(60),
  }

  async run(): Promise<Result> {
    const {flags} = await this.parse(DbMigrate)
    const options = {
      aheadMonths: flags['ahead-months'],
      migrationsDir: flags['migrations-dir'],
      lockWaitSeconds: flags['lock-wait'],
    }
    const result = await this.spin('Migrating', () =>
      this.withDb(
        flags,
        async (db) => {
          // The coming months are cut in the recorded zone; an explicit one is checked against it before any change.
          const before = await resolveZone(db, this.givenZone, {record: false})
          const migrated = await migrate(db, {...options, timezone: before.zone})
          // Only a zone the operator chose is recorded here; otherwise the first workload records its own.
          const after = await resolveZone(db, this.givenZone, {record: this.givenZone.explicit})
          return {...migrated, timezone: after.unrecorded ? null : after.zone}
        },
        MIGRATE_POOL,
      ),
    )
    this.log(migrateReport(result))
    this.log(
      result.timezone
        ? `Months are cut in ${result.timezone} (recorded).`
        : 'No time zone recorded yet: the first workload records its own (MAU_TIMEZONE, default UTC).',
    )
    return result
  }
}
