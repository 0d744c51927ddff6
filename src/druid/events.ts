/**
 * The Druid SQL that reads the old pipeline's user events: counts per environment and source, user ids,
 * and per-user aggregates for backfill. Every query covers [from, to) in epoch milliseconds, computed
 * by the caller from the same month bounds the consumer uses, so both sides cut a month at one instant.
 * Sources are normalised in the query as the consumer normalises them (2 and "ios" are IOS), so that
 * distinct users per source are counted over the same groups on both sides.
 */
import {bigint, varchar, type DruidClient, type DruidParameter} from './client.js'
import {sourceNames} from '../core/platform.js'

export interface DruidSchema {
  datasource: string
  userColumn: string
  namespaceColumn: string
  /** Rows since the platform's rename carry an environment id: when set, it wins where non-empty (decode.ts's rule). */
  environmentIdColumn?: string
  sourceColumn: string
  /** A rolled-up datasource's count metric: events are its SUM rather than COUNT(*). */
  eventsColumn?: string
}

/** [from, to) in epoch milliseconds. */
export interface TimeWindow {
  from: number
  to: number
}

export interface DruidCount {
  environment_namespace: string
  source_id: string
  users: number
  events: number
}

/** A row of the count queries as Druid's JSON holds it: null where the namespace or source column is. */
type CountRow = {environment_namespace: string | null; source_id?: string | null; users?: unknown; events: unknown}

export interface UserAggregate {
  source_id: string
  user_id: string
  events: number
  first_ms: number
  last_ms: number
}

/** Druid identifiers are double-quoted, a quote inside doubled; names come from validated flags. */
export const identifier = (name: string): string => `"${name.replace(/"/g, '""')}"`

export class DruidUserEvents {
  private readonly col: {user: string; ns: string; source: string; events: string; table: string}
  private readonly schema: DruidSchema
  /** "datasource at URL", safe to print. */
  readonly description: string

  /** context: query context for every query, e.g. useApproximateCountDistinct. */
  constructor(
    private readonly druid: DruidClient,
    schema: DruidSchema,
    private readonly context: Record<string, unknown>,
  ) {
    this.description = `${schema.datasource} at ${druid.display}`
    this.schema = schema
    const src = identifier(schema.sourceColumn)
    this.col = {
      user: identifier(schema.userColumn),
      ns: schema.environmentIdColumn
        ? `COALESCE(NULLIF(${identifier(schema.environmentIdColumn)}, ''), ${identifier(schema.namespaceColumn)})`
        : identifier(schema.namespaceColumn),
      // decode.ts's sourceName: a number is its name, a known name in any case is its upper case, a newer
      // SDK's name is kept as sent, and a missing source is UNKNOWN.
      source: `COALESCE(CASE ${src} ${[...sourceNames()].map(([n, name]) => `WHEN '${n}' THEN '${name}'`).join(' ')} ELSE CASE UPPER(${src}) ${[...sourceNames().values()].map((name) => `WHEN '${name}' THEN '${name}'`).join(' ')} ELSE ${src} END END, 'UNKNOWN')`,
      events: schema.eventsColumn ? `SUM(${identifier(schema.eventsColumn)})` : 'COUNT(*)',
      table: identifier(schema.datasource),
    }
  }

  private where(
    w: TimeWindow,
    f: {namespaces?: string[]; source?: string; after?: string; afterPair?: {source_id: string; user_id: string}},
  ): {sql: string; params: DruidParameter[]} {
    const parts = ['__time >= MILLIS_TO_TIMESTAMP(?)', '__time < MILLIS_TO_TIMESTAMP(?)']
    const params: DruidParameter[] = [bigint(w.from), bigint(w.to)]
    if (f.namespaces?.length) {
      parts.push(`${this.col.ns} IN (${f.namespaces.map(() => '?').join(', ')})`)
      params.push(...f.namespaces.map(varchar))
    }
    if (f.source !== undefined) {
      parts.push(`${this.col.source} = ?`)
      params.push(varchar(f.source))
    }
    if (f.after !== undefined) {
      parts.push(`${this.col.user} > ?`)
      params.push(varchar(f.after))
    }
    if (f.afterPair !== undefined) {
      parts.push(`(${this.col.source} > ? OR (${this.col.source} = ? AND ${this.col.user} > ?))`)
      params.push(varchar(f.afterPair.source_id), varchar(f.afterPair.source_id), varchar(f.afterPair.user_id))
    }
    return {sql: parts.join(' AND '), params}
  }

  /** Users and events per environment (source_id '', users distinct across sources) and per environment and source. */
  async counts(w: TimeWindow, namespaces?: string[]): Promise<{perEnvironment: DruidCount[]; perSource: DruidCount[]}> {
    const {sql, params} = this.where(w, {namespaces})
    const {user, ns, source, events, table} = this.col
    const perSource = await this.druid.query<CountRow>(
      `SELECT ${ns} AS environment_namespace, ${source} AS source_id, COUNT(DISTINCT ${user}) AS users, ${events} AS events FROM ${table} WHERE ${sql} GROUP BY 1, 2`,
      params,
      this.context,
    )
    const perEnvironment = await this.druid.query<CountRow>(
      `SELECT ${ns} AS environment_namespace, COUNT(DISTINCT ${user}) AS users, ${events} AS events FROM ${table} WHERE ${sql} GROUP BY 1`,
      params,
      this.context,
    )
    const toCount = (r: CountRow, sourceId: string): DruidCount => ({
      environment_namespace: String(r.environment_namespace ?? ''),
      source_id: sourceId,
      users: Number(r.users),
      events: Number(r.events),
    })
    return {
      perEnvironment: perEnvironment.map((r) => toCount(r, '')),
      perSource: perSource.map((r) => toCount(r, String(r.source_id ?? ''))),
    }
  }

