/**
 * The protobuf wire format, read field by field: only the fields `mau` needs are kept, every other one is
 * skipped without being decoded. The platform's evaluation events carry user data and metadata maps that a
 * full decode would turn into objects for nothing; this reads one at about the cost of a JSON event.
 * Field numbers come from the declarations in proto/ (platform.ts looks them up by name).
 */
import {isUtf8} from 'node:buffer'
import protobuf from 'protobufjs'
import {platformRoot} from '../core/platform.js'

export const WIRE = {VARINT: 0, I64: 1, LEN: 2, I32: 5} as const
const WIRE_NAMES: Record<number, string> = {
  0: 'a varint',
  1: 'a 64-bit value',
  2: 'length-delimited',
  5: 'a 32-bit value',
}
export const wireName = (wire: number): string => WIRE_NAMES[wire] ?? `wire type ${wire}`

/** A field as read: a varint's value, or the bytes of a length-delimited field (a view, not a copy). */
export interface Field {
  wire: number
  varint: number
  bytes: Buffer | undefined
}

export class WireError extends Error {}

/**
 * Pure: calls visit for each top-level field of a message, in order; the last occurrence of a field wins
 * there, as in protobuf. Throws WireError for bytes that are not a message (truncated, a group, an unknown
 * wire type). A varint above 2^53 loses precision: ids are never varints, and times that large are invalid.
 */
export function scan(buf: Buffer, visit: (field: number, f: Field) => void): void {
  let pos = 0
  // 64 bits in two 32-bit halves: a float sum loses a negative int64's low bits (-1 came out as 0).
  const varint = (): number => {
    let lo = 0
    let hi = 0
    for (let shift = 0; shift < 70; shift += 7) {
      if (pos >= buf.length) throw new WireError(`truncated varint at byte ${pos}`)
      const b = buf[pos++]!
      if (shift < 28) lo |= (b & 0x7f) << shift
      else if (shift === 28) {
        lo |= (b & 0x0f) << 28
        hi |= (b & 0x7f) >> 4
      } else hi |= (b & 0x7f) << (shift - 32)
      if (b < 0x80) {
        lo >>>= 0
        hi >>>= 0
        if (hi < 0x80000000) return hi * 2 ** 32 + lo
        const negLo = (~lo + 1) >>> 0
        return -(((~hi >>> 0) + (negLo === 0 ? 1 : 0)) * 2 ** 32 + negLo)
      }
    }
    throw new WireError(`varint longer than 10 bytes at byte ${pos}`)
  }
  const field: Field = {wire: 0, varint: 0, bytes: undefined}
  while (pos < buf.length) {
    const at = pos
    const tag = varint()
    const number = Math.floor(tag / 8)
    const wire = tag % 8
    if (number === 0) throw new WireError(`field number 0 at byte ${at}`)
    field.wire = wire
    field.varint = 0
    field.bytes = undefined
    switch (wire) {
      case WIRE.VARINT:
        field.varint = varint()
        break
      case WIRE.I64:
      case WIRE.I32: {
        const size = wire === WIRE.I64 ? 8 : 4
        if (pos + size > buf.length) throw new WireError(`truncated ${size * 8}-bit field ${number} at byte ${at}`)
        pos += size
        break
      }
      case WIRE.LEN: {
        const length = varint()
        if (length < 0 || pos + length > buf.length)
          throw new WireError(`field ${number} claims ${length} bytes at byte ${at}, past the end (${buf.length})`)
        field.bytes = buf.subarray(pos, pos + length)
        pos += length
        break
      }
      default:
        throw new WireError(`field ${number} has ${wireName(wire)} at byte ${at}, which no message here uses`)
    }
    visit(number, field)
  }
}

/** A field to read: its number, the wire type its declared type is sent with, and whether it is text. */
export interface FieldSpec {
  name: string
  number: number
  wire: number
  text: boolean
}

/** Fields read by name: a number (varint), text (UTF-8, checked), or the bytes of a nested message. */
export type Values = Record<string, string | number | Buffer | undefined>

/**
 * Pure: the named fields of a message. A field sent with another wire type than its declaration's, or text
 * that is not UTF-8, is a WireError naming it (a wrong type is not a missing field).
 */
export function readFields(specs: readonly FieldSpec[], buf: Buffer, what: string): Values {
  const values: Values = {}
  scan(buf, (number, f) => {
    for (const s of specs) {
      if (s.number !== number) continue
      if (f.wire !== s.wire)
        throw new WireError(`${what}.${s.name} (field ${number}) is ${wireName(f.wire)}: expected ${wireName(s.wire)}`)
      if (s.wire === WIRE.VARINT) values[s.name] = f.varint
      else if (!s.text) values[s.name] = f.bytes
      else if (!isUtf8(f.bytes!)) throw new WireError(`${what}.${s.name} (field ${number}) is not valid UTF-8`)
      else values[s.name] = f.bytes!.toString('utf8')
    }
  })
  return values
}

const VARINT_TYPES = new Set(['int32', 'int64', 'uint32', 'uint64', 'sint32', 'sint64', 'bool'])

/** The named fields of a declared message, as the wire reader wants them; a name not declared is a bug here, so it throws. */
export function fieldsOf(typeName: string, names: readonly string[]): FieldSpec[] {
  const type = platformRoot().lookupType(typeName)
  return names.map((name) => {
    const f = type.fields[name]
    if (!f) throw new Error(`${typeName} declares no field ${name} (proto/)`)
    f.resolve()
    const wire = VARINT_TYPES.has(f.type) || f.resolvedType instanceof protobuf.Enum ? WIRE.VARINT : WIRE.LEN
    return {name, number: f.id, wire, text: f.type === 'string'}
  })
}
