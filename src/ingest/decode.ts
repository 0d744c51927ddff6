/**
 * Activity off the wire: every generation of the platform's messages, JSON or protobuf, decoded into one
 * clean event (environment, user, source, time) or a rejection that names the bad value and what was
 * expected. Envelopes of kinds that are not counted are ignored, neither counted nor set aside. Pure.
 *
 *   environment  environment_id when non-empty, else environment_namespace (the envelope's, then the
 *                inner message's): the platform renamed namespaces to environment ids in November 2024
 *   user         user_id; in evaluation and goal events user.id when user_id is empty
 *   time         last_seen of a user event, timestamp of an evaluation or goal event (unix seconds)
 */
import {isUtf8} from 'node:buffer'
import {
  ACTIVITY_KINDS,
  type ActivityKind,
  chars,
  kindOfTypeUrl,
  show,
  sourceName,
  TYPE_NAMES,
} from '../core/platform.js'
import {fieldsOf} from './wire.js'
import {readFields, type Values, WireError} from './wire.js'

export type EventFormat = 'json' | 'protobuf'

export interface UserEvent {
  environmentNamespace: string
  userId: string
  sourceId: string
  /** Unix seconds. */
  lastSeen: number
}

/** Why an event is set aside: stable codes, used as a metric label. */
export const REJECTION_CODES = ['decode', 'namespace', 'user_id', 'source_id', 'last_seen', 'timestamp'] as const

/** A reason code and a message for people. */
export interface Rejection {
  code: (typeof REJECTION_CODES)[number]
  message: string
}

/** A valid event or why not. */
export type Checked = {ok: true; event: UserEvent} | {ok: false; rejection: Rejection}
/** A message read: an event, a rejection (dead letter), or a message of a kind not counted (by its type URL). */
export type Decoded = Checked | {ok: false; ignored: string}

/** 2000-01-01: no SDK event of this platform is older. */
const EARLIEST_SECONDS = 946_684_800
/** Clocks drift; an event more than a day ahead of the consumer is not a real time of activity. */
const MAX_FUTURE_SECONDS = 86_400
/** At or above this, a time is milliseconds: as seconds it would be the year 5138, as milliseconds it is 1973. */
const MILLISECONDS_FROM = 100_000_000_000

const MAX_NAMESPACE = 255
const MAX_USER_ID = 255

const reject = (code: Rejection['code'], message: string): Checked => ({ok: false, rejection: {code, message}})
/** A lone surrogate ("\uD800" in JSON) would be written as U+FFFD and merged with another id. */
const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/
const wellFormed = (s: string) => !LONE_SURROGATE.test(s)
const present = (v: unknown) => v !== undefined && v !== null && v !== ''

/** What validate reads, with the names the message used for the environment and the time. */
export interface RawEvent {
  namespace: unknown
  userId: unknown
  sourceId: unknown
  lastSeen: unknown
  /** Default environment_namespace and last_seen. */
  names?: {environment?: string; time?: 'last_seen' | 'timestamp'}
}

/** The single place that decides whether an event is acceptable, whatever its encoding or origin (Kafka, a Druid backfill). */
export function validate(raw: RawEvent, nowSeconds: number): Checked {
  const {namespace, userId} = raw
  const env = raw.names?.environment ?? 'environment_namespace'
  if (typeof namespace !== 'string' || namespace.trim() === '') {
    return reject(
      'namespace',
      `${env} is ${namespace === undefined ? 'missing' : `${show(namespace)}`}: expected a non-empty string`,
    )
  }
  if (!wellFormed(namespace))
    return reject('namespace', `${env} ${show(namespace)} has a lone UTF-16 surrogate: expected valid Unicode text`)
  if (chars(namespace) > MAX_NAMESPACE)
    return reject('namespace', `${env} is ${chars(namespace)} characters: expected at most ${MAX_NAMESPACE}`)
  if (typeof userId !== 'string' || userId.trim() === '') {
    return reject(
      'user_id',
      `user_id is ${userId === undefined ? 'missing' : show(userId)}: expected a non-empty string`,
    )
  }
  if (!wellFormed(userId))
    return reject('user_id', `user_id ${show(userId)} has a lone UTF-16 surrogate: expected valid Unicode text`)
  if (chars(userId) > MAX_USER_ID)
    return reject('user_id', `user_id is ${chars(userId)} characters: expected at most ${MAX_USER_ID}`)
  const source = sourceName(raw.sourceId)
  if (!source.ok) return reject('source_id', source.message)
  const time = raw.names?.time ?? 'last_seen'
  const lastSeen = seconds(time, raw.lastSeen, nowSeconds)
  if (!lastSeen.ok) return reject(time, lastSeen.message)
  return {ok: true, event: {environmentNamespace: namespace, userId, sourceId: source.value, lastSeen: lastSeen.value}}
}

