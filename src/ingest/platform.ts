/**
 * The platform's messages as declared in proto/: the types `mau` reads, their field numbers by name, the
 * SDK sources, and which type URL is which kind of activity. Loaded once; everything else asks here, so a
 * field number is written in one place only, the .proto file.
 */
import {fileURLToPath} from 'node:url'
import protobuf from 'protobufjs'
import {type FieldSpec, WIRE} from './wire.js'

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

let sources: ReadonlyMap<number, string> | undefined

/** The SDK sources by number, from the SourceId enumeration in proto/. */
export function sourceNames(): ReadonlyMap<number, string> {
  if (!sources) {
    const e = platformRoot().lookupEnum('bucketeer.event.client.SourceId')
    sources = new Map(Object.entries(e.values).map(([name, n]) => [n, name]))
  }
  return sources
}
