import {MauCommand} from '../../core/command.js'
import * as flag from '../../core/flags.js'
import {partitionsReport} from '../../schema/format.js'
import {listPartitions, type ListResult} from '../../schema/rotate.js'

export default class PartitionsList extends MauCommand<ListResult> {
  static override summary =
    'List the partitions of mau with their months, estimated rows and size, and what the next rotate would do.'
  static override examples = [
    '<%= config.bin %> partitions list',
    '<%= config.bin %> partitions list --retain-months 13 --json',
  ]
  static override flags = {
    ...flag.database,
    timezone: flag.timezone,
    'retain-months': flag.retainMonths,
    'ahead-months': flag.aheadMonths,
  }

  async run(): Promise<ListResult> {
    const {flags} = await this.parse(PartitionsList)
    const result = await this.withZone(flags, (db, timezone) =>
      listPartitions(db, {timezone, retainMonths: flags['retain-months'], aheadMonths: flags['ahead-months']}),
    )
    this.log(partitionsReport(result))
    return result
  }
}
