import {Flags} from '@oclif/core'
import {MauCommand} from '../../core/command.js'
import * as flag from '../../core/flags.js'
import {replayFormat} from '../../ingest/format.js'
import {replayDeadLetters, type ReplayResult} from '../../ingest/replay.js'
import {writerPool} from '../../mau/rows.js'

export default class DeadletterReplay extends MauCommand<ReplayResult> {
  static override summary =
    'Decode the set-aside events again and write the ones that now pass, exactly once; keep the rest.'
  static override description =
    'Run it after a fix to the decoder or the validation has been deployed. Each page of dead letters is written and removed in one transaction, so a crash or a second replay never counts an event twice. --dry-run only says what would pass.'
  static override examples = [
    '<%= config.bin %> deadletter replay --dry-run',
    '<%= config.bin %> deadletter replay --topic user-events --since 2022-12-01',
  ]
  static override flags = {
    ...flag.database,
    timezone: flag.timezone,
    format: flag.eventFormat,
    activity: flag.activity,
    ...flag.deadLetterFilter,
    since: flag.setAsideSince,
    before: flag.instant({summary: 'Only entries set aside before this instant.'}),
    'dry-run': Flags.boolean({default: false, summary: 'Decode and report, write nothing.'}),
  }

  async run(): Promise<ReplayResult> {
    const {flags} = await this.parse(DeadletterReplay)
    const options = {
      format: flags.format,
      activity: [...flags.activity],
      topic: flags.topic,
      group: flags.group,
      dryRun: flags['dry-run'],
    }
    const result = await this.withProgress('Replaying dead letters', 'letters', (report) =>
      this.withZone(
        flags,
        (db, timezone) =>
          replayDeadLetters(db, {
            ...options,
            timezone,
            since: flags.since?.in(timezone),
            before: flags.before?.in(timezone),
            onProgress: report,
          }),
        writerPool(1),
      ),
    )
    this.log(replayFormat(result))
    return result
  }
}
