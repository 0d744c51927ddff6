/** Producing to the real broker and reading `mau` back, for the consumer's integration tests. */
import type {RowDataPacket} from 'mysql2/promise'
import {encode, sampleEvents, Truth, type SampleEvent, type SampleOptions} from '../../bench/sample-events.js'
import type {MysqlSettings} from '../../src/config.js'
import {consume, type ConsumeOptions} from '../../src/consume.js'
import {createLogger} from '../../src/log.js'
import {ConsumerMetrics, Health} from '../../src/metrics.js'
import {openConnection, type Db} from '../../src/store.js'
import {groupOf, kafka} from './services.js'

/** December 2022, the month most consumer tests generate events in. */
export const DECEMBER_2022 = {from: Date.UTC(2022, 11, 1) / 1000, to: Date.UTC(2023, 0, 1) / 1000}

/** Sample events with the rows `mau` must end up holding for them (months cut in `zone`). */
export function generate(o: Partial<SampleOptions> & {events: number}, zone = 'UTC'): {events: SampleEvent[]; truth: Truth} {
  const events = [...sampleEvents({users: 2_000, namespaces: 5, ...DECEMBER_2022, seed: o.events, ...o})]
  const truth = new Truth(zone)
  for (const e of events) truth.add(e)
  return {events, truth}
}

/** Generates sample events, produces them as JSON spread over the partitions, returns the ground truth. */
export async function produceSample(topic: string, partitions: number, o: Partial<SampleOptions> & {events: number}): Promise<Truth> {
  const {events, truth} = generate(o)
  await produce(topic, events.map((e) => encode(e, 'json')), partitions)
  return truth
}

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

/**
 * The real consumer over a topic until its end, as `mau consume --stop-at-end` runs it. The group is the
 * topic's own: kafkajs's assigner spreads every topic a group subscribes to over all its members, so two
 * test files sharing a group on different topics would take each other's partitions and wait forever.
 */
export function consumeAll(pool: Db, topic: string, opts: Partial<ConsumeOptions> = {}) {
  return consume(
    {brokers: '127.0.0.1:9092', topics: [topic], group: groupOf(topic), format: 'json', timezone: 'UTC', batchSize: 1000, stopAtEnd: true, concurrency: 2, ...opts},
    {db: pool, log: createLogger('test', 'silent'), metrics: new ConsumerMetrics(), health: new Health(60), signal: new AbortController().signal},
  )
}
