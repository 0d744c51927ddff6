/** Checks that everything `mau` needs answers, and says how to fix what does not. */
import {ExitCode, type ExitCodeValue, type MauError} from '../core/errors.js'
import type {Admin} from 'kafkajs'
import type {RedisSettings} from '../core/redis.js'
import {redisChecks} from './redis.js'
import {connectKafka, kafkaFailure, type KafkaSettings} from '../core/kafka.js'
import {describeTransport, type Transport} from '../core/tls.js'
import {bad, good, table} from '../core/render.js'
import type {DruidUserEvents} from '../druid/events.js'
import type {SupervisorStatus} from '../druid/supervisor.js'
import type {RecordedLoss} from '../ingest/losses.js'
import type {StatusResult} from '../schema/migrate.js'
import type {Missing} from '../schema/roles.js'
import {type GivenZone, zoneConflict} from '../core/zone.js'

export interface Check {
  name: string
  ok: boolean
  detail: string
  fix?: string
  /** For mysql and kafka: how the connection is protected (TLS version and cipher, verification, SASL). */
  transport?: Transport
}

export interface DoctorResult {
  ok: boolean
  checks: Check[]
  exitCode: ExitCodeValue
}

export interface DoctorTargets {
  /** Where MySQL is (safe to print), and its schema status read through the command's database handle. */
  mysql: {
    display: string
    status: () => Promise<StatusResult>
    transport: () => Promise<Transport>
    /** Messages deleted from Kafka before they were applied, not yet acknowledged (mau offsets ack-loss); not for a role that may not read them. */
    losses?: () => Promise<RecordedLoss[]>
    role?: {name: string; user: string; missing: () => Promise<Missing[]>}
    /** The zone recorded in the database, and the one this run was given (core/zone.ts). */
    zone?: {given: GivenZone; recorded: () => Promise<string | undefined>}
  }
  /** Not for a role whose commands never talk to Kafka (the server, the reporter). */
  kafka?: {settings: KafkaSettings; topics: string[]}
  /** Instead of Kafka, with --source redis: the platform's Redis and the streams read. */
  redis?: {settings: RedisSettings; keys: string[]}
  /** Checked only when given (verify-migration and backfill need it; the consumer does not). */
  druid?: {events: DruidUserEvents; supervisor: {id: string; status: () => Promise<SupervisorStatus>}}
}

export async function doctor({mysql, kafka, redis, druid}: DoctorTargets): Promise<DoctorResult> {
  const checks: Check[] = []
  let exitCode: ExitCodeValue = ExitCode.OK
  const fail = (check: Omit<Check, 'ok'>, code: ExitCodeValue) => {
    checks.push({...check, ok: false})
    if (exitCode === ExitCode.OK) exitCode = code
  }

  try {
    const s = await mysql.status()
    const current = s.edited.length === 0 && s.pending.length === 0
    const transport = await mysql.transport()
    checks.push({
      name: 'mysql',
      ok: true,
      detail: `reachable at ${mysql.display} (${describeTransport(transport)})`,
      transport,
    })
    if (s.edited.length > 0) {
      fail(
        {
          name: 'schema',
          detail: `applied migrations edited since: ${s.edited.map((m) => m.version).join(', ')}`,
          fix: 'Restore them from git; put changes in a new migration.',
        },
        ExitCode.SCHEMA,
      )
    } else if (s.pending.length > 0) {
      fail(
        {name: 'schema', detail: `version ${s.version} of ${s.latest}`, fix: 'Run `mau db migrate`.'},
        ExitCode.SCHEMA,
      )
    } else {
      checks.push({name: 'schema', ok: true, detail: `version ${s.version} (latest)`})
    }
    if (mysql.role) {
      const {name, user} = mysql.role
      const missing = await mysql.role.missing()
      if (missing.length === 0)
        checks.push({name: `role ${name}`, ok: true, detail: `${user} holds every privilege the role needs`})
      else
        fail(
          {
            name: `role ${name}`,
            detail: `${user} lacks ${missing.map((m) => `${m.privilege} on ${m.table}`).join(', ')}`,
            fix: `mau db grants --role ${name} --user ${user} (by an administrator)`,
          },
          ExitCode.CONFIG,
        )
    }
    if (current && mysql.zone) zoneCheck(mysql.zone.given, await mysql.zone.recorded(), checks, fail)
    if (current && mysql.losses) {
      // A user that may not read the losses (a lesser role) fails this check alone.
      try {
        lossChecks(await mysql.losses(), checks, fail)
      } catch (error) {
        const e = error as MauError
        fail({name: 'losses', detail: e.message, fix: e.suggestions?.[0]}, e.exitCode ?? ExitCode.UNAVAILABLE)
      }
    }
  } catch (error) {
    const e = error as MauError
    fail({name: 'mysql', detail: e.message, fix: e.suggestions?.[0]}, e.exitCode ?? ExitCode.UNAVAILABLE)
  }

  if (kafka) await kafkaChecks(kafka, checks, fail)
  if (redis) await redisChecks(redis, checks, fail)
  if (druid) await druidChecks(druid, kafka?.topics ?? [], checks, fail)
  return {ok: exitCode === ExitCode.OK, checks, exitCode}
}

