import {describe, expect, it} from 'vitest'
import {decodeJson, decodeProtobuf, decoder, type Decoded} from '../../src/ingest/decode.js'
import {type Activity, encodeActivity, encodeOtherEnvelope, encodeProtobuf} from '../../src/ingest/encode.js'
import {sourceNames} from '../../src/core/platform.js'

const NOW = 1_700_000_000
const json = (doc: unknown) => decodeJson(Buffer.from(typeof doc === 'string' ? doc : JSON.stringify(doc)), NOW)
const good = {environment_namespace: 'ns', user_id: 'u1', source_id: 'IOS', last_seen: 1_669_852_800}
const rejection = (d: Decoded) => (!d.ok && 'rejection' in d ? d.rejection : undefined)

describe('decodeJson', () => {
  it('accepts the documented event', () => {
    expect(json({id: 'e1', tag: 'ios', data: {a: 'b'}, ...good})).toEqual({
      ok: true,
      event: {environmentNamespace: 'ns', userId: 'u1', sourceId: 'IOS', lastSeen: 1_669_852_800},
    })
  })

  it('accepts the source as its enum number or any-case name', () => {
    expect(json({...good, source_id: 1})).toMatchObject({event: {sourceId: 'ANDROID'}})
    expect(json({...good, source_id: 'web'})).toMatchObject({event: {sourceId: 'WEB'}})
    expect(json({...good, source_id: '6'})).toMatchObject({event: {sourceId: 'NODE_SERVER'}})
  })

  it('reads last_seen given as milliseconds or as an int64 string', () => {
    expect(json({...good, last_seen: 1_669_852_800_123})).toMatchObject({event: {lastSeen: 1_669_852_800}})
    expect(json({...good, last_seen: '1669852800'})).toMatchObject({event: {lastSeen: 1_669_852_800}})
  })

  it.each([
    ['{not json', 'decode', /not valid JSON/],
    [[1, 2], 'decode', /expected a JSON object, got an array/],
    [{...good, user_id: ''}, 'user_id', /user_id is "": expected a non-empty string/],
    [{...good, user_id: undefined}, 'user_id', /user_id is missing/],
    [{...good, user_id: 'x'.repeat(256)}, 'user_id', /user_id is 256 characters: expected at most 255/],
    [
      {...good, environment_namespace: undefined},
      'namespace',
      /environment_id \(or environment_namespace\) is missing/,
    ],
    [{...good, environment_namespace: 'n'.repeat(256)}, 'namespace', /256 characters: expected at most 255/],
    [{...good, source_id: 'S'.repeat(31)}, 'source_id', /source_id is 31 characters: expected at most 30/],
    [
      {...good, source_id: 42},
      'source_id',
      /source_id 42 is not a known source number: expected a SourceId number \(0..10, 100..106\)/,
    ],
    [{...good, last_seen: undefined}, 'last_seen', /last_seen is missing/],
    [{...good, last_seen: -5}, 'last_seen', /last_seen -5 is out of range/],
    [{...good, last_seen: NOW + 3 * 86400}, 'last_seen', /out of range/],
    [{...good, last_seen: 1.5e9 + 0.5}, 'last_seen', /expected an integer of unix seconds/],
  ])('rejects %j as %s with a message naming the value', (doc, code, message) => {
    const r = rejection(json(doc))
    expect(r?.code).toBe(code)
    expect(r?.message).toMatch(message)
  })

  it('rejects invalid UTF-8 and lone surrogates instead of merging them into U+FFFD', () => {
    const bytes = Buffer.concat([
      Buffer.from('{"environment_namespace":"ns","user_id":"bad'),
      Buffer.from([0xff, 0xfe]),
      Buffer.from('","last_seen":1669852800}'),
    ])
    expect(rejection(decodeJson(bytes, NOW))).toEqual({
      code: 'decode',
      message: 'not valid UTF-8: expected JSON text encoded as UTF-8',
    })
    expect(
      rejection(json('{"environment_namespace":"ns","user_id":"bad\\ud800","last_seen":1669852800}'))?.message,
    ).toMatch(/user_id "bad\\ud800" has a lone UTF-16 surrogate/)
    expect(rejection(json('{"environment_namespace":"\\udc00","user_id":"u","last_seen":1669852800}'))?.code).toBe(
      'namespace',
    )
    expect(json({...good, user_id: 'bad\uFFFD\uFFFD'})).toMatchObject({ok: true, event: {userId: 'bad\uFFFD\uFFFD'}})
  })

  it('counts user_id length in characters, not bytes or UTF-16 units', () => {
    expect(json({...good, user_id: '😀'.repeat(255)}).ok).toBe(true)
    expect(rejection(json({...good, user_id: '😀'.repeat(256)}))?.code).toBe('user_id')
  })
})

