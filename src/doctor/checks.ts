/** Checks that everything `mau` needs answers, and says how to fix what does not. */
import {ExitCode, type ExitCodeValue, MauError} from '../core/errors.js'
import {createKafka} from '../core/kafka.js'
import {bad, good, table} from '../core/render.js'
import type {DruidUserEvents} from '../druid/events.js'
import type {StatusResult} from '../schema/migrate.js'
import type {Missing} from '../schema/roles.js'

export interface Check {
  name: string
  ok: boolean
  detail: string
  fix?: string
}

export interface DoctorResult {
  ok: boolean
  checks: Check[]
  exitCode: ExitCodeValue
}

export interface DoctorTargets {
  /** Where MySQL is (safe to print), and its schema status read through the command's database handle. */
  mysql: {display: string; status: () => Promise<StatusResult>; role?: {name: string; user: string; missing: () => Promise<Missing[]>}}
  kafka: {brokers: string; topics: string[]}
  /** Checked only when given (verify-migration and backfill need it; the consumer does not). */
  druid?: DruidUserEvents
}

export async function doctor({mysql, kafka, druid}: DoctorTargets): Promise<DoctorResult> {
  const checks: Check[] = []
  let exitCode: ExitCodeValue = ExitCode.OK
  const fail = (check: Omit<Check, 'ok'>, code: ExitCodeValue) => {
    checks.push({...check, ok: false})
    if (exitCode === ExitCode.OK) exitCode = code
  }

  try {
    const s = await mysql.status()
    checks.push({name: 'mysql', ok: true, detail: `reachable at ${mysql.display}`})
    if (s.edited.length > 0) {
      fail({name: 'schema', detail: `applied migrations edited since: ${s.edited.map((m) => m.version).join(', ')}`, fix: 'Restore them from git; put changes in a new migration.'}, ExitCode.SCHEMA)
    } else if (s.pending.length > 0) {
      fail({name: 'schema', detail: `version ${s.version} of ${s.latest}`, fix: 'Run `mau db migrate`.'}, ExitCode.SCHEMA)
    } else {
      checks.push({name: 'schema', ok: true, detail: `version ${s.version} (latest)`})
    }
    if (mysql.role) {
      const {name, user} = mysql.role
      const missing = await mysql.role.missing()
      if (missing.length === 0) checks.push({name: `role ${name}`, ok: true, detail: `${user} holds every privilege the role needs`})
      else fail({name: `role ${name}`, detail: `${user} lacks ${missing.map((m) => `${m.privilege} on ${m.table}`).join(', ')}`, fix: `mau db grants --role ${name} --user ${user} (by an administrator)`}, ExitCode.CONFIG)
    }
  } catch (error) {
    const e = error as MauError
    fail({name: 'mysql', detail: e.message, fix: e.suggestions?.[0]}, e.exitCode ?? ExitCode.UNAVAILABLE)
  }

  const admin = createKafka(kafka.brokers, 'mau-doctor').admin()
  try {
    await admin.connect()
    const existing = new Set(await admin.listTopics())
    checks.push({name: 'kafka', ok: true, detail: `reachable at ${kafka.brokers}`})
    for (const topic of kafka.topics) {
      if (existing.has(topic)) checks.push({name: `topic ${topic}`, ok: true, detail: 'exists'})
      else fail({name: `topic ${topic}`, detail: 'does not exist', fix: 'Check MAU_KAFKA_TOPICS, or create the topic.'}, ExitCode.CONFIG)
    }
  } catch (error) {
    fail({name: 'kafka', detail: `${kafka.brokers}: ${(error as Error).message}`, fix: 'Check MAU_KAFKA_BROKERS and that the brokers run (locally: npm run services:start).'}, ExitCode.UNAVAILABLE)
  } finally {
    await admin.disconnect().catch(() => undefined)
  }

  if (druid) {
    try {
      const recent = await druid.recentEvents(Date.now() - 86_400_000)
      checks.push({name: 'druid', ok: true, detail: `${druid.description}: ${recent} events in the last 24 h`})
    } catch (error) {
      const e = error as MauError
      fail({name: 'druid', detail: e.message, fix: e.suggestions?.[0]}, e.exitCode ?? ExitCode.UNAVAILABLE)
    }
  }
  return {ok: exitCode === ExitCode.OK, checks, exitCode}
}

export function doctorTable(r: DoctorResult): string {
  return table(['check', 'status', 'detail', 'fix'], r.checks.map((c) => [c.name, c.ok ? good('ok') : bad('FAIL'), c.detail, c.fix]))
}