type Fail = (check: Omit<Check, 'ok'>, code: ExitCodeValue) => void

/** The brokers answer, and every topic the consumer reads exists. */
async function kafkaChecks(kafka: NonNullable<DoctorTargets['kafka']>, checks: Check[], fail: Fail): Promise<void> {
  const {brokers} = kafka.settings
  let admin: Admin | undefined
  try {
    const client = await connectKafka(kafka.settings, 'mau-doctor')
    admin = client.kafka.admin()
    await admin.connect()
    const existing = new Set(await admin.listTopics())
    const transport = client.transport ?? {tls: false}
    checks.push({
      name: 'kafka',
      ok: true,
      detail: `reachable at ${brokers} (${describeTransport(transport)})`,
      transport,
    })
    for (const topic of kafka.topics) {
      if (existing.has(topic)) checks.push({name: `topic ${topic}`, ok: true, detail: 'exists'})
      else
        fail(
          {name: `topic ${topic}`, detail: 'does not exist', fix: 'Check MAU_KAFKA_TOPICS, or create the topic.'},
          ExitCode.CONFIG,
        )
    }
  } catch (error) {
    const e = kafkaFailure(kafka.settings, error) as MauError
    const fix =
      e.exitCode === ExitCode.CONFIG
        ? e.suggestions?.[0]
        : 'Check MAU_KAFKA_BROKERS and that the brokers run (locally: npm run services:start).'
    fail(
      {
        name: 'kafka',
        detail: e.exitCode === ExitCode.CONFIG ? e.message : `${brokers}: ${(error as Error).message}`,
        fix,
      },
      e.exitCode ?? ExitCode.UNAVAILABLE,
    )
  } finally {
    await admin?.disconnect().catch(() => undefined)
  }
}

/** The zone months are cut in: recorded, and the same as MAU_TIMEZONE when that is set. */
function zoneCheck(given: GivenZone, recorded: string | undefined, checks: Check[], fail: Fail): void {
  if (recorded === undefined)
    checks.push({
      name: 'timezone',
      ok: true,
      detail: `none recorded yet: the first workload records its own (here ${given.zone})`,
    })
  else if (given.explicit && given.zone !== recorded) {
    const e = zoneConflict(recorded, given.zone)
    fail({name: 'timezone', detail: e.message, fix: e.suggestions?.[0]}, ExitCode.CONFIG)
  } else checks.push({name: 'timezone', ok: true, detail: `${recorded} (recorded)`})
}

