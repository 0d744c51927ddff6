import {Flags} from '@oclif/core'
import {MauCommand} from '../../core/command.js'
import * as flag from '../../core/flags.js'
import {rotateReport} from '../../schema/format.js'
import {DEFAULT_DEAD_LETTER_RETENTION_DAYS} from '../../schema/retention.js'
import {rotate, type RotateResult} from '../../schema/rotate.js'

export default class PartitionsRotate extends MauCommand<RotateResult> {
  static override summary =
    "Create the current and coming months' partitions, drop expired ones, and delete dead letters past their retention (a daily CronJob)."
  static override description = `Creating splits the partition that holds the month (normally the empty catch-all pmax: instant; if it holds rows, they move to their month's partition and the time it took is reported). Dropping a month is instant and takes no row locks. Dead letters set aside more than --dead-letter-retention-days ago are deleted, a thousand per statement (short transactions, however large the backlog); the retention is recorded for the consumer's mau_dead_letters_past_retention metric. Safe to run twice or concurrently: a named lock lets one run at a time, and a second run waits --lock-wait seconds, then exits 3. Re-running does nothing.`
  static override examples = [
    '<%= config.bin %> partitions rotate --dry-run',
    '<%= config.bin %> partitions rotate --retain-months 13 --ahead-months 3 --json',
  ]
  static override flags = {
    ...flag.database,
    timezone: flag.timezone,
    'retain-months': flag.retainMonths,
    'ahead-months': flag.aheadMonths,
    'lock-wait': flag.lockWait(),
    'dead-letter-retention-days': Flags.integer({
      env: 'MAU_DEAD_LETTER_RETENTION_DAYS',
      default: DEFAULT_DEAD_LETTER_RETENTION_DAYS,
      min: 1,
      max: 3650,
      summary: 'Days a dead letter is kept (time to look at it and replay it); older ones are deleted.',
    }),
    'dry-run': Flags.boolean({
      summary: 'Print the exact SQL without running it, and how many dead letters would be deleted.',
    }),
  }

  async run(): Promise<RotateResult> {
    const {flags} = await this.parse(PartitionsRotate)
    const options = {
      retainMonths: flags['retain-months'],
      aheadMonths: flags['ahead-months'],
      dryRun: flags['dry-run'],
      lockWaitSeconds: flags['lock-wait'],
      deadLetterRetentionDays: flags['dead-letter-retention-days'],
    }
    const result = await this.spin('Rotating partitions', () =>
      this.withZone(flags, (db, timezone) => rotate(db, {...options, timezone})),
    )
    for (const w of result.plan.warnings) this.warn(w)
    this.log(rotateReport(result))
    return result
  }
}
