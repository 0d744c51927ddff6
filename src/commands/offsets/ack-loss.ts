import {MauCommand} from '../../core/command.js'
import * as flag from '../../core/flags.js'
import {lossesTable} from '../../ingest/format.js'
import {acknowledgeLosses, type RecordedLoss} from '../../ingest/losses.js'

export interface AckResult {
  acknowledged: RecordedLoss[]
}

export default class OffsetsAckLoss extends MauCommand<AckResult> {
  static override summary =
    'Acknowledge the recorded losses of a topic (messages deleted from Kafka before they were applied), once you know why they happened.'
  static override description =
    'mau doctor exits 1 while a loss is unacknowledged. The loss stays recorded (mau offsets list --json), marked acknowledged.'
  static override examples = ['<%= config.bin %> offsets ack-loss --topic user-events --partition 3']
  static override flags = {...flag.database, group: flag.group, topic: flag.oneTopic, partition: flag.kafkaPartition}

  async run(): Promise<AckResult> {
    const {flags} = await this.parse(OffsetsAckLoss)
    const filter = {group: flags.group, topic: flags.topic, partition: flags.partition}
    const acknowledged = await this.withDb(flags, (db) => acknowledgeLosses(db, filter, Math.floor(Date.now() / 1000)))
    const where = `group ${flags.group}, topic ${flags.topic}${flags.partition === undefined ? '' : ` partition ${flags.partition}`}`
    this.log(
      acknowledged.length === 0
        ? `No unacknowledged loss for ${where}.`
        : `Acknowledged ${acknowledged.length} loss${acknowledged.length === 1 ? '' : 'es'} of ${where}:\n${lossesTable(acknowledged)}`,
    )
    return {acknowledged}
  }
}