type Parsed<T> = {ok: true; value: T} | {ok: false; message: string}

function seconds(field: string, value: unknown, now: number): Parsed<number> {
  if (value === undefined || value === null || value === 0 || value === '0' || value === '') {
    return {ok: false, message: `${field} is missing: expected unix seconds`}
  }
  // Protobuf's JSON mapping writes int64 as a string; accept the digits either way.
  const n = typeof value === 'string' && /^-?\d+$/.test(value) ? Number(value) : value
  if (typeof n !== 'number' || !Number.isFinite(n) || !Number.isInteger(n)) {
    return {ok: false, message: `${field} is ${show(value)}: expected an integer of unix seconds`}
  }
  const s = n >= MILLISECONDS_FROM ? Math.floor(n / 1000) : n
  if (s < EARLIEST_SECONDS || s > now + MAX_FUTURE_SECONDS) {
    return {
      ok: false,
      message: `${field} ${n} is out of range: expected unix seconds between ${EARLIEST_SECONDS} (2000-01-01) and one day after now`,
    }
  }
  return {ok: true, value: s}
}

/** The environment: the first of the candidates (environment_id ones first) that is present, and its field's name. */
function environment(ids: unknown[], namespaces: unknown[]): {value: unknown; name: string} {
  for (const v of ids) if (present(v)) return {value: v, name: 'environment_id'}
  for (const v of namespaces) if (present(v)) return {value: v, name: 'environment_namespace'}
  return {value: undefined, name: 'environment_id (or environment_namespace)'}
}

const timeName = (kind: ActivityKind) => (kind === 'user' ? 'last_seen' : 'timestamp')

// ---- JSON: the flat user event of every generation, and envelopes in protobuf's JSON mapping ----

type Doc = Record<string, unknown>
const isDoc = (v: unknown): v is Doc => typeof v === 'object' && v !== null && !Array.isArray(v)
const camelNames = new Map<string, string>()
const camel = (snake: string): string => {
  let name = camelNames.get(snake)
  if (name === undefined) camelNames.set(snake, (name = snake.replace(/_([a-z])/g, (_, c: string) => c.toUpperCase())))
  return name
}
/** A field by its proto name or its JSON-mapping (lowerCamel) name. */
const pick = (d: Doc, snake: string): unknown => d[snake] ?? d[camel(snake)]

function fromJson(kind: ActivityKind, inner: Doc, outer: Doc | undefined, now: number): Decoded {
  const env = environment(
    [outer && pick(outer, 'environment_id'), pick(inner, 'environment_id')],
    [outer && pick(outer, 'environment_namespace'), pick(inner, 'environment_namespace')],
  )
  const user = pick(inner, 'user')
  const userId = kind !== 'user' && !present(pick(inner, 'user_id')) && isDoc(user) ? user.id : pick(inner, 'user_id')
  return validate(
    {
      namespace: env.value,
      userId,
      sourceId: pick(inner, 'source_id'),
      lastSeen: pick(inner, timeName(kind)),
      names: {environment: env.name, time: timeName(kind)},
    },
    now,
  )
}

function decodeJsonOf(kinds: ReadonlySet<ActivityKind>) {
  return (bytes: Buffer, nowSeconds: number): Decoded => {
    // JSON.parse would turn invalid bytes into U+FFFD, merging "\xFF\xFE" with a real "\uFFFD\uFFFD" user.
    if (!isUtf8(bytes)) return reject('decode', 'not valid UTF-8: expected JSON text encoded as UTF-8')
    let doc: unknown
    try {
      doc = JSON.parse(bytes.toString('utf8'))
    } catch (error) {
      return reject('decode', `not valid JSON: ${(error as Error).message}`)
    }
    if (!isDoc(doc))
      return reject('decode', `expected a JSON object, got ${Array.isArray(doc) ? 'an array' : typeof doc}`)
    const inner = doc.event
    if (isDoc(inner) && typeof inner['@type'] === 'string') {
      const kind = kindOfTypeUrl(inner['@type'])
      return kind && kinds.has(kind) ? fromJson(kind, inner, doc, nowSeconds) : {ok: false, ignored: inner['@type']}
    }
    return kinds.has('user') ? fromJson('user', doc, undefined, nowSeconds) : {ok: false, ignored: TYPE_NAMES.user}
  }
}

