/** kafkajs clients configured from mau's settings, with kafkajs' own logs routed into ours. */
import {Kafka, logLevel, type LogEntry} from 'kafkajs'
import {splitList} from './settings.js'
import type {Logger} from './log.js'

export function createKafka(brokers: string, clientId: string, log?: Logger): Kafka {
  return new Kafka({
    clientId,
    brokers: splitList(brokers),
    connectionTimeout: 5_000,
    logLevel: log ? logLevel.WARN : logLevel.NOTHING,
    logCreator: () => (entry: LogEntry) => {
      if (!log) return
      const {message, ...rest} = entry.log
      const level = entry.level === logLevel.ERROR ? 'error' : entry.level === logLevel.WARN ? 'warn' : 'debug'
      log[level]({kafka: entry.namespace, ...rest}, message)
    },
  })
}
