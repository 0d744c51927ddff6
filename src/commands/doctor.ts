import {Flags} from '@oclif/core'
import {MauCommand} from '../core/command.js'
import * as flag from '../core/flags.js'
import {recordedZone} from '../core/zone.js'
import {mysqlTransport} from '../core/db-tls.js'
import {kafkaSettings} from '../core/kafka-security.js'
import {listOf} from '../core/settings.js'
import {resolveRedis} from '../core/redis.js'
import {streamsOf} from '../ingest/redis/streams.js'
import {doctor, doctorTable, type DoctorResult} from '../doctor/checks.js'
import {druidReader, supervisorReader} from '../druid/settings.js'
import {listLosses} from '../ingest/losses.js'
import {status} from '../schema/migrate.js'
import {mayRead, role, ROLE_NAMES} from '../core/roles.js'
import {missingPrivileges} from '../schema/roles.js'

export default class Doctor extends MauCommand<DoctorResult> {
  static override summary =
    'Check that MySQL, the schema and Kafka or Redis (and with --druid, Druid) are ready, and say how to fix what is not.'
  static override description =
    'Exit code: 0 all good, 1 messages lost upstream not yet acknowledged (mau offsets ack-loss), 2 bad configuration (e.g. a missing topic or Druid column), 4 a service is unreachable, 5 schema not migrated.'
  static override examples = [
    '<%= config.bin %> doctor',
    '<%= config.bin %> doctor --role consumer',
    '<%= config.bin %> doctor --druid --json',
  ]
  static override flags = {
    ...flag.database,
    timezone: flag.timezone,
    source: flag.eventSource,
    ...flag.kafka,
    topic: flag.topic,
    ...flag.redis,
    ...flag.druid,
    ...flag.druidSupervisor,
    role: Flags.option({
      options: ROLE_NAMES,
      env: 'MAU_ROLE',
      summary:
        'Check as this role: that the MySQL user holds every privilege of the role (mau db grants --help lists them), and only what the role uses (the server and the reporter: no Kafka, no recorded losses).',
    })(),
    druid: Flags.boolean({
      env: 'MAU_DOCTOR_DRUID',
      summary:
        'Also check Druid: the datasource and columns verify-migration and backfill read, and the Kafka supervisor that feeds it (state, lag, topic).',
    }),
  }

  async run(): Promise<DoctorResult> {
    const {flags} = await this.parse(Doctor)
    const mysql = this.mysqlSettings(flags)
    const kafka = kafkaSettings(flags)
    // A role's doctor checks only what the role does: the losses if it may read them, Kafka if it talks to it.
    const r = flags.role && role(flags.role)
    const result = await this.spin('Checking services', () =>
      doctor({
        mysql: {
          display: mysql.display,
          status: () => this.withDb(flags, (db) => status(db)),
          transport: () => this.withDb(flags, (db) => mysqlTransport(db, mysql.tls.mode)),
          losses: !r || mayRead(r, 'mau_offset_loss') ? () => this.withDb(flags, (db) => listLosses(db)) : undefined,
          zone: {given: this.givenZone, recorded: () => this.withDb(flags, (db) => recordedZone(db))},
          role: r && {
            name: r.name,
            user: mysql.user,
            missing: () => this.withDb(flags, (db) => missingPrivileges(db, r, mysql.database)),
          },
        },
        kafka: (!r || r.kafka) && flags.source === 'kafka' ? {settings: kafka, topics: listOf(flags.topic)} : undefined,
        redis:
          (!r || r.kafka) && flags.source === 'redis'
            ? {settings: resolveRedis(flags), keys: streamsOf(listOf(flags['redis-stream']), flags['redis-partitions'])}
            : undefined,
        druid: flags.druid ? {events: druidReader(flags), supervisor: supervisorReader(flags)} : undefined,
      }),
    )
    this.log(doctorTable(result))
    process.exitCode = result.exitCode
    return result
  }
}
