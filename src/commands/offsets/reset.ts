import {Flags} from '@oclif/core'
import {MauCommand} from '../../core/command.js'
import {configError} from '../../core/errors.js'
import * as flag from '../../core/flags.js'
import {parseInstant} from '../../core/month.js'
import {DEFAULTS} from '../../core/settings.js'
import {resetReport} from '../../ingest/format.js'
import {resetOffsets, type ResetResult, type ResetTarget} from '../../ingest/reset.js'
import {connectRedis, createRedis, resolveRedis} from '../../core/redis.js'
import {resetStreams} from '../../ingest/redis/offsets.js'
import {streamsOf} from '../../ingest/redis/streams.js'

const target = Flags.custom<ResetTarget>({
  required: true,
  summary: 'earliest (the log start), latest (the end), or an instant: ISO 8601, or a date and time read in UTC.',
  async parse(input) {
    if (input === 'earliest' || input === 'latest') return {to: input}
    try {
      return {to: 'time', at: parseInstant(input, DEFAULTS.timezone, '--to') * 1000}
    } catch {
      throw configError(
        `--to "${input}" is invalid: expected earliest, latest, or an instant such as 2026-12-01T00:00:00Z.`,
      )
    }
  },
})

export default class OffsetsReset extends MauCommand<ResetResult> {
  static override summary =
    "Move the consumer group's stored offsets of a topic in MySQL (prints the plan; changes nothing without --yes)."
  static override description =
    "The way out when Kafka is behind MySQL (a recreated topic: --to earliest). Moving an offset back applies the messages between again, and those applied before are counted twice; moving it forward skips messages: the plan says how many of each. A running consumer reads from the new offsets at its next window; Kafka's committed offsets follow at its next commit."
  static override examples = [
    '<%= config.bin %> offsets reset --topic user-events --to earliest',
    '<%= config.bin %> offsets reset --topic user-events --to earliest --yes',
    '<%= config.bin %> offsets reset --topic user-events --partition 3 --to 2026-12-01T00:00:00Z --yes --json',
    "<%= config.bin %> offsets reset --source redis --topic 'goal-3{stream}' --to earliest --yes",
  ]
  static override flags = {
    ...flag.database,
    source: flag.eventSource,
    ...flag.kafka,
    ...flag.redis,
    group: flag.group,
    topic: flag.oneTopic,
    partition: flag.kafkaPartition,
    to: target(),
    yes: Flags.boolean({default: false, summary: 'Make the change; without it, only the plan is printed.'}),
  }

  async run(): Promise<ResetResult> {
    const {flags} = await this.parse(OffsetsReset)
    const o = {
      group: flags.group,
      brokers: flags.brokers,
      topic: flags.topic,
      partition: flags.partition,
      target: flags.to,
      apply: flags.yes,
    }
    const result = await this.withDb(flags, async (db) => {
      if (flags.source === 'kafka') return resetOffsets(await this.kafka(flags, 'mau-offsets'), db, o)
      // A stream key (goal-3{stream}) or a platform topic (goal: all its streams).
      const settings = resolveRedis(flags)
      const redis = createRedis(settings, 'mau-offsets')
      try {
        await connectRedis(redis, settings)
        return await resetStreams(redis, db, {
          group: flags.group,
          keys: streamsOf([flags.topic], flags['redis-partitions']),
          target: flags.to,
          apply: flags.yes,
        })
      } finally {
        redis.disconnect()
      }
    })
    if (result.changes.length === 0)
      throw configError(`Topic ${flags.topic} has no partition ${flags.partition}.`, [
        'See its partitions: mau offsets list --topic ' + flags.topic,
      ])
    this.log(resetReport(result))
    return result
  }
}
