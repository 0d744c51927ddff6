/**
 * Rows of `mau` generated inside the server (a 5,000-row number table crossed with itself): millions of
 * rows in seconds, with no client traffic. One environment's `rows` users, each on one of three sources.
 */
import type {Queryable} from '../src/core/db.js'

export async function createNumbers(db: Queryable): Promise<void> {
  await db.query('CREATE TABLE bench_n (n INT PRIMARY KEY)')
  for (let i = 0; i < 5000; i += 1000)
    await db.query(`INSERT INTO bench_n VALUES ${Array.from({length: 1000}, (_, j) => `(${i + j})`).join(',')}`)
}

/** `rows` rows for one environment of a month; with spaceEvery, one user id in that many ends in a space. */
export function fillEnvironment(db: Queryable, o: {env: string; month: string; rows: number; spaceEvery?: number}) {
  const space = o.spaceEvery ? `IF(b.n % ${Math.floor(o.spaceEvery)} = 7, ' ', '')` : "''"
  return db.query(
    `INSERT INTO mau (environment_namespace, yearmonth, source_id, user_id, event_count, created_at, updated_at)
     SELECT ?, ?, ELT(1 + (a.n + b.n) % 3, 'ANDROID', 'IOS', 'WEB'), CONCAT('user-', a.n, '-', b.n, ${space}), 1 + b.n % 7, 0, 0
       FROM bench_n a JOIN bench_n b ON b.n < ? WHERE a.n < ?`,
    [o.env, o.month, Math.ceil(o.rows / 5000), Math.min(5000, o.rows)],
  )
}