  /** The environments with events in the window (of those named, if any), with their events: cheap, no distinct count. */
  async environments(w: TimeWindow, namespaces?: string[]): Promise<{environment_namespace: string; events: number}[]> {
    const {sql, params} = this.where(w, {namespaces})
    const rows = await this.druid.query<CountRow>(
      `SELECT ${this.col.ns} AS environment_namespace, ${this.col.events} AS events FROM ${this.col.table} WHERE ${sql} GROUP BY 1 ORDER BY 1`,
      params,
      this.context,
    )
    return rows.map((r) => ({environment_namespace: String(r.environment_namespace ?? ''), events: Number(r.events)}))
  }

  /** Events since an instant: a cheap query that fails as Druid does if the datasource or a column is missing. */
  async recentEvents(sinceMs: number): Promise<number> {
    const {user, ns, source, events, table} = this.col
    const rows = await this.druid.query(
      `SELECT ${events} AS events FROM ${table} WHERE __time >= MILLIS_TO_TIMESTAMP(?) AND ${user} IS NOT NULL AND ${ns} IS NOT NULL AND ${source} IS NOT NULL`,
      [bigint(sinceMs)],
      this.context,
    )
    return Number(rows[0]?.events ?? 0)
  }

  /** The columns verify-migration and backfill read, and those the datasource lacks (all of them when it does not exist). */
  async columns(): Promise<{needed: string[]; missing: string[]}> {
    const {datasource, userColumn, namespaceColumn, environmentIdColumn, sourceColumn, eventsColumn} = this.schema
    const needed = [
      '__time',
      userColumn,
      namespaceColumn,
      ...(environmentIdColumn ? [environmentIdColumn] : []),
      sourceColumn,
      ...(eventsColumn ? [eventsColumn] : []),
    ]
    const rows = await this.druid.query(
      `SELECT COLUMN_NAME AS name FROM INFORMATION_SCHEMA.COLUMNS WHERE TABLE_SCHEMA = 'druid' AND TABLE_NAME = ?`,
      [varchar(datasource)],
      this.context,
    )
    const have = new Set(rows.map((r) => String(r.name)))
    return {needed, missing: needed.filter((c) => !have.has(c))}
  }

  /** One page of an environment's user ids (of one source, if given), in Druid's order, after `after`. */
  async userIds(
    w: TimeWindow,
    namespace: string,
    opts: {source?: string; after?: string; limit: number},
  ): Promise<string[]> {
    const {sql, params} = this.where(w, {namespaces: [namespace], source: opts.source, after: opts.after})
    const rows = await this.druid.query<{user_id: string | null}>(
      `SELECT ${this.col.user} AS user_id FROM ${this.col.table} WHERE ${sql} GROUP BY 1 ORDER BY 1 LIMIT ${pageSize(opts.limit)}`,
      params,
      this.context,
    )
    return rows.map((r) => String(r.user_id ?? ''))
  }

  /**
   * One page of per-user aggregates of an environment, by source then user: what backfill writes as `mau`
   * rows. Keyset paging on (source, user): a page starts after the last pair of the one before.
   */
  async userAggregates(
    w: TimeWindow,
    namespace: string,
    opts: {after?: {source_id: string; user_id: string}; limit: number},
  ): Promise<UserAggregate[]> {
    const {sql, params} = this.where(w, {namespaces: [namespace], afterPair: opts.after})
    const {user, source, events, table} = this.col
    const rows = await this.druid.query<{
      source_id: unknown
      user_id: string | null
      events: unknown
      first_ms: unknown
      last_ms: unknown
    }>(
      `SELECT ${source} AS source_id, ${user} AS user_id, ${events} AS events, TIMESTAMP_TO_MILLIS(MIN(__time)) AS first_ms, TIMESTAMP_TO_MILLIS(MAX(__time)) AS last_ms` +
        ` FROM ${table} WHERE ${sql} GROUP BY 1, 2 ORDER BY 1, 2 LIMIT ${pageSize(opts.limit)}`,
      params,
      this.context,
    )
    return rows.map((r) => ({
      source_id: String(r.source_id),
      user_id: String(r.user_id ?? ''),
      events: Number(r.events),
      first_ms: Number(r.first_ms),
      last_ms: Number(r.last_ms),
    }))
  }
}

/** LIMIT is written into the SQL (Druid does not take it as a parameter everywhere): an integer only. */
function pageSize(n: number): number {
  if (!Number.isInteger(n) || n < 1) throw new RangeError(`page size ${n}: expected a positive integer`)
  return n
}

/** Every user id of an environment (and source), page by page. */
export async function* allUserIds(
  events: DruidUserEvents,
  w: TimeWindow,
  namespace: string,
  source?: string,
  pageLimit = 10_000,
): AsyncGenerator<string> {
  for (let after: string | undefined; ;) {
    const page = await events.userIds(w, namespace, {source, after, limit: pageLimit})
    yield* page
    if (page.length < pageLimit) return
    after = page.at(-1)
  }
}
