import {Flags} from '@oclif/core'
import {MauCommand} from '../../core/command.js'
import * as flag from '../../core/flags.js'
import {listDeadLetters, type DeadLetterEntry} from '../../ingest/deadletter.js'
import {deadLetterReport} from '../../ingest/format.js'

export default class DeadletterList extends MauCommand<{total: number; entries: DeadLetterEntry[]}> {
  static override summary = 'List the events the consumer set aside, newest first, with the reason for each.'
  static override examples = [
    '<%= config.bin %> deadletter list --limit 20',
    '<%= config.bin %> deadletter list --since 2022-12-01 --json',
  ]
  static override flags = {
    ...flag.database,
    timezone: flag.timezone,
    limit: Flags.integer({default: 50, min: 1, max: 10_000, summary: 'Most entries to show.'}),
    ...flag.deadLetterFilter,
    since: flag.setAsideSince,
  }

  async run(): Promise<{total: number; entries: DeadLetterEntry[]}> {
    const {flags} = await this.parse(DeadletterList)
    const result = await this.withZone(
      flags,
      (db, zone) =>
        listDeadLetters(db, {limit: flags.limit, topic: flags.topic, group: flags.group, since: flags.since?.in(zone)}),
      {record: false},
    )
    this.log(deadLetterReport(result))
    return result
  }
}
