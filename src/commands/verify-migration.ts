import {Flags} from '@oclif/core'
import {MauCommand} from '../core/command.js'
import {configError, ExitCode} from '../core/errors.js'
import * as flag from '../core/flags.js'
import {monthIn} from '../core/month.js'
import {listOf} from '../core/settings.js'
import {toVerifyCsv, verifyReport} from '../druid/format.js'
import {Positions} from '../druid/positions.js'
import {druidReader, druidSupervisorOf} from '../druid/settings.js'
import {verifyMigration, type VerifyResult} from '../druid/verify.js'
import {decoder} from '../ingest/decode.js'

export default class VerifyMigration extends MauCommand<VerifyResult> {
  static override summary =
    'Prove Druid and MySQL agree on a month: users and events per environment and source, side by side.'
  static override description = `While both sides ingest the topic (the double write), a line that differs is judged against the traffic: mau's stored offsets for --group and the Druid supervisor's offsets are read before and after the counts, the messages between them are read from Kafka and decoded as the consumer decodes them, and if they account for the difference in events and users the line is in-flight, which passes. --no-in-flight compares sides that stand still (a Druid loaded by batch): any difference fails.

Exit 0 when every line matches or is in flight (within --tolerance with --approximate), 1 on a mismatch, 2 when Druid rejects the query or the credentials, 4 when Druid, Kafka or MySQL cannot be reached, Druid times out, a side's position cannot be read or more than --max-in-flight messages lie between the sides (retry later). Druid counts distinct users exactly unless --approximate. Both sides cut the month at the same instant in the recorded time zone.`
  static override examples = [
    '<%= config.bin %> verify-migration --month 202212',
    '<%= config.bin %> verify-migration --month 202212 --since 2022-12-05T00:00:00Z --users 20',
    '<%= config.bin %> verify-migration --month 202212 --approximate --tolerance 2 --csv',
    '<%= config.bin %> verify-migration --month 202612 --druid-supervisor user_events --users 20 --json',
    '<%= config.bin %> verify-migration --month 202212 --no-in-flight',
  ]
  static override flags = {
    ...flag.database,
    ...flag.druid,
    ...flag.druidSupervisor,
    ...flag.kafka,
    topic: flag.topic,
    group: flag.group,
    format: flag.eventFormat,
    activity: flag.activity,
    'in-flight': Flags.boolean({
      env: 'MAU_VERIFY_IN_FLIGHT',
      default: true,
      allowNo: true,
      summary:
        "On unless --no-in-flight: judge a difference against the messages between the two sides' positions (both sides ingest now).",
    }),
    'max-in-flight': Flags.integer({
      env: 'MAU_VERIFY_MAX_IN_FLIGHT',
      default: 1_000_000,
      min: 1,
      summary: 'Most messages to read between the sides; a larger gap exits 4 (retry once the side behind catches up).',
    }),
    timezone: flag.timezone,
    month: flag.month({relative: 'previous'}),
    namespace: flag.namespace,
    since: flag.instant({
      env: 'MAU_DOUBLE_WRITE_SINCE',
      summary:
        'Only events at or after this instant (when the double write started); ISO 8601, or read in the recorded time zone.',
    }),
    approximate: Flags.boolean({summary: 'Let Druid count distinct users with sketches (faster, within about 2%).'}),
    tolerance: Flags.string({
      default: '2',
      summary: 'With --approximate: percent by which users may differ. Events must always be equal.',
      async parse(input) {
        const n = Number(input)
        if (!(n >= 0 && n <= 100))
          throw configError(`Invalid --tolerance "${input}": expected a percentage from 0 to 100.`)
        return input
      },
    }),
    users: Flags.integer({
      min: 1,
      max: 10_000,
      summary: 'For each line whose users differ, list up to N user ids found on one side only.',
    }),
    csv: flag.csv,
  }

  async run(): Promise<VerifyResult> {
    const {flags} = await this.parse(VerifyMigration)
    const positions = flags['in-flight']
      ? new Positions({
          kafka: await this.kafka(flags, `mau-verify-${flags.group}`),
          brokers: flags.brokers,
          group: flags.group,
          topics: listOf(flags.topic),
          ...druidSupervisorOf(flags),
          decode: decoder(flags.format, [...flags.activity]),
          maxInFlight: flags['max-in-flight'],
        })
      : undefined
    const result = await this.spin(`Comparing ${flags.month}`, () =>
      this.withZone(flags, (db, zone) => {
        const events = druidReader(flags, {useApproximateCountDistinct: flags.approximate === true, sqlTimeZone: zone})
        const options = {
          month: monthIn(flags.month, zone),
          timezone: zone,
          namespaces: flags.namespace,
          since: flags.since?.in(zone),
          approximate: flags.approximate,
          tolerancePercent: Number(flags.tolerance),
          users: flags.users,
        }
        return verifyMigration(db, events, options, positions)
      }),
    )
    if (!result.ok) process.exitCode = ExitCode.FAILED
    if (flags.csv) process.stdout.write(toVerifyCsv(result))
    else this.log(verifyReport(result))
    return result
  }
}