/** Each partition with an unacknowledged loss fails (exit 1) until an operator has found out why and acknowledged it. */
function lossChecks(losses: RecordedLoss[], checks: Check[], fail: Fail): void {
  const byPartition = new Map<string, RecordedLoss[]>()
  for (const l of losses) {
    const k = `${l.group}\u0000${l.topic}\u0000${l.partition}`
    byPartition.set(k, [...(byPartition.get(k) ?? []), l])
  }
  for (const [, ls] of byPartition) {
    const {group, topic, partition} = ls[0]!
    const messages = ls.reduce((a, l) => a + l.messages, 0)
    const ranges = ls.map((l) => `${l.from}..${l.to}`).join(', ')
    fail(
      {
        name: `losses ${topic}/${partition}`,
        detail: `${messages} messages of topic ${topic} partition ${partition} (offsets ${ranges}) were deleted from Kafka before group ${group} applied them`,
        fix: `Find out why (an outage longer than the topic's retention?), then: mau offsets ack-loss --group ${group} --topic ${topic} --partition ${partition}`,
      },
      ExitCode.FAILED,
    )
  }
  if (byPartition.size === 0)
    checks.push({name: 'losses', ok: true, detail: 'no unacknowledged messages lost upstream'})
}

/** The datasource's columns, its recent events, and the supervisor that feeds it from the consumer's topic. */
async function druidChecks(
  druid: NonNullable<DoctorTargets['druid']>,
  topics: string[],
  checks: Check[],
  fail: Fail,
): Promise<void> {
  const failed = (name: string, error: unknown) => {
    const e = error as MauError
    fail({name, detail: e.message, fix: e.suggestions?.[0]}, e.exitCode ?? ExitCode.UNAVAILABLE)
  }
  try {
    const {needed, missing} = await druid.events.columns()
    if (missing.length === needed.length) {
      fail(
        {
          name: 'druid datasource',
          detail: `${druid.events.description}: no such datasource (or no rows yet)`,
          fix: 'Check --druid-datasource (MAU_DRUID_DATASOURCE); a supervisor creates it with its first rows.',
        },
        ExitCode.CONFIG,
      )
    } else if (missing.length > 0) {
      fail(
        {
          name: 'druid datasource',
          detail: `${druid.events.description} lacks column ${missing.join(', ')}`,
          fix: "Set the --druid-*-column flags to the datasource's column names.",
        },
        ExitCode.CONFIG,
      )
    } else {
      const recent = await druid.events.recentEvents(Date.now() - 86_400_000)
      checks.push({
        name: 'druid datasource',
        ok: true,
        detail: `${druid.events.description}: columns ${needed.join(', ')}; ${recent} events in the last 24 h`,
      })
    }
  } catch (error) {
    failed('druid datasource', error)
  }
  try {
    const s = await druid.supervisor.status()
    const lag = s.lag === null ? 'lag unknown' : `lag ${s.lag} messages`
    if (!topics.includes(s.topic)) {
      fail(
        {
          name: 'druid supervisor',
          detail: `"${s.id}" reads topic "${s.topic}", not the consumer's ${topics.join(', ')}`,
          fix: "Point --druid-supervisor at the supervisor of the consumer's topic.",
        },
        ExitCode.CONFIG,
      )
    } else if (!s.healthy || s.state !== 'RUNNING') {
      fail(
        {
          name: 'druid supervisor',
          detail: `"${s.id}" on ${s.topic} is ${s.state}${s.healthy ? '' : ' (unhealthy)'}, ${lag}`,
          fix: 'Resume it, or read its recentErrors: GET /druid/indexer/v1/supervisor/<id>/status.',
        },
        ExitCode.UNAVAILABLE,
      )
    } else {
      checks.push({name: 'druid supervisor', ok: true, detail: `"${s.id}" RUNNING on ${s.topic}, ${lag}`})
    }
  } catch (error) {
    failed('druid supervisor', error)
  }
}

export function doctorTable(r: DoctorResult): string {
  return table(
    ['check', 'status', 'detail', 'fix'],
    r.checks.map((c) => [c.name, c.ok ? good('ok') : bad('FAIL'), c.detail, c.fix]),
  )
}
