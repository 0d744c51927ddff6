/**
 * Exactly once when a side goes back in time. MySQL's stored offset says where a partition's next message
 * to apply is; everything here judges another position against it, purely:
 * - a window applies only where it continues the database's position (judgeChunk): a database that went
 *   back (a failover to a replica that was behind, a restore) has its offset below where the window's
 *   fetch started reading, and the consumer rewinds to it rather than writing on top;
 * - a partition is (re)started where the database says (judgeStart): a stored offset past the partition's
 *   end (a recreated topic, another cluster) is refused, one below its log start (messages deleted before
 *   they were applied) is a loss, recorded, and one that is missing starts by the rule for a new partition.
 */
import {ExitCode, MauError} from '../core/errors.js'
import type {PartitionRef} from './offsets.js'

/** A partition's log start (low) and end (high) watermarks. */
export interface Watermarks {
  low: number
  high: number
}

export interface Loss {
  topic: string
  partition: number
  /** The first and the last offset lost, both included. */
  from: number
  to: number
  messages: number
}

export type StartDecision =
  | {kind: 'resume'; offset: number}
  /** No stored offset: where a partition never consumed starts (its log start, or --since). */
  | {kind: 'start'; offset: number}
  | {kind: 'lost'; offset: number; lost: Omit<Loss, 'topic' | 'partition'>}
  | {kind: 'ahead'; stored: number; high: number}

/** Pure: where a partition resumes, given its stored offset (undefined or -1: none) and its watermarks now. */
export function judgeStart(stored: number | undefined, marks: Watermarks, start: () => number): StartDecision {
  if (stored === undefined || stored < 0) return {kind: 'start', offset: start()}
  if (stored > marks.high) return {kind: 'ahead', stored, high: marks.high}
  if (stored < marks.low)
    return {kind: 'lost', offset: marks.low, lost: {from: stored, to: marks.low - 1, messages: marks.low - stored}}
  return {kind: 'resume', offset: stored}
}

/**
 * Pure: what a chunk does to a partition whose stored offset is `stored` (undefined: no row). `from` is where
 * the fetch that read it started, not its first message's offset: transaction markers, aborted and compacted
 * records leave offsets without messages, and those are no gap.
 *   apply:  stored lies in [from, last + 1): apply the messages from `stored` on (a redelivery skips the rest);
 *   skip:   stored is past the chunk: all of it was applied;
 *   behind: the database is behind where this chunk was read from (or has no row): applying it would skip
 *           what lies between, so the partition must be read again from the stored offset.
 */
export function judgeChunk(
  stored: number | undefined,
  chunk: {from: number; lastOffset: number},
): 'apply' | 'skip' | 'behind' {
  if (stored === undefined || stored < 0 || stored < chunk.from) return 'behind'
  return stored > chunk.lastOffset ? 'skip' : 'apply'
}

export interface Behind {
  ref: PartitionRef
  /** The database's offset (undefined: it has no row for the partition) and where the window was read from. */
  stored: number | undefined
  expected: number
}

/** Thrown inside a window's transaction (so it rolls back) when the database is behind some of its partitions. */
export class DatabaseBehind extends Error {
  constructor(readonly partitions: Behind[]) {
    super(
      `MySQL is behind the window on ${partitions.map((b) => `${b.ref.topic} partition ${b.ref.partition} (stored ${b.stored ?? 'none'}, window from ${b.expected})`).join(', ')}`,
    )
    this.name = 'DatabaseBehind'
  }
}

/** A stored offset past a partition's end: Kafka lost what MySQL applied. Refused, never skipped over. */
export function kafkaBehind(ref: PartitionRef, stored: number, high: number): MauError {
  return new MauError(
    `Kafka topic ${ref.topic} partition ${ref.partition} ends at offset ${high}, but MySQL has applied it up to offset ${stored} (group ${ref.group}): the topic was recreated, or this is another Kafka cluster. Nothing was written.`,
    {
      exit: ExitCode.CONFIG,
      code: 'KAFKA_BEHIND_MYSQL',
      suggestions: [
        `See every partition: mau offsets list --group ${ref.group} --topic ${ref.topic}`,
        `If the topic was recreated, start it over from its first message: mau offsets reset --group ${ref.group} --topic ${ref.topic} --to earliest --yes`,
      ],
    },
  )
}
