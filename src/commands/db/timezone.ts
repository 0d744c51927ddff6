import {Flags} from '@oclif/core'
import {MauCommand} from '../../core/command.js'
import * as flag from '../../core/flags.js'
import {zoneReport} from '../../schema/format.js'
import {setZone, showZone, type ZoneStatus} from '../../schema/timezone.js'

export default class DbTimezone extends MauCommand<ZoneStatus> {
  static override summary = 'Show the time zone the database cuts months in, or change it.'
  static override description = `A month is a calendar month in this zone for every workload: the first \`db migrate\` given --timezone (or MAU_TIMEZONE), or the first workload, records it, and a workload given another zone exits 2. --set changes it while no month has counts; once months have counts, only with --force.`
  static override examples = [
    '<%= config.bin %> db timezone',
    '<%= config.bin %> db timezone --set America/Los_Angeles',
    '<%= config.bin %> db timezone --set Asia/Tokyo --force --json',
  ]
  static override flags = {
    ...flag.database,
    set: Flags.string({summary: 'Record this IANA zone (such as UTC or Asia/Tokyo) as the one months are cut in.'}),
    force: Flags.boolean({
      dependsOn: ['set'],
      summary: 'Change the zone although months already have counts.',
      description: `Months already counted keep the rows the old zone put in them: an event is never moved, so events within a day of a month's boundary stay in the month the old zone gave them; the month in progress mixes both zones until it ends; reports already sent are not sent again, and the catch-up of report send, rotate and the month defaults follow the new zone from the next run. Restart every running workload (consume, serve) with the new MAU_TIMEZONE, or none: one still given the old zone exits 2.`,
    }),
    'lock-wait': flag.lockWait(10),
  }

  async run(): Promise<ZoneStatus> {
    const {flags} = await this.parse(DbTimezone)
    const result = await this.withDb(flags, (db) =>
      flags.set === undefined
        ? showZone(db)
        : setZone(db, flags.set, {force: flags.force, lockWaitSeconds: flags['lock-wait']}),
    )
    this.log(zoneReport(result))
    return result
  }
}
