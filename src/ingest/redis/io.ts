/** The Redis commands the consumer sends, and their replies as typed values. */
import type {Redis} from 'ioredis'
import {FIRST_ID, type StreamInfo} from './streams.js'

export interface Entry {
  id: string
  /** The value of the entry's first field: the platform writes one, named by the message id. */
  value: Buffer | null
}

/** XINFO STREAM; a missing key is a stream that does not exist (yet), not an error. */
export async function streamInfo(redis: Redis, key: string): Promise<StreamInfo> {
  try {
    return parseStreamInfo((await redis.call('XINFO', 'STREAM', key)) as unknown[])
  } catch (error) {
    return missingStream(error)
  }
}

/** XINFO STREAM of several streams in one round trip. */
export async function streamInfos(redis: Redis, keys: readonly string[]): Promise<Map<string, StreamInfo>> {
  const out = new Map<string, StreamInfo>()
  if (keys.length === 0) return out
  const pipe = redis.pipeline()
  for (const key of keys) pipe.call('XINFO', 'STREAM', key)
  const replies = (await pipe.exec()) ?? []
  keys.forEach((key, i) => {
    const [error, reply] = replies[i] ?? [new Error('no reply to XINFO STREAM'), null]
    out.set(key, error ? missingStream(error) : parseStreamInfo(reply as unknown[]))
  })
  return out
}

function missingStream(error: unknown): StreamInfo {
  if (/no such key/i.test((error as Error).message))
    return {exists: false, length: 0, entriesAdded: 0, lastId: FIRST_ID}
  throw error
}

function parseStreamInfo(reply: unknown[]): StreamInfo {
  const field = new Map<string, unknown>()
  for (let i = 0; i + 1 < reply.length; i += 2) field.set(String(reply[i]), reply[i + 1])
  const first = field.get('first-entry') as [string, unknown] | null | undefined
  const length = Number(field.get('length'))
  return {
    exists: true,
    length,
    // Redis 7 counts every entry ever added (mau requires it: core/redis.ts requireRedis7).
    entriesAdded: field.has('entries-added') ? Number(field.get('entries-added')) : length,
    lastId: String(field.get('last-generated-id')),
    ...(first ? {firstId: String(first[0])} : {}),
  }
}

/** The id of the stream's last entry left, if any (XDEL and XTRIM can leave none after last-generated-id). */
export async function lastEntry(redis: Redis, key: string): Promise<string | undefined> {
  const reply = (await redis.xrevrange(key, '+', '-', 'COUNT', 1)) as [string, string[]][]
  return reply[0]?.[0]
}

/** Pure: an XREAD reply (Buffers) as entries per stream. */
export function parseXread(reply: [Buffer, [Buffer, Buffer[]][]][] | null): Map<string, Entry[]> {
  const out = new Map<string, Entry[]>()
  for (const [key, entries] of reply ?? [])
    out.set(
      key.toString(),
      entries.map(([id, fields]) => ({id: id.toString(), value: fields[1] ?? null})),
    )
  return out
}

/** After these ids, at most `count` entries per stream, waiting up to blockMs for any. */
export async function readAfter(
  redis: Redis,
  positions: [string, string][],
  count: number,
  blockMs: number,
): Promise<Map<string, Entry[]>> {
  const reply = await redis.xreadBuffer(
    'COUNT',
    count,
    'BLOCK',
    blockMs,
    'STREAMS',
    ...positions.map(([k]) => k),
    ...positions.map(([, id]) => id),
  )
  return parseXread(reply)
}

/** The last entry before `id` (exclusive), or 0-0: where --since starts a stream. */
export async function lastBefore(redis: Redis, key: string, id: string): Promise<string> {
  const reply = (await redis.xrevrange(key, id, '-', 'COUNT', 1)) as [string, string[]][]
  return reply[0]?.[0] ?? FIRST_ID
}

/** Entries from the first left up to `id` (included), paged: how many --since skips. */
export async function countUpTo(redis: Redis, key: string, id: string, page = 10_000): Promise<number> {
  let n = 0
  for (let from = '-'; ;) {
    const entries = (await redis.xrange(key, from, id, 'COUNT', page)) as [string, string[]][]
    n += entries.length
    if (entries.length < page) return n
    from = `(${entries.at(-1)![0]}`
  }
}
