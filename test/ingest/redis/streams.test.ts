import {describe, expect, it} from 'vitest'
import {
  beginning,
  compareIds,
  idBefore,
  judgeStreamStart,
  reached,
  trimmedPast,
  streamKeys,
  streamsOf,
  type StreamInfo,
} from '../../../src/ingest/redis/streams.js'

const info = (o: Partial<StreamInfo>): StreamInfo => ({
  exists: true,
  length: 10,
  entriesAdded: 10,
  lastId: '100-0',
  firstId: '1-0',
  ...o,
})

describe("the platform's stream names", () => {
  it('splits each topic into <topic>-<partition>{stream}', () => {
    expect(streamKeys(['evaluation', 'goal'], 2)).toEqual([
      'evaluation-0{stream}',
      'evaluation-1{stream}',
      'goal-0{stream}',
      'goal-1{stream}',
    ])
  })
})

describe('entry ids', () => {
  it('compare by millisecond, then sequence, beyond 2^53', () => {
    expect(compareIds('5-10', '5-9')).toBe(1)
    expect(compareIds('4-99', '5-0')).toBe(-1)
    expect(compareIds('1-18446744073709551615', '1-18446744073709551614')).toBe(1)
    expect(compareIds('7-7', '7-7')).toBe(0)
  })
  it('refuse what is not an id', () => {
    expect(() => compareIds('5', '1-0')).toThrow(/not a stream entry id/)
  })
  it('idBefore(ms) is after every entry of earlier milliseconds and before the first of ms', () => {
    expect(compareIds(idBefore(1000), '999-123456')).toBe(1)
    expect(compareIds(idBefore(1000), '1000-0')).toBe(-1)
    expect(idBefore(0)).toBe('0-0')
  })
})

describe('where a stream resumes', () => {
  const start = () => ({id: '0-0', next: 0})
  it('starts a stream never read where `start` says, and counts entries trimmed before its first', () => {
    expect(judgeStreamStart(undefined, info({}), start)).toEqual({kind: 'start', position: start()})
    expect(beginning(info({length: 4, entriesAdded: 10}))).toEqual({id: '0-0', next: 6})
  })
  it('resumes at the stored position while the stream still holds what follows it', () => {
    expect(judgeStreamStart({id: '50-0', next: 5}, info({}), start)).toEqual({
      kind: 'resume',
      position: {id: '50-0', next: 5},
    })
    // The stored entry itself trimmed, the one after it still there: nothing lost.
    expect(judgeStreamStart({id: '50-0', next: 5}, info({length: 5, firstId: '51-0'}), start)).toEqual({
      kind: 'resume',
      position: {id: '50-0', next: 5},
    })
  })
  it('records entries trimmed before they were applied as a loss, and moves the count past them', () => {
    expect(judgeStreamStart({id: '50-0', next: 5}, info({length: 2, firstId: '90-0'}), start)).toEqual({
      kind: 'lost',
      position: {id: '50-0', next: 8},
      lost: {from: 5, to: 7, messages: 3},
    })
    // Trimmed to nothing (MAXLEN 0).
    expect(judgeStreamStart({id: '50-0', next: 5}, info({length: 0, firstId: undefined}), start)).toMatchObject({
      kind: 'lost',
      lost: {messages: 5},
    })
  })
  it('refuses a stream that ends before the stored id, was deleted, or had fewer entries than were applied (recreated)', () => {
    expect(judgeStreamStart({id: '200-0', next: 5}, info({}), start).kind).toBe('ahead')
    expect(
      judgeStreamStart({id: '50-0', next: 5}, {exists: false, length: 0, entriesAdded: 0, lastId: '0-0'}, start).kind,
    ).toBe('ahead')
    expect(judgeStreamStart({id: '50-0', next: 50}, info({entriesAdded: 10}), start).kind).toBe('ahead')
    // Nothing applied yet and no stream (the platform has not written to this partition): resume.
    expect(
      judgeStreamStart({id: '0-0', next: 0}, {exists: false, length: 0, entriesAdded: 0, lastId: '0-0'}, start).kind,
    ).toBe('resume')
  })
  it('has reached the end once the position is at or past the last entry, or has counted every entry added by then', () => {
    const end = {lastId: '100-0', entriesAdded: 10}
    expect(reached({id: '100-0', next: 1}, end)).toBe(true)
    expect(reached({id: '99-5', next: 1}, end)).toBe(false)
    expect(reached(undefined, end)).toBe(false)
    // The last entries trimmed or deleted after the start: the count passes what had been added.
    expect(reached({id: '0-0', next: 10}, end)).toBe(true)
    // An empty stream (emptied by XTRIM MAXLEN 0, or its entries deleted): nothing to wait for.
    expect(reached(undefined, {entriesAdded: 7})).toBe(true)
    expect(reached({id: '0-0', next: 0}, {entriesAdded: 7})).toBe(true)
  })
  it('sees entries trimmed past a read position, but not only the read entry itself trimmed', () => {
    // 10 added, 2 left from 90-0: 8 removed; read up to the 5th (50-0).
    expect(trimmedPast({id: '50-0', next: 5}, info({length: 2, firstId: '90-0'}))).toBe(true)
    expect(trimmedPast({id: '50-0', next: 5}, info({length: 0, firstId: undefined}))).toBe(true)
    // Trimmed up to the read entry itself, or not to it: XREAD returns the entry that follows.
    expect(trimmedPast({id: '50-0', next: 5}, info({length: 5, firstId: '51-0'}))).toBe(false)
    expect(trimmedPast({id: '50-0', next: 5}, info({length: 8, firstId: '30-0'}))).toBe(false)
    // Never read: the count starts after what was trimmed by then, and more trimmed since.
    expect(trimmedPast({id: '0-0', next: 3}, info({length: 5, firstId: '60-0'}))).toBe(true)
  })
})

describe('the streams named', () => {
  it('takes a topic base as its streams and a stream key as itself', () => {
    expect(streamsOf(['goal', 'evaluation-3{stream}'], 2)).toEqual([
      'goal-0{stream}',
      'goal-1{stream}',
      'evaluation-3{stream}',
    ])
  })
})
