/** Pure renderings of verify-migration and backfill results: tables for people, CSV for spreadsheets. */
import {bad, type Cell, csvLine, formatNumber, table, tone} from '../core/render.js'
import type {BackfillResult} from './backfill.js'
import type {Side, VerifyResult} from './verify.js'

/** One CSV line per verified line. */
export function toVerifyCsv(r: VerifyResult): string {
  const lines = [
    'month,environment_namespace,source_id,druid_users,mysql_users,users_diff,users_diff_pct,druid_events,mysql_events,events_diff,events_diff_pct,verdict',
  ]
  for (const row of r.rows) {
    lines.push(
      csvLine([
        r.month,
        row.environment_namespace,
        row.source_id,
        row.druid?.users ?? '',
        row.mysql?.users ?? '',
        row.difference.users,
        row.percent.users ?? '',
        row.druid?.events ?? '',
        row.mysql?.events ?? '',
        row.difference.events,
        row.percent.events ?? '',
        row.verdict,
      ]),
    )
  }
  return `${lines.join('\n')}\n`
}

export function verifyReport(result: VerifyResult): string {
  const side = (s: Side | null): Cell[] => (s ? [s.users, s.events] : ['-', '-'])
  const pct = (p: number | null) => (p === null ? '' : `${p > 0 ? '+' : ''}${p}%`)
  const lines = [
    `${result.month} in ${result.timezone}, ${result.window.from} to ${result.window.to}; distinct users ${result.approximate ? `approximate (tolerance ${result.tolerancePercent}%)` : 'exact'}`,
  ]
  lines.push(
    table(
      [
        'environment',
        'source',
        'druid users',
        'druid events',
        'mysql users',
        'mysql events',
        'users diff',
        'events diff',
        'verdict',
      ],
      result.rows.map((r) => [
        r.environment_namespace,
        r.source_id || 'all',
        ...side(r.druid),
        ...side(r.mysql),
        `${formatNumber(r.difference.users)} ${pct(r.percent.users)}`.trim(),
        `${formatNumber(r.difference.events)} ${pct(r.percent.events)}`.trim(),
        r.verdict === 'match' || r.verdict === 'in-flight' ? r.verdict : bad(r.verdict),
      ]),
    ),
  )
  for (const r of result.rows.filter((row) => row.onlyInDruid || row.onlyInMysql)) {
    const scope = `${r.environment_namespace}/${r.source_id || 'all'}`
    // Quoted, so that an id that differs only by a trailing space shows it.
    if (r.onlyInDruid?.length)
      lines.push(`only in Druid (${scope}): ${r.onlyInDruid.map((id) => JSON.stringify(id)).join(', ')}`)
    if (r.onlyInMysql?.length)
      lines.push(`only in MySQL (${scope}): ${r.onlyInMysql.map((id) => JSON.stringify(id)).join(', ')}`)
  }
  for (const r of result.rows.filter((row) => row.notInFlight?.length)) {
    lines.push(
      tone(
        `not explained by the messages in flight (${r.environment_namespace}/${r.source_id || 'all'}): ${r.notInFlight!.map((id) => JSON.stringify(id)).join(', ')}`,
        'bad',
      ),
    )
  }
  const f = result.inFlight
  if (f) {
    const where = f.partitions
      .map(
        (p) => `${p.partition}: MySQL ${p.mysql.before}..${p.mysql.after}, Druid ${p.druid.before}..${p.druid.after}`,
      )
      .join('; ')
    lines.push(
      `in flight on ${f.topic}: ${formatNumber(f.messages)} messages between the sides, ${formatNumber(f.events)} events of them in the window (partition ${where})`,
    )
  }
  for (const c of result.caveats) lines.push(`note: ${c}`)
  const differ = result.rows.filter((r) => r.verdict === 'in-flight').length
  if (!result.ok) lines.push(tone(`FAIL: ${result.mismatches} of ${result.rows.length} lines differ.`, 'bad'))
  else if (differ > 0)
    lines.push(
      tone(
        `PASS (in flight): ${differ} of ${result.rows.length} lines differ only by messages one side has not applied yet.`,
        'good',
      ),
    )
  else lines.push(tone(`PASS: ${result.rows.length} lines agree.`, 'good'))
  return lines.join('\n')
}

export function backfillReport(result: BackfillResult): string {
  const lines = [`${result.month} (${result.mode}) from ${result.window.from} to ${result.window.to}`]
  lines.push(
    table(
      ['environment', 'outcome', 'rows', 'events', 'rejected'],
      [
        ...result.environments.map((e) => [e.environment_namespace, e.outcome, e.rows, e.events, e.rejected]),
        ['total', null, result.total.rows, result.total.events, result.total.rejected],
      ],
    ),
  )
  for (const e of result.environments.filter((env) => env.firstRejection))
    lines.push(`rejected in ${e.environment_namespace}: ${e.firstRejection}`)
  return lines.join('\n')
}
