import {Flags} from '@oclif/core'
import {MauCommand} from '../core/command.js'
import * as flag from '../core/flags.js'
import {recordedZone} from '../core/zone.js'
import {mysqlTransport} from '../core/db-tls.js'
import {kafkaSettings} from '../core/kafka-security.js'
import {listOf} from '../core/settings.js'
import {doctor, doctorTable, type DoctorResult} from '../doctor/checks.js'
import {druidReader, supervisorReader} from '../druid/settings.js'
import {listLosses} from '../ingest/losses.js'
import {status} from '../schema/migrate.js'
import {role, ROLE_NAMES} from '../core/roles.js'
import {missingPrivileges} from '../schema/roles.js'

export default class Doctor extends MauCommand<DoctorResult> {
  static override summary = 'Check that MySQL, the schema and Kafka (and with --druid, Druid) are ready, and say how to fix what is not.'
  static override description = 'Exit code: 0 all good, 1 messages lost upstream not yet acknowledged (mau offsets ack-loss), 2 bad configuration (e.g. a missing topic or Druid column), 4 a service is unreachable, 5 schema not migrated.'
  static override examples = ['<%= config.bin %> doctor', '<%= config.bin %> doctor --role consumer', '<%= config.bin %> doctor --druid --json']
  static override flags = {
    ...flag.database,
    timezone: flag.timezone,
    ...flag.kafka,
    topic: flag.topic,
    ...flag.druid,
    ...flag.druidSupervisor,
    role: Flags.option({options: ROLE_NAMES, env: 'MAU_ROLE', summary: 'Also check that the MySQL user holds every privilege of this role (mau db grants --help lists them).'})(),
    druid: Flags.boolean({env: 'MAU_DOCTOR_DRUID', summary: 'Also check Druid: the datasource and columns verify-migration and backfill read, and the Kafka supervisor that feeds it (state, lag, topic).'}),
  }

  async run(): Promise<DoctorResult> {
    const {flags} = await this.parse(Doctor)
    const mysql = this.mysqlSettings(flags)
    const kafka = kafkaSettings(flags)
    const result = await this.spin('Checking services', () =>
      doctor({
        mysql: {
          display: mysql.display,
          status: () => this.withDb(flags, (db) => status(db)),
          transport: () => this.withDb(flags, (db) => mysqlTransport(db, mysql.tls.mode)),
          losses: () => this.withDb(flags, (db) => listLosses(db)),
          zone: {given: this.givenZone, recorded: () => this.withDb(flags, (db) => recordedZone(db))},
          role: flags.role && {name: flags.role, user: mysql.user, missing: () => this.withDb(flags, (db) => missingPrivileges(db, role(flags.role!), mysql.database))},
        },
        kafka: {settings: kafka, topics: listOf(flags.topic)},
        druid: flags.druid ? {events: druidReader(flags), supervisor: supervisorReader(flags)} : undefined,
      }),
    )
    this.log(doctorTable(result))
    process.exitCode = result.exitCode
    return result
  }
}
