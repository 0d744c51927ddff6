/**
 * Which replica reads which stream: each stream is owned through a MySQL named lock (GET_LOCK), all held
 * on one connection of this replica's own. A replica that dies closes that connection and MySQL frees its
 * locks at once; the others take the streams at their next look. One lost without closing it (its node or
 * network gone) stops sending the looks that keep the connection busy, and MySQL ends it after the session
 * timeout (the connection's wait_timeout); a replica whose lock connection stops answering gives up every
 * stream at once, since MySQL may already have freed its locks. Replicas count themselves by holding
 * one of N "member" locks, so that each takes a fair share: ceil(streams / replicas), giving up streams
 * beyond it for a replica that joined later.
 *
 * Ownership keeps replicas from reading the same stream twice over; it is not what makes the count exact:
 * every window locks its streams' stored positions and applies only what continues them (writer.ts).
 */
import {createHash} from 'node:crypto'
import type {PoolConnection, RowDataPacket} from 'mysql2/promise'
import type {Db} from '../../core/db.js'
import type {Logger} from '../../core/log.js'

export interface OwnershipDeps {
  db: Db
  log: Logger
  /** Streams this replica now owns: position them and read. */
  acquired: (keys: string[]) => void
  /** Streams it no longer owns (given up, or the lock connection lost): stop reading them at once. */
  released: (keys: string[]) => void
  /** Seconds MySQL keeps the lock connection, and so the streams, of a replica gone silent (default 30). */
  sessionTimeoutSeconds?: number
  /** Most ms a lock query may take before the connection counts as lost (default 5 s). */
  queryTimeoutMs?: number
}

/** Lock names are server-wide and at most 64 characters: the database, group and stream hashed. */
const lockName = (database: string, group: string, what: string) =>
  `mau.rs.${createHash('sha1').update(`${database}\u0000${group}\u0000${what}`).digest('hex')}`

/** Pure: how many streams a replica takes when `replicas` share `streams`. */
export const fairShare = (streams: number, replicas: number): number => Math.ceil(streams / Math.max(1, replicas))

export class Ownership {
  private conn: PoolConnection | null = null
  private connectionId = 0
  private readonly owned = new Set<string>()
  private member = false
  private stopped = false
  private timer: NodeJS.Timeout | undefined
  private ticking: Promise<void> = Promise.resolve()
  private names = new Map<string, string>()
  private memberNames: string[] = []

  constructor(
    private readonly group: string,
    private readonly keys: readonly string[],
    private readonly deps: OwnershipDeps,
  ) {}

  get streams(): ReadonlySet<string> {
    return this.owned
  }

  /** Takes a first share now, then looks again every intervalMs. */
  async start(intervalMs: number): Promise<void> {
    await this.tick()
    const loop = () => {
      if (this.stopped) return
      this.timer = setTimeout(() => {
        this.ticking = this.tick().finally(loop)
      }, intervalMs)
    }
    loop()
  }

  async stop(): Promise<void> {
    this.stopped = true
    clearTimeout(this.timer)
    // A look stuck on a silent connection ends at its query timeout; the connection is destroyed below anyway.
    let timer: NodeJS.Timeout | undefined
    await Promise.race([this.ticking, new Promise((r) => (timer = setTimeout(r, this.queryTimeout + 1_000)))])
    clearTimeout(timer)
    const conn = this.conn
    this.conn = null
    this.drop()
    // Releasing the connection ends its locks: destroy, not back to the pool, where it would keep them.
    conn?.destroy()
  }

  private drop(): void {
    this.member = false
    if (this.owned.size === 0) return
    const keys = [...this.owned]
    this.owned.clear()
    this.deps.released(keys)
  }

  private get queryTimeout(): number {
    return this.deps.queryTimeoutMs ?? 5_000
  }

  /** A lock query that fails, rather than waits, when the connection stopped answering. */
  private query(conn: PoolConnection, sql: string, values: unknown[] = []) {
    return conn.query<RowDataPacket[]>({sql, values, timeout: this.queryTimeout})
  }

  private async connect(): Promise<PoolConnection> {
    if (this.conn) return this.conn
    const conn = await this.deps.db.getConnection()
    let row: RowDataPacket | undefined
    try {
      await this.query(conn, 'SET SESSION wait_timeout = ?', [this.deps.sessionTimeoutSeconds ?? 30])
      ;[[row]] = await this.query(conn, 'SELECT DATABASE() AS db, CONNECTION_ID() AS id')
      // stop() has already destroyed what it found: this one would be left holding whatever it takes.
      if (this.stopped) throw new Error('the ownership of the streams was stopped')
    } catch (error) {
      // Its session may hold nothing yet, but back in the pool it would be a connection in an unknown state.
      conn.destroy()
      throw error
    }
    this.connectionId = Number(row!.id)
    this.names = new Map(this.keys.map((k) => [k, lockName(String(row!.db), this.group, `stream:${k}`)]))
    this.memberNames = this.keys.map((_, i) => lockName(String(row!.db), this.group, `member:${i}`))
    this.conn = conn
    return conn
  }

  private async tick(): Promise<void> {
    try {
      const conn = await this.connect()
      if (!this.member) {
        for (const name of this.memberNames) {
          const [[r]] = await this.query(conn, 'SELECT GET_LOCK(?, 0) AS got', [name])
          if (Number(r!.got) === 1) {
            this.member = true
            break
          }
        }
      }
      const holders = async (names: string[]) => {
        const [[r]] = await this.query(
          conn,
          `SELECT ${names.map((_, i) => `IS_USED_LOCK(?) AS h${i}`).join(', ')}`,
          names,
        )
        return names.map((_, i) => (r![`h${i}`] === null ? null : Number(r![`h${i}`])))
      }
      const members = (await holders(this.memberNames)).filter((h) => h !== null).length
      const share = fairShare(this.keys.length, members)
      const byStream = await holders(this.keys.map((k) => this.names.get(k)!))
      // A lock this connection lost (the server restarted, or an operator killed it) is not ours any more.
      const lost = this.keys.filter((k, i) => this.owned.has(k) && byStream[i] !== this.connectionId)
      if (lost.length > 0) {
        for (const k of lost) this.owned.delete(k)
        this.deps.released(lost)
      }
      if (this.owned.size > share) {
        const extra = [...this.owned].sort().slice(share)
        for (const k of extra) this.owned.delete(k)
        // Stop reading before the lock is free: the next owner starts from what MySQL has.
        this.deps.released(extra)
        for (const k of extra) await this.query(conn, 'SELECT RELEASE_LOCK(?)', [this.names.get(k)])
        this.deps.log.info({streams: extra, share, replicas: members}, 'gave up streams for another replica')
        return
      }
      const taken: string[] = []
      for (const [i, k] of this.keys.entries()) {
        if (this.owned.size + taken.length >= share) break
        if (byStream[i] !== null) continue
        const [[r]] = await this.query(conn, 'SELECT GET_LOCK(?, 0) AS got', [this.names.get(k)])
        if (Number(r!.got) === 1) taken.push(k)
      }
      // Stopped meanwhile: the connection, and with it these locks, is destroyed by stop().
      if (taken.length > 0 && !this.stopped) {
        for (const k of taken) this.owned.add(k)
        this.deps.log.info({streams: taken, share, replicas: members}, 'took streams')
        this.deps.acquired(taken)
      }
    } catch (error) {
      this.deps.log.warn(
        {err: error},
        'lost the connection holding the stream locks: giving up every stream until it is back',
      )
      this.conn?.destroy()
      this.conn = null
      this.drop()
    }
  }
}
