import {Flags} from '@oclif/core'
import {druidFlags, listOf, mysqlFlags, resolveDruid, resolveMysql, timezoneFlag} from '../config.js'
import {MauCommand} from '../command.js'
import {DruidClient} from '../druid.js'
import {DruidUserEvents} from '../druid-events.js'
import {configError, ExitCode} from '../errors.js'
import {addMonths, currentMonth, parseInstant, parseYearMonth} from '../month.js'
import {table} from '../render.js'
import {asServiceError, openPool} from '../store.js'
import {toVerifyCsv, verifyMigration, type Side, type VerifyResult} from '../verify.js'

export default class VerifyMigration extends MauCommand<VerifyResult> {
  static override summary = 'Prove Druid and MySQL agree on a month: users and events per environment and source, side by side.'
  static override description = `Exit 0 when every line matches (within --tolerance with --approximate), 1 on a mismatch,
2 when Druid rejects the query or the credentials, 4 when Druid or MySQL cannot be reached or Druid times out.
Druid counts distinct users exactly unless --approximate. Both sides cut the month at the same instant in --timezone.`
  static override examples = [
    '<%= config.bin %> verify-migration --month 202212',
    '<%= config.bin %> verify-migration --month 202212 --since 2022-12-05T00:00:00Z --users 20',
    '<%= config.bin %> verify-migration --month 202212 --approximate --tolerance 2 --csv',
  ]
  static override flags = {
    ...mysqlFlags,
    ...druidFlags,
    ...timezoneFlag,
    month: Flags.string({summary: 'YYYYMM or YYYY-MM (default: the previous month in --timezone).'}),
    namespace: Flags.string({multiple: true, summary: 'Only these environments (repeatable).'}),
    since: Flags.string({summary: 'Only events at or after this instant (when the double write started); ISO 8601, or read in --timezone.'}),
    approximate: Flags.boolean({summary: 'Let Druid count distinct users with sketches (faster, within about 2%).'}),
    tolerance: Flags.string({default: '2', summary: 'With --approximate: percent by which users may differ. Events must always be equal.'}),
    users: Flags.integer({min: 1, max: 10_000, summary: 'For each line whose users differ, list up to N user ids found on one side only.'}),
    csv: Flags.boolean({summary: 'Print CSV instead of a table.', exclusive: ['json']}),
  }

  async run(): Promise<VerifyResult> {
    const {flags} = await this.parse(VerifyMigration)
    const month = flags.month ? parseYearMonth(flags.month) : addMonths(currentMonth(flags.timezone), -1)
    const tolerance = Number(flags.tolerance)
    if (!(tolerance >= 0 && tolerance <= 100)) throw configError(`Invalid --tolerance "${flags.tolerance}": expected a percentage from 0 to 100.`)
    const since = flags.since === undefined ? undefined : parseInstant(flags.since, flags.timezone, '--since')
    const druid = resolveDruid(flags)
    const events = new DruidUserEvents(new DruidClient(druid.client), druid.schema, {useApproximateCountDistinct: flags.approximate === true, sqlTimeZone: flags.timezone})
    const settings = resolveMysql(flags['mysql-url'])
    const db = openPool(settings, {connectionLimit: 2})
    let result: VerifyResult
    try {
      result = await this.spin(`Comparing ${month}`, () =>
        verifyMigration(db, events, {month, timezone: flags.timezone, namespaces: listOf(flags.namespace), since, approximate: flags.approximate, tolerancePercent: tolerance, users: flags.users}),
      )
    } catch (error) {
      throw asServiceError(error, settings)
    } finally {
      await db.end()
    }
    if (!result.ok) process.exitCode = ExitCode.FAILED
    if (flags.csv) {
      process.stdout.write(toVerifyCsv(result))
      return result
    }
    const side = (s: Side | null) => (s ? [s.users, s.events] : ['-', '-'])
    const pct = (p: number | null) => (p === null ? '' : `${p > 0 ? '+' : ''}${p}%`)
    this.log(`${month} in ${result.timezone}, ${result.window.from} to ${result.window.to}; distinct users ${result.approximate ? `approximate (tolerance ${result.tolerancePercent}%)` : 'exact'}`)
    this.log(
      table(
        ['environment', 'source', 'druid users', 'druid events', 'mysql users', 'mysql events', 'users diff', 'events diff', 'verdict'],
        result.rows.map((r) => [
          r.environment_namespace, r.source_id || 'all', ...side(r.druid), ...side(r.mysql),
          `${r.difference.users} ${pct(r.percent.users)}`.trim(), `${r.difference.events} ${pct(r.percent.events)}`.trim(), r.verdict,
        ]),
      ),
    )
    for (const r of result.rows.filter((row) => row.onlyInDruid || row.onlyInMysql)) {
      const scope = `${r.environment_namespace}/${r.source_id || 'all'}`
      if (r.onlyInDruid?.length) this.log(`only in Druid (${scope}): ${r.onlyInDruid.join(', ')}`)
      if (r.onlyInMysql?.length) this.log(`only in MySQL (${scope}): ${r.onlyInMysql.join(', ')}`)
    }
    for (const c of result.caveats) this.log(`note: ${c}`)
    this.log(result.ok ? `PASS: ${result.rows.length} lines agree.` : `FAIL: ${result.mismatches} of ${result.rows.length} lines differ.`)
    return result
  }
}
