/**
 * User events off the wire: decode (JSON or the platform's protobuf), validate, and either return a
 * clean event or a rejection that names the bad value and what was expected. Pure: no I/O beyond
 * loading the .proto files once.
 */
import {isUtf8} from 'node:buffer'
import {fileURLToPath} from 'node:url'
import protobuf from 'protobufjs'

export type EventFormat = 'json' | 'protobuf'

export interface UserEvent {
  environmentNamespace: string
  userId: string
  sourceId: string
  /** Unix seconds. */
  lastSeen: number
}

/** Why an event is set aside: stable codes, used as a metric label. */
export const REJECTION_CODES = ['decode', 'namespace', 'user_id', 'source_id', 'last_seen'] as const

/** A reason code and a message for people. */
export interface Rejection {
  code: (typeof REJECTION_CODES)[number]
  message: string
}

export type Decoded = {ok: true; event: UserEvent} | {ok: false; rejection: Rejection}

export const SOURCE_IDS = ['UNKNOWN', 'ANDROID', 'IOS', 'WEB', 'GOAL_BATCH', 'GO_SERVER', 'NODE_SERVER'] as const

/** 2000-01-01: no SDK event of this platform is older. */
const EARLIEST_SECONDS = 946_684_800
/** Clocks drift; an event more than a day ahead of the consumer is not a real "last seen". */
const MAX_FUTURE_SECONDS = 86_400
/** At or above this, last_seen is milliseconds: as seconds it would be the year 5138, as milliseconds it is 1973. */
const MILLISECONDS_FROM = 100_000_000_000

const MAX_NAMESPACE = 255
const MAX_USER_ID = 255
const MAX_SOURCE = 30

const reject = (code: Rejection['code'], message: string): Decoded => ({ok: false, rejection: {code, message}})
/** A lone surrogate ("\uD800" in JSON) would be written as U+FFFD and merged with another id. */
const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/
const wellFormed = (s: string) => !LONE_SURROGATE.test(s)
const chars = (s: string) => (/[\uD800-\uDFFF]/.test(s) ? [...s].length : s.length)
const show = (v: unknown) => (typeof v === 'string' ? JSON.stringify(v.length > 40 ? `${v.slice(0, 40)}…` : v) : String(v))

/** The single place that decides whether an event is acceptable, whatever its encoding or origin (Kafka, a Druid backfill). */
export function validate(raw: {namespace: unknown; userId: unknown; sourceId: unknown; lastSeen: unknown}, nowSeconds: number): Decoded {
  const {namespace, userId} = raw
  if (typeof namespace !== 'string' || namespace.trim() === '') {
    return reject('namespace', `environment_namespace is ${namespace === undefined ? 'missing' : `${show(namespace)}`}: expected a non-empty string`)
  }
  if (!wellFormed(namespace)) return reject('namespace', `environment_namespace ${show(namespace)} has a lone UTF-16 surrogate: expected valid Unicode text`)
  if (chars(namespace) > MAX_NAMESPACE) {
    return reject('namespace', `environment_namespace is ${chars(namespace)} characters: expected at most ${MAX_NAMESPACE}`)
  }
  if (typeof userId !== 'string' || userId.trim() === '') {
    return reject('user_id', `user_id is ${userId === undefined ? 'missing' : show(userId)}: expected a non-empty string`)
  }
  if (!wellFormed(userId)) return reject('user_id', `user_id ${show(userId)} has a lone UTF-16 surrogate: expected valid Unicode text`)
  if (chars(userId) > MAX_USER_ID) {
    return reject('user_id', `user_id is ${chars(userId)} characters: expected at most ${MAX_USER_ID}`)
  }
  const source = sourceName(raw.sourceId)
  if (!source.ok) return reject('source_id', source.message)
  const lastSeen = seconds(raw.lastSeen, nowSeconds)
  if (!lastSeen.ok) return reject('last_seen', lastSeen.message)
  return {ok: true, event: {environmentNamespace: namespace, userId, sourceId: source.value, lastSeen: lastSeen.value}}
}

type Parsed<T> = {ok: true; value: T} | {ok: false; message: string}

function sourceName(value: unknown): Parsed<string> {
  const expected = `expected 0..${SOURCE_IDS.length - 1} or a name such as ${SOURCE_IDS.slice(1, 4).join(', ')}`
  if (value === undefined || value === null) return {ok: true, value: 'UNKNOWN'}
  if (typeof value === 'number') {
    const name = Number.isInteger(value) ? SOURCE_IDS[value] : undefined
    return name ? {ok: true, value: name} : {ok: false, message: `source_id ${value} is not a known source number: ${expected}`}
  }
  if (typeof value !== 'string' || value.trim() === '') return {ok: false, message: `source_id is ${show(value)}: ${expected}`}
  if (chars(value) > MAX_SOURCE) return {ok: false, message: `source_id is ${chars(value)} characters: expected at most ${MAX_SOURCE}`}
  if (/^\d+$/.test(value)) return sourceName(Number(value))
  if (!/^[A-Za-z0-9_.-]+$/.test(value)) return {ok: false, message: `source_id ${show(value)} has characters other than letters, digits, _ . -`}
  return {ok: true, value: canonicalSource(value)}
}

/** Known names are stored in their canonical upper case; a newer SDK's name is kept as sent. */
export function canonicalSource(name: string): string {
  const upper = name.toUpperCase()
  return (SOURCE_IDS as readonly string[]).includes(upper) ? upper : name
}

