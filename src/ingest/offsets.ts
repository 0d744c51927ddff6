/**
 * Where each consumer group is, per topic partition, kept in MySQL (mau_consumer_offset) and advanced in
 * the same transaction as the rows: MySQL's offsets are the truth, Kafka's committed offsets only follow.
 */
import type {PoolConnection, RowDataPacket} from 'mysql2/promise'
import type {Db, Queryable} from '../core/db.js'

export interface PartitionRef {
  group: string
  topic: string
  partition: number
}

/** -1 in next_offset: the partition is known but nothing was applied yet (written by older versions). */
const NOTHING_APPLIED = -1

export const partitionKey = (topic: string, partition: number): string => `${topic}:${partition}`

/** The topic and partition a partitionKey names (a topic name may hold ':'; the partition never does). */
export function parseKey(key: string): {topic: string; partition: number} {
  const i = key.lastIndexOf(':')
  return {topic: key.slice(0, i), partition: Number(key.slice(i + 1))}
}

/** Fails (ER_NO_SUCH_TABLE, mapped to exit 5) before the consumer joins its group if the schema is not there. */
export async function requireOffsetsTable(db: Db): Promise<void> {
  await db.query('SELECT 1 FROM mau_consumer_offset LIMIT 1')
}

/**
 * The stored offsets of several partitions (a partition without a row is absent), by partitionKey, locked
 * until the transaction ends: a second writer of a partition waits here. One round trip (one statement per
 * group and topic, rows locked in the key's order): each round trip of a window waits for Node's other work
 * to end before its answer is read.
 */
export async function lockStoredOffsets(conn: Queryable, refs: readonly PartitionRef[]): Promise<Map<string, number>> {
  const byTopic = new Map<string, PartitionRef[]>()
  for (const r of refs) {
    const k = `${r.group}\u0000${r.topic}`
    const same = byTopic.get(k)
    if (same) same.push(r)
    else byTopic.set(k, [r])
  }
  const groups = [...byTopic.values()]
  if (groups.length === 0) return new Map()
  const sql = groups
    .map(
      (g) =>
        `SELECT topic, kafka_partition, next_offset FROM mau_consumer_offset WHERE consumer_group = ? AND topic = ? AND kafka_partition IN (${g.map(() => '?').join(',')}) ORDER BY kafka_partition FOR UPDATE`,
    )
    .join(';\n')
  const [result] = await conn.query<RowDataPacket[] | RowDataPacket[][]>(
    sql,
    groups.flatMap((g) => [g[0]!.group, g[0]!.topic, ...g.map((r) => r.partition)]),
  )
  const sets = (groups.length === 1 ? [result] : result) as RowDataPacket[][]
  return new Map(
    sets.flat().map((r) => [partitionKey(String(r.topic), Number(r.kafka_partition)), Number(r.next_offset)]),
  )
}

/** One partition's stored offset (undefined: no row), locked as lockStoredOffsets locks it. */
export async function lockStoredOffset(conn: Queryable, ref: PartitionRef): Promise<number | undefined> {
  return (await lockStoredOffsets(conn, [ref])).get(partitionKey(ref.topic, ref.partition))
}

/** Sets a partition's stored offset, creating its row if the database has none. */
export async function setOffset(conn: Queryable, ref: PartitionRef, nextOffset: number, now: number): Promise<void> {
  await conn.query(
    `INSERT INTO mau_consumer_offset (consumer_group, topic, kafka_partition, next_offset, updated_at) VALUES (?, ?, ?, ?, ?)
     ON DUPLICATE KEY UPDATE next_offset = VALUES(next_offset), updated_at = VALUES(updated_at)`,
    [ref.group, ref.topic, ref.partition, nextOffset, now],
  )
}

/** entryId: a Redis stream's last entry applied, which only a stream's row has (Kafka's rows keep theirs NULL). */
export async function storeOffset(
  conn: PoolConnection,
  ref: PartitionRef,
  nextOffset: number,
  now: number,
  entryId?: string,
): Promise<void> {
  if (entryId === undefined) {
    await conn.query(
      'UPDATE mau_consumer_offset SET next_offset = ?, updated_at = ? WHERE consumer_group = ? AND topic = ? AND kafka_partition = ?',
      [nextOffset, now, ref.group, ref.topic, ref.partition],
    )
    return
  }
  await conn.query(
    'UPDATE mau_consumer_offset SET next_offset = ?, stream_entry_id = ?, updated_at = ? WHERE consumer_group = ? AND topic = ? AND kafka_partition = ?',
    [nextOffset, entryId, now, ref.group, ref.topic, ref.partition],
  )
}

/** The offsets this consumer group has applied, by partitionKey: where to resume after a restart or rebalance. */
export async function storedOffsets(db: Queryable, group: string, topics: string[]): Promise<Map<string, number>> {
  if (topics.length === 0) return new Map()
  const [rows] = await db.query<RowDataPacket[]>(
    `SELECT topic, kafka_partition, next_offset FROM mau_consumer_offset WHERE consumer_group = ? AND topic IN (${topics.map(() => '?').join(',')})`,
    [group, ...topics],
  )
  return new Map(
    rows
      .filter((r) => Number(r.next_offset) !== NOTHING_APPLIED)
      .map((r) => [partitionKey(String(r.topic), Number(r.kafka_partition)), Number(r.next_offset)]),
  )
}

/**
 * Sets where a group starts on partitions it has not applied anything from yet; partitions with stored
 * offsets keep them, since moving those back would count their events twice. Returns the partitions set.
 */
export async function seedOffsets(
  db: Db,
  group: string,
  topic: string,
  offsets: {partition: number; offset: number}[],
  now: number,
): Promise<number[]> {
  const stored = await storedOffsets(db, group, [topic])
  const fresh = offsets.filter((o) => !stored.has(partitionKey(topic, o.partition)))
  for (const {partition, offset} of fresh) {
    // The IF guards a replica that applied a batch since the read above; another replica seeding at once writes the same offset.
    await db.query(
      `INSERT INTO mau_consumer_offset (consumer_group, topic, kafka_partition, next_offset, updated_at) VALUES (?, ?, ?, ?, ?)
       ON DUPLICATE KEY UPDATE next_offset = IF(next_offset = ${NOTHING_APPLIED}, VALUES(next_offset), next_offset)`,
      [group, topic, partition, offset, now],
    )
  }
  return fresh.map((o) => o.partition).sort((a, b) => a - b)
}
