/** kafkajs clients configured from mau's settings, with kafkajs' own logs routed into ours. */
import {Kafka, logLevel, type LogEntry} from 'kafkajs'
import {splitList} from './settings.js'
import type {Logger} from './log.js'

/**
 * A kafkajs log entry as one of ours: its message and the fields that say where, without the stack
 * kafkajs attaches to every retry (only at debug, where the stack is what one wants).
 */
export function kafkaLogFields(entry: LogEntry, debug: boolean): {fields: Record<string, unknown>; message: string} {
  const {message, stack, timestamp: _timestamp, logger: _logger, ...rest} = entry.log as LogEntry['log'] & {stack?: string}
  return {fields: {kafka: entry.namespace, ...rest, ...(debug && stack ? {stack} : {})}, message: String(message).split('\n')[0]!}
}

export function createKafka(brokers: string, clientId: string, log?: Logger): Kafka {
  return new Kafka({
    clientId,
    brokers: splitList(brokers),
    connectionTimeout: 5_000,
    logLevel: log ? logLevel.WARN : logLevel.NOTHING,
    logCreator: () => (entry: LogEntry) => {
      if (!log) return
      const level = entry.level === logLevel.ERROR ? 'error' : entry.level === logLevel.WARN ? 'warn' : 'debug'
      const {fields, message} = kafkaLogFields(entry, log.isLevelEnabled('debug'))
      log[level](fields, message)
    },
  })
}