describe('decodeProtobuf', () => {
  const event = {environmentNamespace: 'ns', userId: 'u1', sourceId: 2, lastSeen: 1_669_852_800}

  it('decodes a bare UserEvent', () => {
    expect(decodeProtobuf(encodeProtobuf(event), NOW)).toEqual({ok: true, event: {...event, sourceId: 'IOS'}})
  })

  it('decodes one wrapped in the client Event, taking the wrapper namespace when the inner one is empty', () => {
    expect(decodeProtobuf(encodeProtobuf(event, true), NOW)).toEqual({ok: true, event: {...event, sourceId: 'IOS'}})
  })

  it('rejects an unknown source number and garbage bytes', () => {
    expect(rejection(decodeProtobuf(encodeProtobuf({...event, sourceId: 99}), NOW))?.message).toMatch(
      /source_id 99 is not a known/,
    )
    expect(rejection(decodeProtobuf(Buffer.from([0xff, 0xff, 0xff, 0xff]), NOW))?.code).toBe('decode')
  })

  it('rejects an empty user id as a validation failure, like JSON', () => {
    expect(rejection(decodeProtobuf(encodeProtobuf({...event, userId: ''}), NOW))?.code).toBe('user_id')
  })
})

describe("every generation of the platform's messages", () => {
  const T = 1_669_852_800
  const protobuf = decoder('protobuf')
  const events = (a: Partial<Activity> & Pick<Activity, 'kind'>) => ({userId: 'u1', sourceId: 8, time: T, ...a})
  const expected = (environment: string, sourceId = 'FLUTTER') => ({
    ok: true,
    event: {environmentNamespace: environment, userId: 'u1', sourceId, lastSeen: T},
  })

  it.each(['user', 'evaluation', 'goal'] as const)('decodes an enveloped %s event with environment_id', (kind) => {
    expect(protobuf(encodeActivity(events({kind, environmentId: 'env-7'})), NOW)).toEqual(expected('env-7'))
  })

  it.each(['evaluation', 'goal'] as const)('takes user.id when a %s event has no user_id', (kind) => {
    expect(protobuf(encodeActivity(events({kind, environmentId: 'env-7', userInUser: true})), NOW)).toEqual(
      expected('env-7'),
    )
  })

  it("prefers environment_id to environment_namespace, the envelope's to the inner message's", () => {
    expect(
      protobuf(encodeActivity(events({kind: 'user', environmentId: 'id', environmentNamespace: 'ns'})), NOW),
    ).toEqual(expected('id'))
    expect(protobuf(encodeActivity(events({kind: 'user', environmentNamespace: 'ns'})), NOW)).toEqual(expected('ns'))
    // A bare user event of today carries environment_id (field 10); of 2022, environment_namespace (field 4).
    expect(protobuf(encodeActivity(events({kind: 'user', environmentId: 'id'}), 'bare'), NOW)).toEqual(expected('id'))
    expect(protobuf(encodeActivity(events({kind: 'user', environmentNamespace: 'ns'}), 'bare'), NOW)).toEqual(
      expected('ns'),
    )
  })

  it('stores every SDK source by its platform name, and refuses a number not yet known', () => {
    const names = [...sourceNames()]
    expect(names.map(([n]) => n)).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 100, 101, 102, 103, 104, 105, 106])
    for (const [n, name] of names)
      expect(protobuf(encodeActivity(events({kind: 'evaluation', environmentId: 'e', sourceId: n})), NOW)).toEqual(
        expected('e', name),
      )
    expect(
      rejection(protobuf(encodeActivity(events({kind: 'goal', environmentId: 'e', sourceId: 107})), NOW))?.message,
    ).toMatch(/^source_id 107 is not a known source number/)
  })

  it('ignores envelopes of kinds not counted, by type URL, and those left out of the activity setting', () => {
    const metrics = 'type.googleapis.com/bucketeer.event.client.MetricsEvent'
    expect(protobuf(encodeOtherEnvelope(metrics, 'e'), NOW)).toEqual({ok: false, ignored: metrics})
    const usersOnly = decoder('protobuf', ['user'])
    expect(usersOnly(encodeActivity(events({kind: 'goal', environmentId: 'e'})), NOW)).toEqual({
      ok: false,
      ignored: 'type.googleapis.com/bucketeer.event.client.GoalEvent',
    })
    expect(
      decoder('protobuf', ['goal'])(encodeActivity(events({kind: 'user', environmentId: 'e'}), 'bare'), NOW),
    ).toEqual({ok: false, ignored: 'bucketeer.event.service.UserEvent'})
  })

  it('dead-letters a message that claims a counted type but does not decode, naming the type', () => {
    const broken = encodeOtherEnvelope(
      'type.googleapis.com/bucketeer.event.client.EvaluationEvent',
      'e',
      new Uint8Array([0x22, 0x09, 0x61]),
    )
    expect(rejection(protobuf(broken, NOW))).toEqual({
      code: 'decode',
      message: 'not a valid protobuf EvaluationEvent: field 4 claims 9 bytes at byte 0, past the end (3)',
    })
    expect(rejection(protobuf(encodeActivity(events({kind: 'evaluation', environmentId: 'e', time: 0})), NOW))).toEqual(
      {code: 'timestamp', message: 'timestamp is missing: expected unix seconds'},
    )
  })

  it('names a field sent with the wrong wire type instead of calling it missing', () => {
    // UserEvent: environment_namespace "p" (4), user_id "u" (6), then last_seen (7) as length-delimited "12".
    const bytes = Buffer.from([0x22, 1, 0x70, 0x32, 1, 0x75, 0x3a, 2, 0x31, 0x32, 0x48, 1])
    expect(rejection(protobuf(bytes, NOW))?.message).toBe(
      'not a valid protobuf UserEvent: UserEvent.last_seen (field 7) is length-delimited: expected a varint',
    )
  })

  it("reads JSON of every generation: environment_id, the protobuf JSON mapping's names, int64 strings and enum names", () => {
    const flat = {environmentId: 'env-7', userId: 'u1', sourceId: 'FLUTTER', lastSeen: String(T)}
    expect(json(flat)).toEqual(expected('env-7'))
    expect(json({environment_id: 'env-7', user_id: 'u1', source_id: 8, last_seen: T})).toEqual(expected('env-7'))
    const envelope = {
      id: 'x',
      environmentId: 'env-7',
      event: {
        '@type': 'type.googleapis.com/bucketeer.event.client.EvaluationEvent',
        timestamp: String(T),
        featureId: 'f',
        user: {id: 'u1'},
        sourceId: 'FLUTTER',
      },
    }
    expect(json(envelope)).toEqual(expected('env-7'))
    expect(
      json({
        ...envelope,
        event: {...envelope.event, '@type': 'type.googleapis.com/bucketeer.event.client.MetricsEvent'},
      }),
    ).toEqual({ok: false, ignored: 'type.googleapis.com/bucketeer.event.client.MetricsEvent'})
  })
})
