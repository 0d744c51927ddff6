import {Flags} from '@oclif/core'
import {MauCommand} from '../core/command.js'
import {configError, ExitCode} from '../core/errors.js'
import * as flag from '../core/flags.js'
import {toVerifyCsv, verifyReport} from '../druid/format.js'
import {druidReader} from '../druid/settings.js'
import {verifyMigration, type VerifyResult} from '../druid/verify.js'

export default class VerifyMigration extends MauCommand<VerifyResult> {
  static override summary = 'Prove Druid and MySQL agree on a month: users and events per environment and source, side by side.'
  static override description = `Exit 0 when every line matches (within --tolerance with --approximate), 1 on a mismatch, 2 when Druid rejects the query or the credentials, 4 when Druid or MySQL cannot be reached or Druid times out. Druid counts distinct users exactly unless --approximate. Both sides cut the month at the same instant in --timezone.`
  static override examples = [
    '<%= config.bin %> verify-migration --month 202212',
    '<%= config.bin %> verify-migration --month 202212 --since 2022-12-05T00:00:00Z --users 20',
    '<%= config.bin %> verify-migration --month 202212 --approximate --tolerance 2 --csv',
  ]
  static override flags = {
    ...flag.database,
    ...flag.druid,
    timezone: flag.timezone,
    month: flag.month({relative: 'previous'}),
    namespace: flag.namespace,
    since: flag.instant({env: 'MAU_DOUBLE_WRITE_SINCE', summary: 'Only events at or after this instant (when the double write started); ISO 8601, or read in --timezone.'}),
    approximate: Flags.boolean({summary: 'Let Druid count distinct users with sketches (faster, within about 2%).'}),
    tolerance: Flags.string({
      default: '2',
      summary: 'With --approximate: percent by which users may differ. Events must always be equal.',
      async parse(input) {
        const n = Number(input)
        if (!(n >= 0 && n <= 100)) throw configError(`Invalid --tolerance "${input}": expected a percentage from 0 to 100.`)
        return input
      },
    }),
    users: Flags.integer({min: 1, max: 10_000, summary: 'For each line whose users differ, list up to N user ids found on one side only.'}),
    csv: flag.csv,
  }

  async run(): Promise<VerifyResult> {
    const {flags} = await this.parse(VerifyMigration)
    const events = druidReader(flags, {useApproximateCountDistinct: flags.approximate === true, sqlTimeZone: flags.timezone})
    const options = {
      month: flags.month,
      timezone: flags.timezone,
      namespaces: flags.namespace,
      since: flags.since?.in(flags.timezone),
      approximate: flags.approximate,
      tolerancePercent: Number(flags.tolerance),
      users: flags.users,
    }
    const result = await this.spin(`Comparing ${flags.month}`, () => this.withDb(flags, (db) => verifyMigration(db, events, options)))
    if (!result.ok) process.exitCode = ExitCode.FAILED
    if (flags.csv) process.stdout.write(toVerifyCsv(result))
    else this.log(verifyReport(result))
    return result
  }
}
