/**
 * Every month's counters, for every reader: mau_summary's lines, or, for a month whose rows retention
 * dropped, the totals `partitions rotate` kept of it (mau_month_total). Kept totals win: a month once
 * dropped stays as it was, whatever stray rows arrive later. Same columns as mau_summary, and `kept`.
 */
export const COUNTERS = `(SELECT yearmonth, environment_namespace, source_id, users, events, 0 AS kept FROM mau_summary s
   WHERE NOT EXISTS (SELECT 1 FROM mau_month_total t WHERE t.yearmonth = s.yearmonth)
  UNION ALL SELECT yearmonth, environment_namespace, source_id, users, events, 1 AS kept FROM mau_month_total)`

/** What a month answered from kept totals says, in JSON (`"rows": "dropped"`) and under a table. */
export const DROPPED = 'dropped'
export const keptNote = (months: string[]): string =>
  `${months.join(', ')}: rows dropped by retention (mau partitions rotate); the numbers are the totals kept when they were.`
