/**
 * Where Druid's Kafka supervisor is (the overlord's GET /druid/indexer/v1/supervisor/{id}/status): its
 * state and lag for `doctor --druid`, and for verify-migration the offsets its tasks have applied. A
 * task's currentOffsets is the next offset it will read; what lies below it is queryable (the task serves
 * its rows until a historical has loaded them).
 */
import {ExitCode, MauError} from '../core/errors.js'
import type {DruidClient} from './client.js'

interface TaskReport {
  id?: string
  startingOffsets?: Record<string, number> | null
  currentOffsets?: Record<string, number> | null
}

/** The part of the status payload mau reads. */
export interface SupervisorPayload {
  dataSource?: string
  stream?: string
  partitions?: number
  state?: string
  detailedState?: string
  healthy?: boolean
  suspended?: boolean
  aggregateLag?: number | null
  activeTasks?: TaskReport[]
  publishingTasks?: TaskReport[]
  recentErrors?: unknown[]
}

export interface SupervisorStatus {
  id: string
  topic: string
  state: string
  healthy: boolean
  /** Messages the supervisor's tasks have yet to read (as of Druid's last lag check); null when unknown. */
  lag: number | null
  payload: SupervisorPayload
}

/** Per partition of the supervisor's topic: the lowest and highest offset its tasks have applied, by partition number. */
export type SupervisorOffsets = Map<number, {low: number; high: number}>

/** Where a side stands cannot be read now: exit 4, retry later. */
export const unreadable = (message: string, fix: string) =>
  new MauError(message, {exit: ExitCode.UNAVAILABLE, code: 'POSITION_UNREADABLE', suggestions: [fix]})

export async function supervisorStatus(overlord: DruidClient, id: string): Promise<SupervisorStatus> {
  const doc = (await overlord.getJson(`/druid/indexer/v1/supervisor/${encodeURIComponent(id)}/status`)) as {
    payload?: SupervisorPayload
  } | null
  if (!doc?.payload) {
    // Not an outage to wait out: without a supervisor Druid does not ingest from Kafka, so no message is in flight.
    throw new MauError(
      `Druid at ${overlord.display} has no supervisor "${id}": it is not ingesting from Kafka (batch ingestion, or ingestion stopped), so no message is in flight between the sides.`,
      {
        exit: ExitCode.CONFIG,
        code: 'DRUID_NO_SUPERVISOR',
        suggestions: [
          'Compare the counts as they stand, without judging differences against in-flight messages: --no-in-flight (MAU_VERIFY_IN_FLIGHT=false).',
          'If Druid should be ingesting from Kafka: check --druid-supervisor (MAU_DRUID_SUPERVISOR) and --druid-overlord-url; deploy/druid/ holds the spec to submit.',
        ],
      },
    )
  }
  const p = doc.payload
  return {
    id,
    topic: String(p.stream ?? ''),
    state: String(p.detailedState ?? p.state ?? 'UNKNOWN'),
    healthy: p.healthy === true && p.suspended !== true,
    lag: typeof p.aggregateLag === 'number' ? p.aggregateLag : null,
    payload: p,
  }
}

/**
 * Pure: the offsets Druid has applied, per partition. Replicas of a task group may stand at different
 * offsets and the broker asks either, so a partition has a low (the slowest active replica) and a high
 * (the furthest task). A publishing task's rows stay queryable, so it counts where no active task reads.
 */
export function appliedOffsets(s: SupervisorStatus): SupervisorOffsets {
  const offsets: SupervisorOffsets = new Map()
  const active = s.payload.activeTasks ?? []
  const publishing = s.payload.publishingTasks ?? []
  if (active.length === 0 && publishing.length === 0) {
    throw unreadable(
      `Druid supervisor "${s.id}" is ${s.state}${s.payload.suspended && s.state !== 'SUSPENDED' ? ' (suspended)' : ''} and no task reports its offsets.`,
      s.payload.suspended
        ? 'Resume the supervisor, or retry once its tasks run.'
        : 'Retry once its tasks run (a supervisor starts tasks within its period).',
    )
  }
  for (const task of active) {
    if (!task.currentOffsets) {
      throw unreadable(
        `Druid task ${task.id ?? '?'} of supervisor "${s.id}" did not report its offsets (it may be starting).`,
        'Retry in a minute.',
      )
    }
    for (const [p, offset] of Object.entries(task.currentOffsets)) {
      const at = offsets.get(Number(p))
      offsets.set(
        Number(p),
        at ? {low: Math.min(at.low, offset), high: Math.max(at.high, offset)} : {low: offset, high: offset},
      )
    }
  }
  for (const task of publishing) {
    for (const [p, offset] of Object.entries(task.currentOffsets ?? {})) {
      const at = offsets.get(Number(p))
      if (at) at.high = Math.max(at.high, offset)
      else offsets.set(Number(p), {low: offset, high: offset})
    }
  }
  return offsets
}
