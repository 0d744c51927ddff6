/**
 * The users a consumer knows to be in mau_user_month this month, so that a window leaves out their
 * INSERT IGNORE (mau/rows.ts planRows): where users are many, nearly every event is a row of its own, and
 * that insert of a user already present was a third of MySQL's work (bench/results/ingest-users.md).
 *
 * Exactness rests on one rule: a user is known only from events this process applied, learned after their
 * transaction committed, and the whole set holds only while MySQL holds exactly the offsets this process
 * stored since the set began. Any other write of one of them is found by certify() in the next window's
 * transaction, and the set is forgotten before anything is skipped: lower, a failover to a replica behind
 * or a restored dump lost windows it learned from; higher, another replica wrote the partition after a
 * rebalance, or `offsets reset` or a recorded loss moved it on, and such a move after a lost window cannot
 * be told from progress. Only the current month is kept: `backfill` replaces only months that are over and
 * `partitions rotate` drops only expired ones, the two statements that delete from mau_user_month.
 */
import type {Queryable} from '../core/db.js'
import type {Logger} from '../core/log.js'
import {currentMonth, type YearMonth} from '../core/month.js'
import {DEFAULTS} from '../core/settings.js'
import type {KnownUserMonths, UserMonths} from '../mau/rows.js'
import type {ConsumerMetrics} from './metrics.js'
import {parseKey, partitionKey, storedOffsets, type PartitionRef} from './offsets.js'

/** A partition of a group, as certify's `locked` is keyed. */
export const storedKey = (ref: PartitionRef): string => `${ref.group}\u0000${partitionKey(ref.topic, ref.partition)}`

export class KnownUsers implements KnownUserMonths {
  private month: YearMonth | undefined
  private readonly users = new Map<string, Set<string>>()
  private size = 0
  /** Per partition, the highest offset this process stored since the set began. */
  private readonly stored = new Map<string, {ref: PartitionRef; nextOffset: number}>()
  /** Moves on each forget: a plan made with an earlier set is made again (writer.ts). */
  generation = 0

  /**
   * limit: most users remembered (0: none, the feature off); currentMonth: the month of now, in the recorded
   * zone; forgotten: told why, when a set that held users is forgotten.
   */
  constructor(
    private readonly limit: number,
    private readonly currentMonth: () => YearMonth,
    private readonly forgotten: (why: {users: number; reason: string}) => void = () => {},
    private readonly counted: (users: number) => void = () => {},
  ) {}

  has(environmentNamespace: string, yearmonth: string, userId: string): boolean {
    return yearmonth === this.month && this.users.get(environmentNamespace)?.has(userId) === true
  }

  get count(): number {
    return this.size
  }

  /** Called before a window is planned: a month that has ended is forgotten. */
  refresh(): void {
    const month = this.currentMonth()
    if (month === this.month) return
    this.forget(`the month is now ${month}`)
    this.month = month
  }

  forget(reason = 'asked'): void {
    if (this.size > 0) this.forgotten({users: this.size, reason})
    this.users.clear()
    this.stored.clear()
    this.size = 0
    this.generation++
    this.counted(0)
  }

  /** After a window committed: the users its plan recorded in mau_user_month, and the offsets stored with them. */
  learn(inserted: readonly UserMonths[], stored: readonly {ref: PartitionRef; nextOffset: number}[]): void {
    if (this.limit === 0) return
    for (const s of stored) {
      const k = storedKey(s.ref)
      const was = this.stored.get(k)
      if (!was || s.nextOffset > was.nextOffset) this.stored.set(k, {ref: s.ref, nextOffset: s.nextOffset})
    }
    for (const {environmentNamespace, yearmonth, users} of inserted) {
      if (yearmonth !== this.month) continue
      let known = this.users.get(environmentNamespace)
      if (!known) this.users.set(environmentNamespace, (known = new Set()))
      for (const u of users) {
        if (this.size >= this.limit) break
        if (known.has(u)) continue
        known.add(u)
        this.size++
      }
    }
    this.counted(this.size)
  }

  /**
   * Inside a window's transaction, before its plan is used: whether MySQL holds exactly the offsets this
   * process stored since the set began; if not, the set is forgotten (and false returned). `locked`: the
   * window's own partitions' offsets, just read; others are read here (none, when a window covers them all).
   */
  async certify(conn: Queryable, locked: ReadonlyMap<string, number | undefined>): Promise<boolean> {
    const missing = [...this.stored.entries()].filter(([k]) => !locked.has(k))
    const read = new Map<string, number>()
    for (const group of new Set(missing.map(([, s]) => s.ref.group))) {
      const refs = missing.filter(([, s]) => s.ref.group === group).map(([, s]) => s.ref)
      for (const [k, v] of await storedOffsets(conn, group, [...new Set(refs.map((r) => r.topic))]))
        read.set(storedKey({group, ...parseKey(k)}), v)
    }
    for (const [k, {nextOffset}] of this.stored) {
      const now = (locked.has(k) ? locked.get(k) : read.get(k)) ?? -1
      if (now !== nextOffset) {
        this.forget(
          `MySQL's stored offset of ${k.replace('\u0000', ' ')} is ${now}, not the ${nextOffset} this consumer stored`,
        )
        return false
      }
    }
    return true
  }
}

/** The consumer's set (limit: --known-users, its default when absent): none at 0; its size and forgetting in the metrics and the log. */
export function knownUsers(
  limit: number | undefined,
  zone: string,
  deps: {log: Logger; metrics: Pick<ConsumerMetrics, 'knownUsers' | 'knownUsersForgotten'>},
): KnownUsers | undefined {
  if (limit === 0) return undefined
  return new KnownUsers(
    limit ?? DEFAULTS.knownUsers,
    () => currentMonth(zone),
    (why) => {
      deps.metrics.knownUsersForgotten.inc()
      deps.log.info(why, 'known users forgotten: every user is recorded again until they are known anew')
    },
    (count) => deps.metrics.knownUsers.set(count),
  )
}