// ---- Protobuf: a bare UserEvent, or any event in the client Event envelope ----

let specs: ReturnType<typeof loadSpecs> | undefined
function loadSpecs() {
  return {
    envelope: fieldsOf('bucketeer.event.client.Event', ['event', 'environment_namespace', 'environment_id']),
    any: fieldsOf('google.protobuf.Any', ['type_url', 'value']),
    user: fieldsOf(TYPE_NAMES.user, ['environment_namespace', 'environment_id', 'user_id', 'last_seen', 'source_id']),
    evaluation: fieldsOf(TYPE_NAMES.evaluation, ['timestamp', 'user_id', 'user', 'source_id']),
    goal: fieldsOf(TYPE_NAMES.goal, ['timestamp', 'user_id', 'user', 'source_id']),
    userOfEvent: fieldsOf('bucketeer.user.User', ['id']),
  }
}

function fromProtobuf(kind: ActivityKind, inner: Values, outer: Values | undefined, now: number): Decoded {
  const s = (specs ??= loadSpecs())
  const env = environment(
    [outer?.environment_id, inner.environment_id],
    [outer?.environment_namespace, inner.environment_namespace],
  )
  let userId = inner.user_id
  if (kind !== 'user' && !present(userId) && inner.user instanceof Buffer)
    userId = readFields(s.userOfEvent, inner.user, 'user').id
  return validate(
    {
      namespace: env.value,
      userId: userId ?? '',
      sourceId: inner.source_id ?? 0,
      lastSeen: inner[timeName(kind)] ?? 0,
      names: {environment: env.name, time: timeName(kind)},
    },
    now,
  )
}

function decodeProtobufOf(kinds: ReadonlySet<ActivityKind>) {
  return (bytes: Buffer, nowSeconds: number): Decoded => {
    const s = (specs ??= loadSpecs())
    let what = 'Event or UserEvent'
    try {
      // A bare UserEvent never has field 2 (reserved there): that field is what makes an envelope.
      const envelope = readFields(s.envelope, bytes, 'Event')
      if (!(envelope.event instanceof Buffer)) {
        what = 'UserEvent'
        return kinds.has('user')
          ? fromProtobuf('user', readFields(s.user, bytes, 'UserEvent'), undefined, nowSeconds)
          : {ok: false, ignored: TYPE_NAMES.user}
      }
      const any = readFields(s.any, envelope.event, 'event')
      const typeUrl = typeof any.type_url === 'string' ? any.type_url : ''
      const kind = kindOfTypeUrl(typeUrl)
      if (!kind || !kinds.has(kind)) return {ok: false, ignored: typeUrl}
      what = TYPE_NAMES[kind].slice(TYPE_NAMES[kind].lastIndexOf('.') + 1)
      const inner = readFields(s[kind], any.value instanceof Buffer ? any.value : Buffer.alloc(0), what)
      return fromProtobuf(kind, inner, envelope, nowSeconds)
    } catch (error) {
      if (error instanceof WireError) return reject('decode', `not a valid protobuf ${what}: ${error.message}`)
      throw error
    }
  }
}

/** The decoder of a format, counting the given kinds of activity (default all). */
export function decoder(
  format: EventFormat,
  activity: readonly ActivityKind[] = ACTIVITY_KINDS,
): (bytes: Buffer, nowSeconds: number) => Decoded {
  const kinds = new Set(activity)
  return format === 'protobuf' ? decodeProtobufOf(kinds) : decodeJsonOf(kinds)
}

/** Every kind counted: the decoders most callers (tests, replay of old letters) want. */
export const decodeJson = decoder('json')
export const decodeProtobuf = decoder('protobuf')
