import {Flags} from '@oclif/core'
import {MauCommand} from '../../core/command.js'
import * as flag from '../../core/flags.js'
import {countDeadLetters, purgeDeadLetters} from '../../ingest/deadletter.js'

export interface PurgeResult {
  dryRun: boolean
  before: string
  purged: number
}

export default class DeadletterPurge extends MauCommand<PurgeResult> {
  static override summary = 'Delete the dead letters set aside before an instant (--dry-run counts them).'
  static override examples = [
    '<%= config.bin %> deadletter purge --before 2022-12-01 --dry-run',
    '<%= config.bin %> deadletter purge --before 2022-12-01T00:00:00Z --topic user-events',
  ]
  static override flags = {
    ...flag.database,
    timezone: flag.timezone,
    before: flag.requiredInstant({
      summary:
        'Delete entries set aside before this instant: ISO 8601, or a date and time read in the recorded time zone.',
    }),
    ...flag.deadLetterFilter,
    'dry-run': Flags.boolean({default: false, summary: 'Count what would be deleted; delete nothing.'}),
  }

  async run(): Promise<PurgeResult> {
    const {flags} = await this.parse(DeadletterPurge)
    const {before, purged} = await this.withZone(flags, async (db, zone) => {
      const filter = {before: flags.before.in(zone), topic: flags.topic, group: flags.group}
      return {
        before: filter.before,
        purged: await (flags['dry-run'] ? countDeadLetters(db, filter) : purgeDeadLetters(db, filter)),
      }
    })
    const at = new Date(before * 1000).toISOString()
    this.log(
      flags['dry-run']
        ? `Would delete ${purged.toLocaleString('en-US')} dead letters set aside before ${at}.`
        : `Deleted ${purged.toLocaleString('en-US')} dead letters set aside before ${at}.`,
    )
    return {dryRun: flags['dry-run'], before: at, purged}
  }
}
