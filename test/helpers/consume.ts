/** Producing to the real broker and reading `mau` back, for the consumer's integration tests. */
import type {RowDataPacket} from 'mysql2/promise'
import type {MysqlSettings} from '../../src/config.js'
import {openConnection} from '../../src/store.js'
import {kafka} from './services.js'

export async function produce(topic: string, values: (Buffer | string | null)[], partitions = 1): Promise<void> {
  const producer = kafka('mau-test-producer').producer()
  await producer.connect()
  for (let i = 0; i < values.length; i += 5000) {
    await producer.send({
      topic,
      acks: -1,
      messages: values.slice(i, i + 5000).map((value, j) => ({value, partition: (i + j) % partitions})),
    })
  }
  await producer.disconnect()
}

/** Rows of `mau` in the same "ns|yyyymm|source|user" keying as Truth. */
export async function readRows(settings: MysqlSettings): Promise<Map<string, {count: number; first: number; last: number}>> {
  const conn = await openConnection(settings)
  const [rows] = await conn.query<RowDataPacket[]>('SELECT environment_namespace, yearmonth, source_id, user_id, event_count, created_at, updated_at FROM mau')
  await conn.end()
  return new Map(rows.map((r) => [
    [r.environment_namespace, r.yearmonth, r.source_id, r.user_id].join('|'),
    {count: Number(r.event_count), first: Number(r.created_at), last: Number(r.updated_at)},
  ]))
}

export async function query<T extends RowDataPacket>(settings: MysqlSettings, sql: string, values: unknown[] = []): Promise<T[]> {
  const conn = await openConnection(settings)
  const [rows] = await conn.query<T[]>(sql, values)
  await conn.end()
  return rows
}
