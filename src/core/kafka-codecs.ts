/**
 * Every compression codec Kafka has, registered in kafkajs' codec registry (kafkajs itself reads only gzip):
 * a topic whose producers or whose `compression.type` compress with snappy, lz4 or zstd is read like any
 * other. snappy and lz4 are napi-rs builds that npm ships prebuilt per platform; zstd is Node's own zlib.
 */
import {zstdCompressSync, zstdDecompressSync} from 'node:zlib'
import kafkajs from 'kafkajs'
import {compressFrameSync, decompressFrameSync} from 'lz4-napi'
import {compressSync as snappyBlock, uncompressSync as unsnappyBlock} from 'snappy'

/** Java producers (and a broker recompressing) write snappy in xerial's framing: this header, then sized blocks. */
const XERIAL_MAGIC = Buffer.from([0x82, 0x53, 0x4e, 0x41, 0x50, 0x50, 0x59, 0])
const XERIAL_HEADER = 16
const XERIAL_BLOCK = 32 * 1024

/** Pure: a snappy batch as Kafka stores it (xerial-framed from Java, a bare block from others) decompressed. */
export function unsnappy(data: Buffer): Buffer {
  if (data.length < XERIAL_HEADER || !data.subarray(0, XERIAL_MAGIC.length).equals(XERIAL_MAGIC))
    return asBuffer(unsnappyBlock(data))
  const blocks: Buffer[] = []
  for (let at = XERIAL_HEADER; at < data.length;) {
    const size = data.readUInt32BE(at)
    at += 4
    blocks.push(asBuffer(unsnappyBlock(data.subarray(at, at + size))))
    at += size
  }
  return Buffer.concat(blocks)
}

/** Pure: data in xerial's framing, as Java's producer writes it. */
export function snappyXerial(data: Buffer): Buffer {
  const header = Buffer.alloc(XERIAL_HEADER)
  XERIAL_MAGIC.copy(header)
  header.writeInt32BE(1, 8)
  header.writeInt32BE(1, 12)
  const parts: Buffer[] = [header]
  for (let at = 0; at < data.length; at += XERIAL_BLOCK) {
    const block = snappyBlock(data.subarray(at, at + XERIAL_BLOCK))
    const size = Buffer.alloc(4)
    size.writeUInt32BE(block.length)
    parts.push(size, block)
  }
  return Buffer.concat(parts)
}

const asBuffer = (b: string | Buffer): Buffer => (typeof b === 'string' ? Buffer.from(b) : b)

type Codec = {compress(encoder: {buffer: Buffer}): Promise<Buffer>; decompress(buffer: Buffer): Promise<Buffer>}
const codec =
  (compress: (b: Buffer) => Buffer, decompress: (b: Buffer) => Buffer): (() => Codec) =>
  () => ({
    compress: async (encoder) => compress(encoder.buffer),
    decompress: async (buffer) => decompress(buffer),
  })

// kafkajs is CommonJS and does not name these two as ESM exports.
const {CompressionCodecs, CompressionTypes} = kafkajs

let registered = false

/** Once per process: kafkajs' registry is global. */
export function registerCodecs(): void {
  if (registered) return
  registered = true
  const codecs = CompressionCodecs as Record<number, () => Codec>
  codecs[CompressionTypes.Snappy] = codec(snappyXerial, unsnappy)
  // Kafka's LZ4 is the LZ4 frame format (KIP-57), not bare blocks.
  codecs[CompressionTypes.LZ4] = codec(
    (b) => compressFrameSync(b),
    (b) => decompressFrameSync(b),
  )
  codecs[CompressionTypes.ZSTD] = codec(
    (b) => zstdCompressSync(b),
    (b) => zstdDecompressSync(b),
  )
}
