/** Checks that everything `mau` needs answers, and says how to fix what does not. */
import type {MysqlSettings} from './config.js'
import type {DruidUserEvents} from './druid-events.js'
import {ExitCode, type ExitCodeValue, MauError} from './errors.js'
import {createKafka} from './kafka.js'
import {status} from './migrate.js'

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

/** druid: checked only when given (verify-migration and backfill need it; the consumer does not). */
export async function doctor(mysql: MysqlSettings, kafka: {brokers: string; topics: string[]}, druid?: DruidUserEvents): Promise<DoctorResult> {
  const checks: Check[] = []
  let exitCode: ExitCodeValue = ExitCode.OK
  const fail = (check: Omit<Check, 'ok'>, code: ExitCodeValue) => {
    checks.push({...check, ok: false})
    if (exitCode === ExitCode.OK) exitCode = code
  }

  try {
    const s = await status(mysql)
    checks.push({name: 'mysql', ok: true, detail: `reachable at ${mysql.display}`})
    if (s.edited.length > 0) {
      fail({name: 'schema', detail: `applied migrations edited since: ${s.edited.map((m) => m.version).join(', ')}`, fix: 'Restore them from git; put changes in a new migration.'}, ExitCode.SCHEMA)
    } else if (s.pending.length > 0) {
      fail({name: 'schema', detail: `version ${s.version} of ${s.latest}`, fix: 'Run `mau db migrate`.'}, ExitCode.SCHEMA)
    } else {
      checks.push({name: 'schema', ok: true, detail: `version ${s.version} (latest)`})
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
