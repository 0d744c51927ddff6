/**
 * Produces realistic sample user events (this month, in UTC) to a Kafka topic, plus a few malformed
 * ones to show dead-lettering. Used by `npm run demo`.
 *   tsx scripts/produce-sample.ts --topic T [--events N] [--brokers host:port]
 */
import {parseArgs} from 'node:util'
import {Kafka, logLevel} from 'kafkajs'
import {encode, sampleEvents} from '../test/fixtures/events.js'
import {monthBounds, currentMonth} from '../src/core/month.js'

const {values: args} = parseArgs({options: {topic: {type: 'string'}, events: {type: 'string', default: '50000'}, brokers: {type: 'string', default: process.env.MAU_KAFKA_BROKERS ?? '127.0.0.1:9092'}}})
if (!args.topic) throw new Error('--topic is required')
const {start} = monthBounds(currentMonth('UTC'), 'UTC')
const now = Math.floor(Date.now() / 1000)
const kafka = new Kafka({clientId: 'mau-demo', brokers: args.brokers.split(','), logLevel: logLevel.NOTHING})
const admin = kafka.admin()
await admin.connect()
await admin.createTopics({topics: [{topic: args.topic, numPartitions: 3}], waitForLeaders: true})
await admin.disconnect()
const producer = kafka.producer()
await producer.connect()
const messages = [...sampleEvents({events: Number(args.events), users: 5_000, namespaces: 3, from: start, to: Math.max(start + 3600, now), seed: 1})].map((e) => ({value: encode(e, 'json')}))
messages.push({value: Buffer.from('{"user_id": "truncated')}, {value: Buffer.from(JSON.stringify({environment_namespace: 'env-0', user_id: '', source_id: 'IOS', last_seen: now}))})
for (let i = 0; i < messages.length; i += 10_000) await producer.send({topic: args.topic, messages: messages.slice(i, i + 10_000)})
await producer.disconnect()
console.error(`produced ${messages.length} events (2 of them malformed) to ${args.topic}`)
