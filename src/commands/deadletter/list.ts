import {Flags} from '@oclif/core'
import {mysqlFlags, resolveMysql} from '../../config.js'
import {MauCommand} from '../../command.js'
import {listDeadLetters, type DeadLetterEntry} from '../../deadletter.js'
import {configError} from '../../errors.js'
import {table} from '../../render.js'
import {asServiceError, openPool} from '../../store.js'

export default class DeadletterList extends MauCommand<{total: number; entries: DeadLetterEntry[]}> {
  static override summary = 'List the events the consumer set aside, newest first, with the reason for each.'
  static override examples = ['<%= config.bin %> deadletter list --limit 20', '<%= config.bin %> deadletter list --since 2022-12-01 --json']
  static override flags = {
    ...mysqlFlags,
    limit: Flags.integer({default: 50, min: 1, max: 10_000, summary: 'Most entries to show.'}),
    topic: Flags.string({summary: 'Only this topic.'}),
    group: Flags.string({summary: 'Only this consumer group.'}),
    since: Flags.string({
      summary: 'Only entries set aside at or after this ISO date or time.',
      async parse(input) {
        if (Number.isNaN(Date.parse(input))) throw configError(`Invalid --since "${input}": expected an ISO date or time such as 2022-12-01 or 2022-12-01T09:00:00Z.`)
        return input
      },
    }),
  }

  async run(): Promise<{total: number; entries: DeadLetterEntry[]}> {
    const {flags} = await this.parse(DeadletterList)
    const settings = resolveMysql(flags['mysql-url'])
    const db = openPool(settings, {connectionLimit: 1})
    try {
      const since = flags.since === undefined ? undefined : Math.floor(Date.parse(flags.since) / 1000)
      const result = await listDeadLetters(db, {limit: flags.limit, topic: flags.topic, group: flags.group, since})
      const preview = (e: DeadLetterEntry) => (e.payload === null ? '(none)' : `${e.payloadEncoding === 'base64' ? 'base64:' : ''}${e.payload.slice(0, 36)}`)
      this.log(table(['id', 'at', 'topic/partition@offset', 'reason', 'payload'], result.entries.map((e) => [e.id, e.createdAt, `${e.topic}/${e.partition}@${e.offset}`, e.reason.slice(0, 56), preview(e)])))
      this.log(`${result.entries.length} of ${result.total} dead-lettered events`)
      return result
    } catch (error) {
      throw asServiceError(error, settings)
    } finally {
      await db.end()
    }
  }
}
