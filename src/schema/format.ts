/** Pure renderings of the schema's state: migrations applied or pending, partitions and what rotate did. */
import {table} from '../core/render.js'
import {addMonths} from '../core/month.js'
import type {MigrateResult, MigrationInfo, StatusResult} from './migrate.js'
import {MAXVALUE} from './partitions.js'
import type {ListResult, PartitionInfo, RotateResult} from './rotate.js'
import type {ZoneStatus} from './timezone.js'

const version = (m: MigrationInfo) => `${String(m.version).padStart(3, '0')} ${m.name}`

export function migrateReport(r: MigrateResult): string {
  const lines =
    r.applied.length === 0
      ? [`Schema is up to date at version ${r.version}.`]
      : r.applied.map((m) => `applied ${version(m)}`)
  if (r.partitionsCreated.length > 0) lines.push(`created partitions ${r.partitionsCreated.join(', ')}`)
  for (const n of r.notes) lines.push(`note from ${String(n.version).padStart(3, '0')}: ${n.note}`)
  const who = (as: {user: string; host: string; role: string}[]) =>
    as.map((a) => `${a.user}@${a.host} (${a.role})`).join(', ')
  if (r.roles.adopted.length > 0)
    lines.push(`recorded as their roles' (they held exactly an earlier version's rights): ${who(r.roles.adopted)}`)
  if (r.roles.granted.length > 0) lines.push(`rights of this version given to ${who(r.roles.granted)}`)
  if (r.roles.gone.length > 0) lines.push(`recorded accounts that no longer exist, left alone: ${who(r.roles.gone)}`)
  if (r.roles.skipped) lines.push(`role rights unchanged: ${r.roles.skipped}`)
  return lines.join('\n')
}

export function statusReport(r: StatusResult): string {
  return [
    `database ${r.database}: version ${r.version} of ${r.latest}`,
    ...r.pending.map((m) => `pending ${version(m)}`),
    ...r.edited.map((m) => `EDITED  ${version(m)} (changed after it was applied)`),
  ].join('\n')
}

/** Human range of a partition: "202212" for one month, "< 202212", "202301 and later". */
export function describeRange(p: PartitionInfo): string {
  if (p.lessThan === MAXVALUE) return p.from ? `${p.from} and later` : 'all'
  if (p.from && addMonths(p.from, 1) === p.lessThan) return p.from
  return p.from ? `${p.from} .. ${addMonths(p.lessThan, -1)}` : `before ${p.lessThan}`
}

export function partitionsReport(r: ListResult): string {
  const mb = (b: number) => (b / 1024 / 1024).toFixed(1)
  const rows = r.partitions.map((p) => [p.name, describeRange(p), p.months.join(', '), p.rows, mb(p.bytes), p.next])
  const lines = [table(['partition', 'range', 'months with rows', '~rows', 'MB', 'next rotate'], rows)]
  if (r.plan.create.length > 0) lines.push(`next rotate creates: ${r.plan.create.map((m) => `p${m}`).join(', ')}`)
  if (r.keptTotals.length > 0)
    lines.push(
      `next rotate keeps the totals of ${r.keptTotals.join(', ')} and drops their rows (retention: from ${r.plan.keepFrom})`,
    )
  return lines.join('\n')
}

export function rotateReport(r: RotateResult): string {
  const lines: string[] = []
  if (r.statements.length === 0)
    lines.push(
      `Nothing to do: ${r.plan.current} and the coming months have partitions, none expired (keeping from ${r.plan.keepFrom}).`,
    )
  if (r.dryRun) for (const sql of r.statements) lines.push(`${sql};`)
  if (r.keptTotals.length > 0)
    lines.push(
      `${r.dryRun ? '-- would keep' : 'kept'} the totals of ${r.keptTotals.join(', ')} (mau_month_total) before dropping their rows`,
    )
  for (const e of r.executed)
    lines.push(`${e.kind.padEnd(5)} ${e.ms} ms${e.rows ? ` (~${e.rows} rows)` : ''}: ${e.sql}`)
  const d = r.deadLetters
  lines.push(
    `${r.dryRun ? '-- would delete' : 'deleted'} ${d.deleted.toLocaleString('en-US')} dead letter${d.deleted === 1 ? '' : 's'} set aside before ${d.before} (retention: ${d.retentionDays} days)`,
  )
  return lines.join('\n')
}

export function zoneReport(r: ZoneStatus): string {
  const counted =
    r.monthsCounted.length === 0
      ? 'no month has counts yet'
      : `months with counts: ${r.monthsCounted[0]} to ${r.monthsCounted.at(-1)} (${r.monthsCounted.length})`
  const lines = [
    r.zone
      ? `time zone ${r.zone} (recorded); current month ${r.currentMonth}`
      : 'no time zone recorded: the first workload records its own (MAU_TIMEZONE, default UTC)',
    counted,
  ]
  if (r.changedFrom !== undefined) lines.unshift(`changed the time zone from ${r.changedFrom ?? 'none'} to ${r.zone}`)
  return lines.join('\n')
}
