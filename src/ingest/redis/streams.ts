/**
 * The platform's Redis Streams, purely: their names, entry ids, and where a stream resumes given the
 * position MySQL stored for it.
 *
 * A stream's position is the id of the last entry applied and `next`, the entries counted before the next
 * one since the stream began (trimmed ones included: the count starts at the stream's entries-added minus
 * its length). Entry ids say where XREAD resumes; the count plays the part of Kafka's offset, so that the
 * writer's continuity rules (continuity.ts judgeChunk) and mau_offset_loss apply unchanged.
 */
import {ExitCode, MauError} from '../../core/errors.js'

/** The platform's stream of a topic's partition (pkg/pubsub/redis/stream_publisher.go getStreamKey). */
export const streamKey = (topic: string, partition: number): string => `${topic}-${partition}{stream}`

export function streamKeys(topics: readonly string[], partitions: number): string[] {
  return topics.flatMap((t) => Array.from({length: partitions}, (_, p) => streamKey(t, p)))
}

/** A stream key is itself; a topic base is its streams. */
export const streamsOf = (names: readonly string[], partitions: number): string[] =>
  names.flatMap((n) => (n.endsWith('{stream}') ? [n] : streamKeys([n], partitions)))

export const FIRST_ID = '0-0'
const MAX_SEQ = '18446744073709551615'

/** Pure: an entry id ("ms-seq") as two bigints; refused when it is not one. */
export function parseId(id: string): [bigint, bigint] {
  const m = /^(\d{1,20})-(\d{1,20})$/.exec(id)
  if (!m) throw new Error(`not a stream entry id: ${JSON.stringify(id)}`)
  return [BigInt(m[1]!), BigInt(m[2]!)]
}

export function compareIds(a: string, b: string): number {
  const [am, as] = parseId(a)
  const [bm, bs] = parseId(b)
  return am !== bm ? (am < bm ? -1 : 1) : as === bs ? 0 : as < bs ? -1 : 1
}

/** The last id before the millisecond `ms`: XREAD after it returns the first entry added at or after ms. */
export const idBefore = (ms: number): string => (ms <= 0 ? FIRST_ID : `${ms - 1}-${MAX_SEQ}`)

export interface StreamPosition {
  /** The last entry applied (0-0: none yet). */
  id: string
  /** Entries before the next one, since the stream began. */
  next: number
}

/** XINFO STREAM, as much as positioning needs (a missing key: exists false, the rest zero). */
export interface StreamInfo {
  exists: boolean
  length: number
  entriesAdded: number
  lastId: string
  firstId?: string
}

export interface StreamLoss {
  from: number
  to: number
  messages: number
}

export type StreamStart =
  | {kind: 'resume'; position: StreamPosition}
  | {kind: 'start'; position: StreamPosition}
  | {kind: 'lost'; position: StreamPosition; lost: StreamLoss}
  | {kind: 'ahead'; stored: StreamPosition; info: StreamInfo}

/** Pure: the entries trimmed before the first one left (XTRIM, MAXLEN); exact while nothing is XDEL'ed from the middle. */
export const removedOf = (info: StreamInfo): number => Math.max(0, info.entriesAdded - info.length)

/**
 * Pure: whether entries after `position` were trimmed before they were read: the stream's first entry left
 * lies after the position's id, and more entries were removed than the position counts. XREAD after such a
 * position silently returns the first entry left, so what it returns cannot be numbered from `next`.
 */
export const trimmedPast = (position: StreamPosition, info: StreamInfo): boolean =>
  removedOf(info) > position.next && (info.firstId === undefined || compareIds(info.firstId, position.id) > 0)

/** Where a stream never read starts: its first entry, counted after those already trimmed. */
export const beginning = (info: StreamInfo): StreamPosition => ({id: FIRST_ID, next: removedOf(info)})

/**
 * Pure: where a stream resumes.
 *   ahead:  MySQL applied entries this stream never had (a stream deleted and recreated, another Redis):
 *           its last id lies before the stored one, or fewer entries were ever added than were applied;
 *   lost:   entries after the stored one were trimmed before they were applied: the count moves past them
 *           (XREAD after the stored id returns the first entry left);
 *   start:  no stored position: `start` says where.
 */
export function judgeStreamStart(
  stored: StreamPosition | undefined,
  info: StreamInfo,
  start: () => StreamPosition,
): StreamStart {
  if (!stored) return {kind: 'start', position: start()}
  const applied = stored.id !== FIRST_ID
  if ((applied && !info.exists) || compareIds(stored.id, info.lastId) > 0 || info.entriesAdded < stored.next)
    return {kind: 'ahead', stored, info}
  if (trimmedPast(stored, info)) {
    const removed = removedOf(info)
    return {
      kind: 'lost',
      position: {id: stored.id, next: removed},
      lost: {from: stored.next, to: removed - 1, messages: removed - stored.next},
    }
  }
  return {kind: 'resume', position: stored}
}

/** Where --stop-at-end stops a stream: its last entry at start (none: an empty stream) and the entries added by then. */
export interface StreamEnd {
  lastId?: string
  entriesAdded: number
}

/**
 * Pure: whether a stream's position has reached the end it had at start (--stop-at-end). An entry trimmed
 * or deleted after the start is never read, so the count reaching what had been added counts as well.
 */
export const reached = (position: StreamPosition | undefined, end: StreamEnd): boolean =>
  end.lastId === undefined ||
  (position !== undefined && (position.next >= end.entriesAdded || compareIds(position.id, end.lastId) >= 0))

/** A stored position past a stream's end: Redis lost what MySQL applied. Refused, never skipped over. */
export function redisBehind(group: string, key: string, stored: StreamPosition, info: StreamInfo): MauError {
  const has = info.exists ? `ends at entry ${info.lastId} after ${info.entriesAdded} entries` : 'does not exist'
  return new MauError(
    `Redis stream ${key} ${has}, but MySQL has applied it up to entry ${stored.id} (${stored.next} entries; group ${group}): the stream was deleted and recreated, or this is another Redis. Nothing was written.`,
    {
      exit: ExitCode.CONFIG,
      code: 'REDIS_BEHIND_MYSQL',
      suggestions: [
        `See every stream: mau offsets list --source redis --group ${group}`,
        `If the stream was recreated, start it over from its first entry: mau offsets reset --source redis --group ${group} --topic '${key}' --to earliest --yes`,
      ],
    },
  )
}
