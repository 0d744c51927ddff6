/** The Druid flags (core/flags.ts) resolved into a reader of the old pipeline's events. */
import {readFileSync} from 'node:fs'
import {secretFromEnv} from '../core/secrets.js'
import {DruidClient} from './client.js'
import {DruidUserEvents} from './events.js'
import {supervisorStatus} from './supervisor.js'

export interface DruidFlagValues {
  'druid-url': string
  'druid-user'?: string
  'druid-ca-file'?: string
  'druid-insecure': boolean
  'druid-timeout': number
  'druid-datasource': string
  'druid-user-column': string
  'druid-namespace-column': string
  'druid-environment-id-column'?: string
  'druid-source-column': string
  'druid-events-column'?: string
  'druid-overlord-url'?: string
  'druid-supervisor'?: string
}

export function resolveDruid(flags: DruidFlagValues, env: NodeJS.ProcessEnv = process.env) {
  return {
    client: {
      url: flags['druid-url'],
      user: flags['druid-user'],
      password: secretFromEnv('MAU_DRUID_PASSWORD', env),
      ca: flags['druid-ca-file'] ? readFileSync(flags['druid-ca-file'], 'utf8') : undefined,
      insecure: flags['druid-insecure'],
      timeoutMs: flags['druid-timeout'] * 1000,
    },
    schema: {
      datasource: flags['druid-datasource'],
      userColumn: flags['druid-user-column'],
      namespaceColumn: flags['druid-namespace-column'],
      environmentIdColumn: flags['druid-environment-id-column'],
      sourceColumn: flags['druid-source-column'],
      eventsColumn: flags['druid-events-column'],
    },
  }
}

/** Druid query context: exact distinct counts unless approximate, months cut in the given zone. */
export function druidReader(
  flags: DruidFlagValues,
  context: {useApproximateCountDistinct?: boolean; sqlTimeZone?: string} = {},
): DruidUserEvents {
  const druid = resolveDruid(flags)
  return new DruidUserEvents(new DruidClient(druid.client), druid.schema, context)
}

/** The overlord (supervisor API) with the same credentials as the SQL endpoint, and the supervisor's id. */
export function druidSupervisorOf(flags: DruidFlagValues): {overlord: DruidClient; supervisor: string} {
  const {client} = resolveDruid(flags)
  return {
    overlord: new DruidClient({...client, url: flags['druid-overlord-url'] ?? client.url}),
    supervisor: flags['druid-supervisor'] ?? flags['druid-datasource'],
  }
}

/** The supervisor's status, read when asked (doctor --druid). */
export function supervisorReader(flags: DruidFlagValues) {
  const {overlord, supervisor} = druidSupervisorOf(flags)
  return {id: supervisor, status: () => supervisorStatus(overlord, supervisor)}
}
