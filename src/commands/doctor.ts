import {Flags} from '@oclif/core'
import {druidFlags, kafkaFlags, listOf, mysqlFlags, resolveDruid, resolveMysql, topicFlags} from '../config.js'
import {MauCommand} from '../command.js'
import {DruidClient} from '../druid.js'
import {DruidUserEvents} from '../druid-events.js'
import {doctor, type DoctorResult} from '../doctor.js'
import {table} from '../render.js'

export default class Doctor extends MauCommand<DoctorResult> {
  static override summary = 'Check that MySQL, the schema and Kafka (and with --druid, Druid) are ready, and say how to fix what is not.'
  static override description = 'Exit code: 0 all good, 2 bad configuration (e.g. a missing topic or Druid column), 4 a service is unreachable, 5 schema not migrated.'
  static override flags = {
    ...mysqlFlags,
    ...kafkaFlags,
    ...topicFlags,
    ...druidFlags,
    druid: Flags.boolean({env: 'MAU_DOCTOR_DRUID', summary: 'Also check Druid: reachable, and the datasource and columns verify-migration and backfill read.'}),
  }

  async run(): Promise<DoctorResult> {
    const {flags} = await this.parse(Doctor)
    const topics = listOf(flags.topic)
    const druid = flags.druid ? resolveDruid(flags) : undefined
    const druidCheck = druid && new DruidUserEvents(new DruidClient(druid.client), druid.schema, {})
    const result = await this.spin('Checking services', () => doctor(resolveMysql(flags['mysql-url']), {brokers: flags.brokers, topics}, druidCheck))
    this.log(table(['check', 'status', 'detail', 'fix'], result.checks.map((c) => [c.name, c.ok ? 'ok' : 'FAIL', c.detail, c.fix ?? ''])))
    process.exitCode = result.exitCode
    return result
  }
}
