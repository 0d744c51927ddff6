import {Flags} from '@oclif/core'
import {MauCommand} from '../../core/command.js'
import * as flag from '../../core/flags.js'
import {monthIn} from '../../core/month.js'
import {buildReport, type ReportDocument} from '../../report/build.js'
import {sentTable, toReportCsv, toSlackText} from '../../report/format.js'
import {sentVsNow, type SentVsNow} from '../../report/revisions.js'

type Shown = ReportDocument & {sent: SentVsNow[]}

export default class ReportShow extends MauCommand<Shown> {
  static override summary =
    'Render the monthly MAU report here (as Slack text, --csv or --json) without sending it, with what each destination was sent of the month against now.'
  static override examples = [
    '<%= config.bin %> report show',
    '<%= config.bin %> report show --month 202212 --csv',
    '<%= config.bin %> report show --months 6',
  ]
  static override flags = {
    ...flag.database,
    timezone: flag.timezone,
    month: flag.month({relative: 'previous'}),
    months: Flags.integer({
      default: 1,
      min: 1,
      max: 120,
      summary: 'Also show the totals of this many months, ending with --month, with their change.',
    }),
    namespace: flag.namespace,
    csv: flag.csv,
  }

  async run(): Promise<Shown> {
    const {flags} = await this.parse(ReportShow)
    const [doc, sent] = await this.withZone(flags, async (db, zone) => {
      const month = monthIn(flags.month, zone)
      return [
        await buildReport(db, month, flags.namespace ?? [], new Date(), flags.months),
        await sentVsNow(db, month),
      ] as const
    })
    if (flags.csv) process.stdout.write(toReportCsv(doc))
    else this.log([toSlackText(doc), ...sent.map(sentTable)].join('\n\n'))
    return {...doc, sent}
  }
}
