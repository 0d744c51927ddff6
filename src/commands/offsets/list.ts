import {MauCommand} from '../../core/command.js'
import * as flag from '../../core/flags.js'
import {connectRedis, createRedis, resolveRedis} from '../../core/redis.js'
import {listOf} from '../../core/settings.js'
import {offsetsReport} from '../../ingest/format.js'
import {listStreamOffsets} from '../../ingest/redis/offsets.js'
import {streamsOf} from '../../ingest/redis/streams.js'
import {listOffsets, type OffsetsList as Result} from '../../ingest/reset.js'

export default class OffsetsList extends MauCommand<Result> {
  static override summary =
    "Show where the consumer group stands: MySQL's stored offset per partition (or Redis stream) beside the log start and end, the lag, and unacknowledged losses."
  static override description =
    "A stored offset past the end means the source lost what MySQL applied (a recreated topic or stream, another cluster): mau consume refuses to start until `mau offsets reset` moves it. With --source redis, offsets count each stream's entries since it began, and the last entry id applied is shown."
  static override examples = [
    '<%= config.bin %> offsets list',
    '<%= config.bin %> offsets list --topic user-events --json',
    '<%= config.bin %> offsets list --source redis --redis-stream evaluation,goal',
  ]
  static override flags = {
    ...flag.database,
    source: flag.eventSource,
    ...flag.kafka,
    topic: flag.topic,
    ...flag.redis,
    group: flag.group,
  }

  async run(): Promise<Result> {
    const {flags} = await this.parse(OffsetsList)
    const result = await this.withDb(flags, async (db) => {
      if (flags.source === 'kafka')
        return listOffsets(await this.kafka(flags, 'mau-offsets'), db, {
          group: flags.group,
          brokers: flags.brokers,
          topics: listOf(flags.topic),
        })
      const settings = resolveRedis(flags)
      const redis = createRedis(settings, 'mau-offsets')
      try {
        await connectRedis(redis, settings)
        return await listStreamOffsets(redis, db, {
          group: flags.group,
          keys: streamsOf(listOf(flags['redis-stream']), flags['redis-partitions']),
        })
      } finally {
        redis.disconnect()
      }
    })
    this.log(offsetsReport(result))
    return result
  }
}
