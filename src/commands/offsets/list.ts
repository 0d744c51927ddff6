import {MauCommand} from '../../core/command.js'
import * as flag from '../../core/flags.js'
import {listOf} from '../../core/settings.js'
import {offsetsReport} from '../../ingest/format.js'
import {listOffsets, type OffsetsList as Result} from '../../ingest/reset.js'

export default class OffsetsList extends MauCommand<Result> {
  static override summary = "Show where the consumer group stands: MySQL's stored offset per partition beside Kafka's log start and end, the lag, and unacknowledged losses."
  static override description = 'A stored offset past the end means Kafka lost what MySQL applied (a recreated topic, another cluster): mau consume refuses to start until `mau offsets reset` moves it.'
  static override examples = ['<%= config.bin %> offsets list', '<%= config.bin %> offsets list --topic user-events --json']
  static override flags = {...flag.database, ...flag.kafka, topic: flag.topic, group: flag.group}

  async run(): Promise<Result> {
    const {flags} = await this.parse(OffsetsList)
    const result = await this.withDb(flags, async (db) => listOffsets(await this.kafka(flags, 'mau-offsets'), db, {group: flags.group, brokers: flags.brokers, topics: listOf(flags.topic)}))
    this.log(offsetsReport(result))
    return result
  }
}
