/**
 * What verify-migration reads between the two sides' positions, on the real Kafka broker: exactly the
 * messages of the range, decoded as the consumer decodes them; nothing when the gap is too large or the
 * messages are gone (exit 4, never a verdict on part of them).
 */
import {afterAll, beforeAll, describe, expect, it} from 'vitest'
import {createKafka} from '../../src/core/kafka.js'
import {DruidClient} from '../../src/druid/client.js'
import {Positions} from '../../src/druid/positions.js'
import {decoder, type Decoded} from '../../src/ingest/decode.js'
import {watermarks} from '../../src/ingest/range.js'
import {produce} from '../fixtures/mau.js'
import {connectAdmin, createTopic} from '../fixtures/services.js'

let topic: {topic: string; drop: () => Promise<void>}
const now = Math.floor(Date.now() / 1000)

beforeAll(async () => {
  topic = await createTopic(1)
  const values = Array.from({length: 100}, (_, i) =>
    i === 70
      ? '{"user_id": '
      : JSON.stringify({environment_id: 'prod', user_id: `u-${i}`, source_id: 'WEB', last_seen: now}),
  )
  await produce(topic.topic, values, 1)
  // Kafka's retention has removed offsets 0..29.
  const admin = await connectAdmin()
  await admin.fetchTopicMetadata({topics: [topic.topic]})
  await admin.deleteTopicRecords({topic: topic.topic, partitions: [{partition: 0, offset: '30'}]})
  await admin.disconnect()
})
afterAll(() => topic?.drop())

const positions = (maxInFlight = 1000) =>
  new Positions({
    kafka: createKafka({brokers: '127.0.0.1:9092', protocol: 'PLAINTEXT'}, 'mau-test-positions'),
    brokers: '127.0.0.1:9092',
    group: 'g',
    topics: [topic.topic],
    // Not asked: messages() reads Kafka only.
    overlord: new DruidClient({url: 'http://127.0.0.1:9', timeoutMs: 1000}),
    supervisor: 's',
    decode: decoder('json'),
    maxInFlight,
  })
/** The topic as the reading after the counts sees it: its watermarks asked of the broker. */
const after = async () => ({
  topic: topic.topic,
  marks: await watermarks(
    createKafka({brokers: '127.0.0.1:9092', protocol: 'PLAINTEXT'}, 'mau-test-positions'),
    '127.0.0.1:9092',
    topic.topic,
  ),
})
const bounds = (mysql: number, druid: number) =>
  new Map([[0, {mysql: {before: mysql, after: mysql}, druid: {before: druid, after: druid}}]])

describe('Positions.messages', () => {
  it("reads exactly the messages between the sides, decoded by the consumer's decoder, a broken one included as such", async () => {
    const seen: [number, Decoded | undefined][] = []
    await positions().messages(await after(), bounds(60, 100), (_p, offset, decoded) => seen.push([offset, decoded]))
    expect(seen.map(([o]) => o)).toEqual(Array.from({length: 40}, (_, i) => 60 + i))
    expect(seen[0]![1]).toEqual({
      ok: true,
      event: {environmentNamespace: 'prod', userId: 'u-60', sourceId: 'WEB', lastSeen: now},
    })
    expect(seen.find(([o]) => o === 70)![1]).toMatchObject({ok: false, rejection: {code: 'decode'}})
  })

  it('refuses a gap over --max-in-flight before reading it (exit 4)', async () => {
    await expect(positions(39).messages(await after(), bounds(60, 100), () => {})).rejects.toMatchObject({
      exitCode: 4,
      code: 'IN_FLIGHT_TOO_LARGE',
      message: `40 messages of ${topic.topic} lie between MySQL's and Druid's positions: more than --max-in-flight 39, so the difference cannot be read now.`,
    })
  })

  it('refuses messages Kafka no longer retains rather than judge on part of them (exit 4)', async () => {
    await expect(positions().messages(await after(), bounds(10, 100), () => {})).rejects.toMatchObject({
      exitCode: 4,
      code: 'POSITION_UNREADABLE',
      message: `Messages 10..99 of ${topic.topic} partition 0 are no longer retained by Kafka (it starts at 30).`,
    })
  })

  it('reads nothing when both sides stand at the same offset', async () => {
    let n = 0
    await positions().messages(await after(), bounds(100, 100), () => n++)
    expect(n).toBe(0)
  })
})