function seconds(value: unknown, now: number): Parsed<number> {
  if (value === undefined || value === null || value === 0 || value === '0' || value === '') {
    return {ok: false, message: 'last_seen is missing: expected unix seconds'}
  }
  // Protobuf's JSON mapping writes int64 as a string; accept the digits either way.
  const n = typeof value === 'string' && /^-?\d+$/.test(value) ? Number(value) : value
  if (typeof n !== 'number' || !Number.isFinite(n) || !Number.isInteger(n)) {
    return {ok: false, message: `last_seen is ${show(value)}: expected an integer of unix seconds`}
  }
  const s = n >= MILLISECONDS_FROM ? Math.floor(n / 1000) : n
  if (s < EARLIEST_SECONDS || s > now + MAX_FUTURE_SECONDS) {
    return {ok: false, message: `last_seen ${n} is out of range: expected unix seconds between ${EARLIEST_SECONDS} (2000-01-01) and one day after now`}
  }
  return {ok: true, value: s}
}

export function decodeJson(bytes: Buffer, nowSeconds: number): Decoded {
  // JSON.parse would turn invalid bytes into U+FFFD, merging "\xFF\xFE" with a real "\uFFFD\uFFFD" user.
  if (!isUtf8(bytes)) return reject('decode', 'not valid UTF-8: expected JSON text encoded as UTF-8')
  let doc: unknown
  try {
    doc = JSON.parse(bytes.toString('utf8'))
  } catch (error) {
    return reject('decode', `not valid JSON: ${(error as Error).message}`)
  }
  if (typeof doc !== 'object' || doc === null || Array.isArray(doc)) {
    return reject('decode', `expected a JSON object, got ${Array.isArray(doc) ? 'an array' : typeof doc}`)
  }
  const d = doc as Record<string, unknown>
  return validate({namespace: d.environment_namespace, userId: d.user_id, sourceId: d.source_id, lastSeen: d.last_seen}, nowSeconds)
}

const PROTO_DIR = fileURLToPath(new URL('../../proto/', import.meta.url))
let types: {event: protobuf.Type; userEvent: protobuf.Type} | undefined

function protoTypes() {
  if (!types) {
    const root = new protobuf.Root()
    root.resolvePath = (_origin, target) => (target.startsWith('google/') ? target : `${PROTO_DIR}${target}`)
    root.loadSync(['bucketeer/event/service/user.proto'], {keepCase: true})
    types = {event: root.lookupType('bucketeer.event.client.Event'), userEvent: root.lookupType('bucketeer.event.service.UserEvent')}
  }
  return types
}

const USER_EVENT_TYPE_URL = /(^|\/)bucketeer\.event\.service\.UserEvent$/

interface RawUserEvent {
  environment_namespace?: string
  user_id?: string
  source_id?: number
  last_seen?: number | {toNumber(): number}
}

/** A bare UserEvent, or one wrapped in the client Event envelope (told apart by the Any in field 2). */
export function decodeProtobuf(bytes: Buffer, nowSeconds: number): Decoded {
  const {event, userEvent} = protoTypes()
  let inner: RawUserEvent
  let envelopeNamespace = ''
  try {
    const envelope = event.decode(bytes) as unknown as {event?: {type_url: string; value: Uint8Array}; environment_namespace?: string}
    if (envelope.event) {
      if (!USER_EVENT_TYPE_URL.test(envelope.event.type_url)) {
        return reject('decode', `Event wraps "${envelope.event.type_url}": expected bucketeer.event.service.UserEvent`)
      }
      envelopeNamespace = envelope.environment_namespace ?? ''
      inner = userEvent.decode(envelope.event.value) as unknown as RawUserEvent
    } else {
      inner = userEvent.decode(bytes) as unknown as RawUserEvent
    }
  } catch (error) {
    return reject('decode', `not a valid protobuf UserEvent or Event: ${(error as Error).message}`)
  }
  const ls = inner.last_seen
  return validate(
    {
      namespace: inner.environment_namespace || envelopeNamespace,
      userId: inner.user_id ?? '',
      sourceId: inner.source_id ?? 0,
      lastSeen: typeof ls === 'object' && ls !== null ? ls.toNumber() : (ls ?? 0),
    },
    nowSeconds,
  )
}

export function decoder(format: EventFormat): (bytes: Buffer, nowSeconds: number) => Decoded {
  return format === 'protobuf' ? decodeProtobuf : decodeJson
}

/** Encoders for tests, benchmarks and the demo: the same wire forms the platform produces. */
export function encodeProtobuf(e: {id?: string; environmentNamespace: string; userId: string; sourceId: number; lastSeen: number}, wrap = false): Buffer {
  const {event, userEvent} = protoTypes()
  const inner = userEvent.encode(
    userEvent.create({id: e.id ?? '', environment_namespace: wrap ? '' : e.environmentNamespace, user_id: e.userId, source_id: e.sourceId, last_seen: e.lastSeen}),
  ).finish()
  if (!wrap) return Buffer.from(inner)
  const envelope = event.create({
    id: e.id ?? '',
    environment_namespace: e.environmentNamespace,
    event: {type_url: 'type.googleapis.com/bucketeer.event.service.UserEvent', value: inner},
  })
  return Buffer.from(event.encode(envelope).finish())
}
