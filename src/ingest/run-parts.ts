/**
 * What a run of the consumer needs whatever its source (Kafka in consume.ts, Redis Streams in redis/run.ts):
 * the pipeline's sizes, the dead-letter limit checked against MySQL, and the metric series started at 0.
 */
import {configError} from '../core/errors.js'
import {REJECTION_CODES} from './decode.js'
import type {ConsumerMetrics} from './metrics.js'
import {ChunkQueue, type WindowLimits} from './pipeline.js'

/** Messages are cut into chunks of at most this many as they are fetched; windows are made of chunks. */
export const CHUNK_EVENTS = 5_000
/** A window that is not full waits this long for more: a quiet topic still commits within a second. */
const LINGER_MS = 100
/** Message bytes one window and the whole queue may hold. */
const WINDOW_BYTES = 32 * 1024 * 1024
const QUEUE_BYTES = 64 * 1024 * 1024

export const windowLimits = (batchSize: number): WindowLimits => ({
  maxEvents: batchSize,
  maxBytes: WINDOW_BYTES,
  lingerMs: LINGER_MS,
})

/**
 * One window's worth waiting beside the one being written and the one being aggregated: enough that MySQL
 * does not wait for the source, and memory stays bounded (a larger queue only raised peak RSS).
 */
export const chunkQueue = (batchSize: number): ChunkQueue =>
  new ChunkQueue({maxEvents: batchSize, maxBytes: QUEUE_BYTES})

/** Dead letters are cut to fit a statement; a limit that could not fit one is refused before anything is read. */
export function requireDeadLetterFits(deadLetterMaxBytes: number, maxStatementBytes: number): void {
  if (2 * deadLetterMaxBytes + 4096 > maxStatementBytes) {
    throw configError(
      `--dead-letter-max-bytes ${deadLetterMaxBytes} is too large for this MySQL: a statement may take ${maxStatementBytes} bytes (half of max_allowed_packet, at most 4 MiB), and a payload is sent as hex.`,
      [`Use at most ${Math.floor((maxStatementBytes - 4096) / 2)}, or raise max_allowed_packet.`],
    )
  }
}

/** Every series at 0 from the start: Prometheus' increase() cannot see a counter's first step, only later ones. */
export function zeroSeries(metrics: ConsumerMetrics, topics: readonly string[]): void {
  for (const topic of topics) {
    for (const reason of REJECTION_CODES) metrics.deadLettered.inc({topic, reason}, 0)
    metrics.rewinds.inc({topic}, 0)
    metrics.lost.inc({topic}, 0)
  }
}
