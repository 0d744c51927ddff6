import {describe, expect, it} from 'vitest'
import {logLevel} from 'kafkajs'
import {kafkaLogFields} from '../../src/core/kafka.js'
import {textLine} from '../../src/core/log.js'

describe('textLine', () => {
  it('turns a JSON log record into one line of text at a terminal', () => {
    const line = textLine(JSON.stringify({level: 'warn', time: '2026-11-28T09:01:02.345Z', name: 'mau-consume', msg: 'events dead-lettered', topic: 't', count: 2, err: {type: 'Error', message: 'no'}}))
    expect(line).toBe('09:01:02  WARN   events dead-lettered  topic=t  count=2  err=no\n')
  })
})

describe('kafkaLogFields', () => {
  const entry = {namespace: 'Connection', level: logLevel.ERROR, label: 'ERROR', log: {timestamp: 't', logger: 'kafkajs', message: 'Connection error: connect ECONNREFUSED\n    at x', broker: 'b:9092', stack: 'Error: ...\n    at y'}}

  it('keeps one line of the message and where it came from, without the stack', () => {
    expect(kafkaLogFields(entry, false)).toEqual({fields: {kafka: 'Connection', broker: 'b:9092'}, message: 'Connection error: connect ECONNREFUSED'})
  })

  it('keeps the stack at debug', () => {
    expect(kafkaLogFields(entry, true).fields.stack).toContain('at y')
  })
})
