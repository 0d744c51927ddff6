import {Flags} from '@oclif/core'
import {MauCommand} from '../../core/command.js'
import * as flag from '../../core/flags.js'
import {rotateReport} from '../../schema/format.js'
import {rotate, type RotateResult} from '../../schema/rotate.js'

export default class PartitionsRotate extends MauCommand<RotateResult> {
  static override summary = 'Create the current and coming months\' partitions and drop expired ones (a daily CronJob).'
  static override description = `Creating splits the partition that holds the month (normally the empty catch-all pmax: instant; if it holds rows, they move to their month's partition and the time it took is reported). Dropping a month is instant and takes no row locks. Safe to run twice or concurrently: a named lock lets one run at a time, and a second run waits --lock-wait seconds, then exits 3. Re-running does nothing.`
  static override examples = ['<%= config.bin %> partitions rotate --dry-run', '<%= config.bin %> partitions rotate --retain-months 13 --ahead-months 3 --json']
  static override flags = {
    ...flag.database,
    timezone: flag.timezone,
    'retain-months': flag.retainMonths,
    'ahead-months': flag.aheadMonths,
    'lock-wait': flag.lockWait(),
    'dry-run': Flags.boolean({summary: 'Print the exact SQL without running it.'}),
  }

  async run(): Promise<RotateResult> {
    const {flags} = await this.parse(PartitionsRotate)
    const options = {retainMonths: flags['retain-months'], aheadMonths: flags['ahead-months'], dryRun: flags['dry-run'], lockWaitSeconds: flags['lock-wait']}
    const result = await this.spin('Rotating partitions', () => this.withZone(flags, (db, timezone) => rotate(db, {...options, timezone})))
    for (const w of result.plan.warnings) this.warn(w)
    this.log(rotateReport(result))
    return result
  }
}
