import {aheadMonthsFlag, mysqlFlags, resolveMysql, retentionFlags, timezoneFlag} from '../../config.js'
import {MauCommand} from '../../command.js'
import {table} from '../../render.js'
import {describeRange, listPartitions, type ListResult} from '../../rotate.js'

export default class PartitionsList extends MauCommand<ListResult> {
  static override summary = 'List the partitions of mau with their months, estimated rows and size, and what the next rotate would do.'
  static override flags = {...mysqlFlags, ...timezoneFlag, ...retentionFlags, ...aheadMonthsFlag}

  async run(): Promise<ListResult> {
    const {flags} = await this.parse(PartitionsList)
    const result = await listPartitions(resolveMysql(flags['mysql-url']), {timezone: flags.timezone, retainMonths: flags['retain-months'], aheadMonths: flags['ahead-months']})
    const mb = (b: number) => (b / 1024 / 1024).toFixed(1)
    this.log(table(['partition', 'months', '~rows', 'MB', 'next rotate'], result.partitions.map((p) => [p.name, describeRange(p), p.rows, mb(p.bytes), p.next])))
    if (result.plan.create.length > 0) this.log(`next rotate creates: ${result.plan.create.map((m) => `p${m}`).join(', ')}`)
    return result
  }
}
