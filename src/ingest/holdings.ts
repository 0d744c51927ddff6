/**
 * The partitions one consumer member holds, and whether each is positioned at MySQL's stored offset.
 * After a group join every held partition is positioned again (kafkajs resumes from Kafka's commits, not
 * MySQL's offsets); after a window finds MySQL behind (continuity.ts), that partition is. Until its
 * positioning is done nothing of a partition is written, and nothing fetched before it ever is (holds).
 */
import type {Consumer, Kafka} from 'kafkajs'
import type {Db} from '../core/db.js'
import {ExitCode, isTransient, MauError} from '../core/errors.js'
import type {Logger} from '../core/log.js'
import type {Behind} from './continuity.js'
import type {ConsumerMetrics, Health} from './metrics.js'
import {partitionKey} from './offsets.js'
import type {Chunk} from './pipeline.js'
import {positionPartitions} from './positions.js'
import type {Tally} from './tally.js'

const POSITION_TIMEOUT_MS = 5 * 60_000

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms))

export interface HoldingsDeps {
  kafka: Kafka
  consumer: Consumer
  db: Db
  log: Logger
  metrics: ConsumerMetrics
  health: Health
  tally: Tally
  group: string
  brokers: string
  /** Unix ms: --since, where partitions without a stored offset start. */
  fromTime?: number
  /** How long positioning may keep failing before the run ends with exit 4. */
  positionTimeoutMs?: number
  /** Drops queued chunks that are no longer to be written; returns how many. */
  abandon: (keep: (c: Chunk) => boolean) => number
  stopping: () => boolean
  /** Positioning failed for good (exit 2 Kafka behind MySQL, exit 4 unreachable): the run stops. */
  failed: (error: Error) => void
}

export class Holdings {
  /** Counts joins and rewinds: a chunk remembers the one it was fetched in. */
  generation = 0
  /** Partitions held since the last join, by partitionKey; the generation each was last positioned in; those positioned since. */
  private assigned = new Set<string>()
  private readonly heldSince = new Map<string, number>()
  private readonly positioned = new Set<string>()

  constructor(private readonly deps: HoldingsDeps) {}

  isAssigned(key: string): boolean {
    return this.assigned.has(key)
  }

  /**
   * Whether a chunk may still be written: its partition is held, positioned, and has been without a break
   * since the chunk was fetched. A partition lost and won back, or read again after MySQL went back, is
   * fetched again from MySQL's offset; writing a chunk from before could skip over messages never applied.
   */
  holds(c: Pick<Chunk, 'key' | 'generation'>): boolean {
    return (
      this.assigned.has(c.key) && this.positioned.has(c.key) && c.generation >= (this.heldSince.get(c.key) ?? Infinity)
    )
  }

  joined(assignment: Record<string, number[]>): void {
    this.assigned = new Set(
      Object.entries(assignment).flatMap(([topic, partitions]) => partitions.map((p) => partitionKey(topic, p))),
    )
    this.reposition(assignment)
  }

  /** MySQL is behind these partitions' windows (a failover, a restore): read them again from its offsets. */
  rewind(behind: Behind[]): void {
    const assignment: Record<string, number[]> = {}
    for (const {ref, stored, expected} of behind) {
      this.deps.log.warn(
        {topic: ref.topic, partition: ref.partition, stored: stored ?? null, expected},
        'MySQL is behind the consumer (failover or restore): reading the partition again from its stored offset',
      )
      this.deps.metrics.rewinds.inc({topic: ref.topic})
      this.deps.tally.rewinds++
      ;(assignment[ref.topic] ??= []).push(ref.partition)
    }
    this.reposition(assignment)
  }

  /**
   * Stops writing the partitions' chunks (holds is false for each until it is positioned again), then
   * positions them where MySQL says, in the background, retrying; a partition positioned again meanwhile is
   * left to that later positioning.
   */
  private reposition(assignment: Record<string, number[]>): void {
    const generation = ++this.generation
    for (const [topic, partitions] of Object.entries(assignment)) {
      for (const p of partitions) {
        this.heldSince.set(partitionKey(topic, p), generation)
        this.positioned.delete(partitionKey(topic, p))
      }
    }
    const abandoned = this.deps.abandon((c) => this.holds(c))
    this.deps.metrics.abandoned.inc(abandoned)
    if (abandoned > 0)
      this.deps.log.info({chunks: abandoned}, 'abandoned queued chunks of partitions revoked or read again')
    void this.position(assignment, generation).catch((error: Error) => {
      this.deps.log.error({err: error}, "could not position partitions at MySQL's offsets; stopping")
      this.deps.failed(error)
    })
  }

  private async position(assignment: Record<string, number[]>, generation: number): Promise<void> {
    const {db, log, metrics, tally} = this.deps
    const deadline = Date.now() + (this.deps.positionTimeoutMs ?? POSITION_TIMEOUT_MS)
    for (let delay = 250; ; delay = Math.min(delay * 2, 10_000)) {
      if (this.deps.stopping()) return
      try {
        const done = await positionPartitions(
          this.deps.kafka,
          db,
          {group: this.deps.group, brokers: this.deps.brokers, fromTime: this.deps.fromTime},
          assignment,
        )
        for (const {ref, decision} of done) {
          const key = partitionKey(ref.topic, ref.partition)
          if (this.heldSince.get(key) !== generation || !this.assigned.has(key)) continue
          this.deps.consumer.seek({topic: ref.topic, partition: ref.partition, offset: String(decision.offset)})
          this.positioned.add(key)
          tally.position(key, decision.offset)
          if (decision.kind === 'lost') {
            const lost = {topic: ref.topic, partition: ref.partition, ...decision.lost}
            log.error(
              {...lost, group: ref.group},
              'messages deleted from Kafka before they were applied: the loss is recorded (mau offsets list), consuming on from the log start',
            )
            metrics.lost.inc({topic: ref.topic}, lost.messages)
            tally.lost.push(lost)
          }
        }
        // Ready (/readyz) once its partitions are where MySQL says: before that it reads nothing.
        this.deps.health.joined = true
        log.info(
          {
            positions: done.map((p) => ({
              topic: p.ref.topic,
              partition: p.ref.partition,
              offset: p.decision.offset,
              how: p.decision.kind,
            })),
          },
          "positioned partitions at MySQL's offsets",
        )
        return
      } catch (error) {
        if (error instanceof MauError && error.exitCode === ExitCode.CONFIG) throw error
        const retriable = isTransient(error) || (error instanceof MauError && error.exitCode === ExitCode.UNAVAILABLE)
        if (!retriable || Date.now() + delay > deadline) {
          throw new MauError(
            `Could not position partitions ${JSON.stringify(assignment)} at MySQL's stored offsets: ${(error as Error).message}. Nothing of them was written.`,
            {
              exit: ExitCode.UNAVAILABLE,
              code: 'POSITION_FAILED',
              suggestions: [
                "Check that MySQL and Kafka answer (mau doctor), then start mau consume again: it resumes from MySQL's offsets.",
              ],
            },
          )
        }
        log.warn({err: error, retryInMs: delay}, 'could not position partitions yet; retrying')
        await sleep(delay)
      }
    }
  }
}
