import {kafkaFlags, listOf, mysqlFlags, resolveMysql, topicFlags} from '../config.js'
import {MauCommand} from '../command.js'
import {doctor, type DoctorResult} from '../doctor.js'
import {table} from '../render.js'

export default class Doctor extends MauCommand<DoctorResult> {
  static override summary = 'Check that MySQL, the schema and Kafka are ready, and say how to fix what is not.'
  static override description = 'Exit code: 0 all good, 2 bad configuration (e.g. a missing topic), 4 a service is unreachable, 5 schema not migrated.'
  static override flags = {...mysqlFlags, ...kafkaFlags, ...topicFlags}

  async run(): Promise<DoctorResult> {
    const {flags} = await this.parse(Doctor)
    const topics = listOf(flags.topic)
    const result = await this.spin('Checking MySQL and Kafka', () => doctor(resolveMysql(flags['mysql-url']), {brokers: flags.brokers, topics}))
    this.log(table(['check', 'status', 'detail', 'fix'], result.checks.map((c) => [c.name, c.ok ? 'ok' : 'FAIL', c.detail, c.fix ?? ''])))
    process.exitCode = result.exitCode
    return result
  }
}
