import {randomBytes} from 'node:crypto'
import {describe, expect, it} from 'vitest'
import kafkajs from 'kafkajs'
import {registerCodecs, snappyXerial, unsnappy} from '../../src/core/kafka-codecs.js'

describe('snappy as Kafka stores it', () => {
  it('reads xerial-framed batches of several blocks, as Java producers write them', () => {
    const data = Buffer.concat([randomBytes(50_000), Buffer.alloc(70_000, 'a')])
    const framed = snappyXerial(data)
    expect(framed.subarray(0, 8)).toEqual(Buffer.from([0x82, 0x53, 0x4e, 0x41, 0x50, 0x50, 0x59, 0]))
    expect(unsnappy(framed)).toEqual(data)
  })
})

describe('registerCodecs', () => {
  it('lets kafkajs compress and decompress snappy, lz4 and zstd', async () => {
    registerCodecs()
    const {CompressionCodecs, CompressionTypes} = kafkajs
    const data = Buffer.from(JSON.stringify({user_id: 'u'.repeat(300)}))
    for (const type of [CompressionTypes.Snappy, CompressionTypes.LZ4, CompressionTypes.ZSTD]) {
      const codec = (
        CompressionCodecs as unknown as Record<
          number,
          () => {compress(e: {buffer: Buffer}): Promise<Buffer>; decompress(b: Buffer): Promise<Buffer>}
        >
      )[type]!()
      const compressed = await codec.compress({buffer: data})
      expect(compressed.length, String(type)).toBeLessThan(data.length)
      expect(await codec.decompress(compressed)).toEqual(data)
    }
  })
})
