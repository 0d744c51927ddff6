/**
 * The platform's messages as it produces them, encoded with the declarations in proto/ (protobufjs): for
 * the tests, the benchmarks and the demo, so that what the consumer reads is checked against the
 * declarations rather than against its own reader.
 */
import {type ActivityKind, platformRoot, TYPE_NAMES, typeUrlOf} from '../core/platform.js'

/** One activity as a fixture describes it: every generation's fields, each optional where the platform's is. */
export interface Activity {
  kind: ActivityKind
  /** The environment as an id (since November 2024) and/or a namespace (before). */
  environmentId?: string
  environmentNamespace?: string
  /** user_id; for evaluation and goal events, `userInUser` puts it in user.id instead, with user_id empty. */
  userId: string
  userInUser?: boolean
  sourceId: number
  /** Unix seconds: last_seen of a user event, timestamp otherwise. */
  time: number
}

/** Where the environment goes: in the envelope (the platform's way), or in the message itself. */
export type Wrapping = 'bare' | 'envelope'

const lookup = (name: string) => platformRoot().lookupType(name)

/** The message of one activity, with the other fields the platform fills in (feature, variation, user data, metadata). */
function inner(a: Activity, environmentInside: boolean): Uint8Array {
  const env = environmentInside
    ? {environment_id: a.environmentId ?? '', environment_namespace: a.environmentNamespace ?? ''}
    : {}
  const user = {id: a.userId, data: {plan: 'pro', locale: 'ja-JP', app_version: '4.12.0'}}
  const userId = a.userInUser ? '' : a.userId
  const metadata = {app_version: '4.12.0', os_version: '17.2', device_model: 'iPhone15,2'}
  switch (a.kind) {
    case 'user':
      return lookup(TYPE_NAMES.user)
        .encode({
          id: `ue-${a.userId}-${a.time}`,
          tag: 'ios',
          user_id: a.userId,
          last_seen: a.time,
          data: user.data,
          source_id: a.sourceId,
          ...env,
        })
        .finish()
    case 'evaluation':
      return lookup(TYPE_NAMES.evaluation)
        .encode({
          timestamp: a.time,
          feature_id: 'feature-checkout-redesign',
          feature_version: 7,
          user_id: userId,
          variation_id: 'variation-b',
          user,
          reason: {type: 2, rule_id: 'rule-1'},
          tag: 'ios',
          source_id: a.sourceId,
          sdk_version: '2.3.1',
          metadata,
        })
        .finish()
    case 'goal':
      return lookup(TYPE_NAMES.goal)
        .encode({
          timestamp: a.time,
          goal_id: 'goal-purchase',
          user_id: userId,
          value: 12.5,
          user,
          tag: 'ios',
          source_id: a.sourceId,
          sdk_version: '2.3.1',
          metadata,
        })
        .finish()
  }
}

/** An activity as the platform sends it: bare (user events only) or in the client Event envelope. */
export function encodeActivity(a: Activity, wrapping: Wrapping = 'envelope'): Buffer {
  if (wrapping === 'bare') {
    if (a.kind !== 'user') throw new Error('only user events are sent bare')
    return Buffer.from(inner(a, true))
  }
  const envelope = lookup('bucketeer.event.client.Event').encode({
    id: `ev-${a.userId}-${a.time}`,
    event: {type_url: typeUrlOf(a.kind), value: inner(a, false)},
    environment_id: a.environmentId ?? '',
    environment_namespace: a.environmentNamespace ?? '',
  })
  return Buffer.from(envelope.finish())
}

/** An envelope of a kind `mau` does not count (a metrics event), with any payload. */
export function encodeOtherEnvelope(
  typeUrl: string,
  environmentId: string,
  value: Uint8Array = new Uint8Array([8, 1]),
): Buffer {
  return Buffer.from(
    lookup('bucketeer.event.client.Event')
      .encode({id: 'other', event: {type_url: typeUrl, value}, environment_id: environmentId})
      .finish(),
  )
}

/** The user event of the 2022-2024 platform, bare or wrapped (namespace in the envelope): the older tests' form. */
export function encodeProtobuf(
  e: {environmentNamespace: string; userId: string; sourceId: number; lastSeen: number},
  wrap = false,
): Buffer {
  return encodeActivity(
    {
      kind: 'user',
      environmentNamespace: e.environmentNamespace,
      userId: e.userId,
      sourceId: e.sourceId,
      time: e.lastSeen,
    },
    wrap ? 'envelope' : 'bare',
  )
}
