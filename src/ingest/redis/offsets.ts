/**
 * `mau offsets list` and `reset` for Redis streams: MySQL's stored position of each stream beside the
 * stream's first entry left and its end, counted in entries (streams.ts), with the last entry id applied.
 */
import type {Redis} from 'ioredis'
import {inTransaction, type Db} from '../../core/db.js'
import {listLosses} from '../losses.js'
import {lockStoredOffset} from '../offsets.js'
import {type OffsetsList, planReset, type ResetResult, type ResetTarget} from '../reset.js'
import {countUpTo, lastBefore, streamInfo} from './io.js'
import {STREAM_PARTITION, storedPositions, streamRef} from './positions.js'
import {FIRST_ID, idBefore, removedOf, type StreamInfo, type StreamPosition} from './streams.js'

export async function listStreamOffsets(
  redis: Redis,
  db: Db,
  o: {group: string; keys: string[]},
): Promise<OffsetsList> {
  const stored = await storedPositions(db, o.group, o.keys)
  const partitions = []
  for (const key of o.keys) {
    const info = await streamInfo(redis, key)
    const s = stored.get(key)
    const low = removedOf(info)
    const high = info.entriesAdded
    const from = s?.next ?? low
    partitions.push({
      topic: key,
      partition: STREAM_PARTITION,
      stored: s?.next ?? null,
      low: info.exists ? low : null,
      high: info.exists ? high : null,
      lag: info.exists && from <= high ? high - Math.max(from, low) : null,
      entryId: s ? s.id : null,
    })
  }
  const losses = (await Promise.all(o.keys.map((topic) => listLosses(db, {group: o.group, topic})))).flat()
  return {group: o.group, partitions, losses}
}

/** Where a target puts a stream: its first entry left, its end, or the first entry at or after an instant. */
async function positionAt(redis: Redis, key: string, info: StreamInfo, target: ResetTarget): Promise<StreamPosition> {
  if (target.to === 'latest') return {id: info.lastId, next: info.entriesAdded}
  if (target.to === 'earliest' || !info.exists) return {id: FIRST_ID, next: removedOf(info)}
  const id = await lastBefore(redis, key, idBefore(target.at))
  return {id, next: removedOf(info) + (id === FIRST_ID ? 0 : await countUpTo(redis, key, id))}
}

/** Plans (and with `apply`, writes in one transaction) moving the streams' positions to the target. */
export async function resetStreams(
  redis: Redis,
  db: Db,
  o: {group: string; keys: string[]; target: ResetTarget; apply: boolean},
): Promise<ResetResult> {
  const targets = new Map<string, {info: StreamInfo; position: StreamPosition}>()
  for (const key of o.keys) {
    const info = await streamInfo(redis, key)
    targets.set(key, {info, position: await positionAt(redis, key, info, o.target)})
  }
  const plan = (stored: Map<string, number | null>) =>
    o.keys.map((key) => {
      const {info, position} = targets.get(key)!
      return planReset(
        {
          topic: key,
          partition: STREAM_PARTITION,
          stored: stored.get(key) ?? null,
          low: removedOf(info),
          high: info.entriesAdded,
          atTime: position.next,
        },
        {to: 'time', at: 0},
      )
    })
  const target = o.target.to === 'time' ? new Date(o.target.at).toISOString() : o.target.to
  if (!o.apply) {
    const stored = await storedPositions(db, o.group, o.keys)
    return {
      group: o.group,
      target,
      applied: false,
      changes: plan(new Map(o.keys.map((k) => [k, stored.get(k)?.next ?? null]))),
    }
  }
  const changes = await inTransaction(db, async (conn) => {
    const now = Math.floor(Date.now() / 1000)
    const locked = new Map<string, number | null>()
    for (const key of o.keys) {
      const s = await lockStoredOffset(conn, streamRef(o.group, key))
      locked.set(key, s === undefined || s < 0 ? null : s)
    }
    for (const key of o.keys) {
      const {position} = targets.get(key)!
      await conn.query(
        `INSERT INTO mau_consumer_offset (consumer_group, topic, kafka_partition, next_offset, stream_entry_id, updated_at) VALUES (?, ?, ?, ?, ?, ?)
         ON DUPLICATE KEY UPDATE next_offset = VALUES(next_offset), stream_entry_id = VALUES(stream_entry_id), updated_at = VALUES(updated_at)`,
        [o.group, key, STREAM_PARTITION, position.next, position.id, now],
      )
    }
    return plan(locked)
  })
  return {group: o.group, target, applied: true, changes}
}
