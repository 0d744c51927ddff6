import {describe, expect, it} from 'vitest'
import {decodeJson, decodeProtobuf, encodeProtobuf, type Decoded} from '../../src/ingest/decode.js'

const NOW = 1_700_000_000
const json = (doc: unknown) => decodeJson(Buffer.from(typeof doc === 'string' ? doc : JSON.stringify(doc)), NOW)
const good = {environment_namespace: 'ns', user_id: 'u1', source_id: 'IOS', last_seen: 1_669_852_800}
const rejection = (d: Decoded) => (d.ok ? undefined : d.rejection)

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
    [{...good, environment_namespace: undefined}, 'namespace', /environment_namespace is missing/],
    [{...good, environment_namespace: 'n'.repeat(256)}, 'namespace', /256 characters: expected at most 255/],
    [{...good, source_id: 'S'.repeat(31)}, 'source_id', /source_id is 31 characters: expected at most 30/],
    [{...good, source_id: 42}, 'source_id', /source_id 42 is not a known source number: expected 0..6/],
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
    const bytes = Buffer.concat([Buffer.from('{"environment_namespace":"ns","user_id":"bad'), Buffer.from([0xff, 0xfe]), Buffer.from('","last_seen":1669852800}')])
    expect(rejection(decodeJson(bytes, NOW))).toEqual({code: 'decode', message: 'not valid UTF-8: expected JSON text encoded as UTF-8'})
    expect(rejection(json('{"environment_namespace":"ns","user_id":"bad\\ud800","last_seen":1669852800}'))?.message).toMatch(/user_id "bad\\ud800" has a lone UTF-16 surrogate/)
    expect(rejection(json('{"environment_namespace":"\\udc00","user_id":"u","last_seen":1669852800}'))?.code).toBe('namespace')
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
    expect(rejection(decodeProtobuf(encodeProtobuf({...event, sourceId: 99}), NOW))?.message).toMatch(/source_id 99 is not a known/)
    expect(rejection(decodeProtobuf(Buffer.from([0xff, 0xff, 0xff, 0xff]), NOW))?.code).toBe('decode')
  })

  it('rejects an empty user id as a validation failure, like JSON', () => {
    expect(rejection(decodeProtobuf(encodeProtobuf({...event, userId: ''}), NOW))?.code).toBe('user_id')
  })
})
