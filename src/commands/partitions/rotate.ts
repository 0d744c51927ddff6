import {Flags} from '@oclif/core'
import {aheadMonthsFlag, lockWaitFlag, mysqlFlags, resolveMysql, retentionFlags, timezoneFlag} from '../../config.js'
import {MauCommand} from '../../command.js'
import {rotate, type RotateResult} from '../../rotate.js'

export default class PartitionsRotate extends MauCommand<RotateResult> {
  static override summary = 'Create the current and coming months\' partitions and drop expired ones (a daily CronJob).'
  static override description = `Creating splits the partition that holds the month (normally the empty catch-all pmax: instant;
if it holds rows, they move to their month's partition and the time it took is reported). Dropping a month
is instant and takes no row locks. Safe to run twice or concurrently: a named lock lets one run at a time,
and a second run waits --lock-wait seconds, then exits 3. Re-running does nothing.`
  static override examples = ['<%= config.bin %> partitions rotate --dry-run', '<%= config.bin %> partitions rotate --retain-months 13 --ahead-months 3 --json']
  static override flags = {
    ...mysqlFlags,
    ...timezoneFlag,
    ...retentionFlags,
    ...aheadMonthsFlag,
    ...lockWaitFlag,
    'dry-run': Flags.boolean({summary: 'Print the exact SQL without running it.'}),
  }

  async run(): Promise<RotateResult> {
    const {flags} = await this.parse(PartitionsRotate)
    const result = await this.spin('Rotating partitions', () =>
      rotate(resolveMysql(flags['mysql-url']), {
        timezone: flags.timezone,
        retainMonths: flags['retain-months'],
        aheadMonths: flags['ahead-months'],
        dryRun: flags['dry-run'],
        lockWaitSeconds: flags['lock-wait'],
      }),
    )
    for (const w of result.plan.warnings) this.warn(w)
    if (result.statements.length === 0) this.log(`Nothing to do: ${result.plan.current} and the coming months have partitions, none expired (keeping from ${result.plan.keepFrom}).`)
    if (result.dryRun) for (const sql of result.statements) this.log(`${sql};`)
    for (const e of result.executed) this.log(`${e.kind.padEnd(5)} ${e.ms} ms${e.rows ? ` (~${e.rows} rows)` : ''}: ${e.sql}`)
    return result
  }
}
