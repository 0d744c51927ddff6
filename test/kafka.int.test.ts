import {afterAll, beforeAll, describe, expect, it} from 'vitest'
import {createTopic, groupOf, kafka} from './helpers/services.js'

let topic: {topic: string; drop: () => Promise<void>}
beforeAll(async () => {
  topic = await createTopic(1)
})
afterAll(async () => {
  await topic.drop()
})

describe('the local Kafka broker', () => {
  it('round-trips a message from a kafkajs producer to a kafkajs consumer', async () => {
    const client = kafka()
    const producer = client.producer()
    await producer.connect()
    await producer.send({topic: topic.topic, messages: [{key: 'k', value: 'hello from mau'}]})
    await producer.disconnect()

    const consumer = client.consumer({groupId: groupOf(topic.topic)})
    await consumer.connect()
    await consumer.subscribe({topics: [topic.topic], fromBeginning: true})
    const received = await new Promise<string>((resolve) => {
      void consumer.run({eachMessage: async ({message}) => resolve(String(message.value))})
    })
    await consumer.disconnect()
    expect(received).toBe('hello from mau')
  })
})
