import {EventEmitter} from 'node:events'
import {describe, expect, it} from 'vitest'
import {logLevel} from 'kafkajs'
import {KafkaLevels, kafkaLogFields} from '../../src/core/kafka.js'
import {routeWarnings, textLine} from '../../src/core/log.js'

describe('textLine', () => {
  it('turns a JSON log record into one line of text at a terminal', () => {
    const line = textLine(
      JSON.stringify({
        level: 'warn',
        time: '2026-11-28T09:01:02.345Z',
        name: 'mau-consume',
        msg: 'events dead-lettered',
        topic: 't',
        count: 2,
        err: {type: 'Error', message: 'no'},
      }),
    )
    expect(line).toBe('09:01:02  WARN   events dead-lettered  topic=t  count=2  err=no\n')
  })

  it('escapes control characters in the message and every field, so one record stays one harmless line', () => {
    const line = textLine(
      JSON.stringify({
        level: 'warn',
        time: '2026-11-28T09:01:02.345Z',
        msg: 'bad\u001b[2J',
        reason: 'x\ny',
        err: {message: '\u009b'},
      }),
    )
    expect(line).toBe('09:01:02  WARN   bad\\x1b[2J  reason=x\\x0ay  err=\\u009b\n')
  })
})

describe('kafkaLogFields', () => {
  const entry = {
    namespace: 'Connection',
    level: logLevel.ERROR,
    label: 'ERROR',
    log: {
      timestamp: 't',
      logger: 'kafkajs',
      message: 'Connection error: connect ECONNREFUSED\n    at x',
      broker: 'b:9092',
      stack: 'Error: ...\n    at y',
    },
  }

  it('keeps one line of the message and where it came from, without the stack', () => {
    expect(kafkaLogFields(entry, false)).toEqual({
      fields: {kafka: 'Connection', broker: 'b:9092'},
      message: 'Connection error: connect ECONNREFUSED',
    })
  })

  it('keeps the stack at debug', () => {
    expect(kafkaLogFields(entry, true).fields.stack).toContain('at y')
  })
})

describe('KafkaLevels', () => {
  const coordinator = {level: logLevel.ERROR, log: {message: 'The group coordinator is not available'}}

  it('logs a condition kafkajs retries by itself at info while it lasts less than the grace period, then at its own level', () => {
    let t = 0
    const levels = new KafkaLevels(30_000, () => t)
    expect(levels.levelOf(coordinator)).toBe('info')
    t = 20_000
    expect(levels.levelOf(coordinator)).toBe('info')
    t = 31_000
    expect(levels.levelOf(coordinator)).toBe('error')
  })

  it("reads the condition where a broker's error response puts it: in `error`, the request in the message", () => {
    const levels = new KafkaLevels(30_000, () => 0)
    const response = {
      level: logLevel.ERROR,
      log: {message: 'Response GroupCoordinator(key: 10, version: 2)', error: 'The group coordinator is not available'},
    }
    expect(levels.levelOf(response)).toBe('info')
    expect(
      levels.levelOf({
        level: logLevel.ERROR,
        log: {message: 'Response Fetch(key: 1, version: 11)', error: 'Not authorized'},
      }),
    ).toBe('error')
  })

  it('starts over after a quiet grace period, and leaves every other error an error', () => {
    let t = 0
    const levels = new KafkaLevels(30_000, () => t)
    levels.levelOf(coordinator)
    t = 100_000
    expect(levels.levelOf(coordinator)).toBe('info')
    expect(levels.levelOf({level: logLevel.ERROR, log: {message: 'Connection error: connect ECONNREFUSED'}})).toBe(
      'error',
    )
    expect(levels.levelOf({level: logLevel.INFO, log: {message: 'The group coordinator is not available'}})).toBe(
      'debug',
    )
  })
})

describe('KafkaLevels on a rebalance', () => {
  // As kafkajs logs them when a member joins or leaves: the broker's answers (Connection, at error) and its own note (at warn).
  const response = (request: string, error: string) => ({
    level: logLevel.ERROR,
    log: {message: `Response ${request}`, error},
  })
  const rejoins = [
    response('Heartbeat(key: 12, version: 3)', 'The group is rebalancing, so a rejoin is needed'),
    response('OffsetCommit(key: 8, version: 5)', 'The group is rebalancing, so a rejoin is needed'),
    response('SyncGroup(key: 14, version: 3)', 'Specified group generation id is not valid'),
    response(
      'JoinGroup(key: 11, version: 5)',
      'The group member needs to have a valid member id before actually entering a consumer group',
    ),
    {
      level: logLevel.WARN,
      log: {message: 'The group is rebalancing, re-joining', error: 'The group is rebalancing, so a rejoin is needed'},
    },
  ]

  it('logs the answers kafkajs meets by rejoining at info, however long the rebalance lasts', () => {
    let t = 0
    const levels = new KafkaLevels(30_000, () => t)
    for (t = 0; t <= 120_000; t += 3_000)
      for (const entry of rejoins) expect(levels.levelOf(entry), entry.log.error).toBe('info')
  })

  it("logs a partition's leader moving (retried by kafkajs) at info while it lasts less than the grace period, then at error", () => {
    let t = 0
    const levels = new KafkaLevels(30_000, () => t)
    const notLeader = response('Fetch(key: 1, version: 11)', 'This server is not the leader for that topic-partition')
    expect(levels.levelOf(notLeader)).toBe('info')
    t = 20_000
    expect(levels.levelOf(notLeader)).toBe('info')
    t = 31_000
    expect(levels.levelOf(notLeader)).toBe('error')
  })

  it('leaves at error the crash that quotes a rebalance, and what kafkajs does not retry', () => {
    const levels = new KafkaLevels(30_000, () => 0)
    expect(
      levels.levelOf({
        level: logLevel.ERROR,
        log: {message: 'Crash: KafkaJSProtocolError: The group is rebalancing, so a rejoin is needed'},
      }),
    ).toBe('error')
    expect(
      levels.levelOf(
        response(
          'JoinGroup(key: 11, version: 5)',
          "The group member's supported protocols are incompatible with those of existing members",
        ),
      ),
    ).toBe('error')
    expect(
      levels.levelOf(
        response('Heartbeat(key: 12, version: 3)', 'Not authorized to access group: Group authorization failed'),
      ),
    ).toBe('error')
  })
})

describe('routeWarnings', () => {
  it("turns Node's warnings into log records, instead of Node's raw text on stderr", () => {
    const proc = new EventEmitter()
    const printed: string[] = []
    proc.on('warning', (w: Error) => printed.push(w.message))
    const logged: [Record<string, unknown>, string][] = []
    routeWarnings(
      {warn: ((fields: Record<string, unknown>, message: string) => logged.push([fields, message])) as never},
      proc as unknown as NodeJS.Process,
    )
    const warning = Object.assign(
      new Error('Possible EventEmitter memory leak detected. 11 connect listeners added to [Socket]'),
      {name: 'MaxListenersExceededWarning'},
    )
    proc.emit('warning', warning)
    expect(printed).toEqual([])
    expect(logged).toEqual([[{warning: 'MaxListenersExceededWarning'}, warning.message]])
  })
})
