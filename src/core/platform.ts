/**
 * The platform's vocabulary, as declared in proto/: the types `mau` reads, the SDK sources by number and
 * name, and which type URL is which kind of activity. Loaded once; everything else asks here (the wire
 * reader its field numbers, ingest/wire.ts; the flags their sources and kinds), so each is written in one
 * place only, the .proto file.
 */
import {fileURLToPath} from 'node:url'
import protobuf from 'protobufjs'

export const PROTO_DIR = fileURLToPath(new URL('../../proto/', import.meta.url))

/** What shows a user active: the SDK user event (until 2026), and evaluation and goal events (since). */
export const ACTIVITY_KINDS = ['user', 'evaluation', 'goal'] as const
export type ActivityKind = (typeof ACTIVITY_KINDS)[number]

export const TYPE_NAMES: Record<ActivityKind, string> = {
  user: 'bucketeer.event.service.UserEvent',
  evaluation: 'bucketeer.event.client.EvaluationEvent',
  goal: 'bucketeer.event.client.GoalEvent',
}

/** Pure: the kind a type URL ("type.googleapis.com/bucketeer.event.client.GoalEvent") names, if one is counted at all. */
export function kindOfTypeUrl(typeUrl: string): ActivityKind | undefined {
  const name = typeUrl.slice(typeUrl.lastIndexOf('/') + 1)
  for (const kind of ACTIVITY_KINDS) if (TYPE_NAMES[kind] === name) return kind
  return undefined
}

export const typeUrlOf = (kind: ActivityKind): string => `type.googleapis.com/${TYPE_NAMES[kind]}`

let root: protobuf.Root | undefined

/** The declarations in proto/, loaded once (protobufjs; the consumer reads the wire itself, see wire.ts). */
export function platformRoot(): protobuf.Root {
  if (!root) {
    const r = new protobuf.Root()
    r.resolvePath = (_origin, target) => (target.startsWith('google/') ? target : `${PROTO_DIR}${target}`)
    r.loadSync(['bucketeer/event/client/event.proto', 'bucketeer/event/service/user.proto'], {keepCase: true})
    root = r
  }
  return root
}

let sources: ReadonlyMap<number, string> | undefined

/** The SDK sources by number, from the SourceId enumeration in proto/. */
export function sourceNames(): ReadonlyMap<number, string> {
  if (!sources) {
    const e = platformRoot().lookupEnum('bucketeer.event.client.SourceId')
    sources = new Map(Object.entries(e.values).map(([name, n]) => [n, name]))
  }
  return sources
}

const MAX_SOURCE = 30
/** Characters as a person counts them (a surrogate pair is one). */
export const chars = (s: string) => (/[\uD800-\uDFFF]/.test(s) ? [...s].length : s.length)
/** A bad value as an error message quotes it: short, escaped. */
export const show = (v: unknown) =>
  typeof v === 'string' ? JSON.stringify(v.length > 40 ? `${v.slice(0, 40)}…` : v) : String(v)

type Parsed<T> = {ok: true; value: T} | {ok: false; message: string}

/** Pure: a source as its platform name: an enum number, its digits, or a name in any case (a newer SDK's name kept as sent). */
export function sourceName(value: unknown): Parsed<string> {
  const names = sourceNames()
  const expected = `expected a SourceId number (0..10, 100..106) or a name such as ANDROID, IOS, WEB, FLUTTER`
  if (value === undefined || value === null) return {ok: true, value: 'UNKNOWN'}
  if (typeof value === 'number') {
    const name = names.get(value)
    return name
      ? {ok: true, value: name}
      : {ok: false, message: `source_id ${value} is not a known source number: ${expected}`}
  }
  if (typeof value !== 'string' || value.trim() === '')
    return {ok: false, message: `source_id is ${show(value)}: ${expected}`}
  if (chars(value) > MAX_SOURCE)
    return {ok: false, message: `source_id is ${chars(value)} characters: expected at most ${MAX_SOURCE}`}
  if (/^\d+$/.test(value)) return sourceName(Number(value))
  if (!/^[A-Za-z0-9_.-]+$/.test(value))
    return {ok: false, message: `source_id ${show(value)} has characters other than letters, digits, _ . -`}
  return {ok: true, value: canonicalSource(value)}
}

/** Known names are stored in their canonical upper case; a newer SDK's name is kept as sent. */
function canonicalSource(name: string): string {
  const upper = name.toUpperCase()
  for (const known of sourceNames().values()) if (known === upper) return upper
  return name
}
