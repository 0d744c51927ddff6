/**
 * A MariaDB primary with an asynchronous replica (binary log, GTID), each its own server started by
 * scripts/mariadb-instance.sh: what a failover does to the consumer is tested against real replication.
 */
import {execFileSync} from 'node:child_process'
import mysql from 'mysql2/promise'

const script = (...args: string[]) =>
  execFileSync('bash', ['scripts/mariadb-instance.sh', ...args], {stdio: ['ignore', 'ignore', 'pipe'], timeout: 60_000})

async function sql(port: number, statement: string): Promise<mysql.RowDataPacket[]> {
  const conn = await mysql.createConnection({host: '127.0.0.1', port, user: 'root'})
  try {
    const [rows] = await conn.query<mysql.RowDataPacket[]>(statement)
    return rows
  } finally {
    await conn.end()
  }
}

export class ReplicatedPair {
  private constructor(
    readonly name: string,
    readonly primaryPort: number,
    readonly replicaPort: number,
  ) {}

  /** Both servers fresh, the replica replicating everything the primary writes from now on. */
  static async start(name: string, primaryPort: number, replicaPort: number): Promise<ReplicatedPair> {
    script('start', `${name}-primary`, String(primaryPort))
    script('start', `${name}-replica`, String(replicaPort))
    await sql(
      replicaPort,
      `CHANGE MASTER TO MASTER_HOST = '127.0.0.1', MASTER_PORT = ${primaryPort}, MASTER_USER = 'root', MASTER_PASSWORD = '', MASTER_USE_GTID = slave_pos`,
    )
    await sql(replicaPort, 'START SLAVE')
    return new ReplicatedPair(name, primaryPort, replicaPort)
  }

  async createDatabase(name: string): Promise<void> {
    await sql(this.primaryPort, `CREATE DATABASE \`${name}\``)
  }

  url(port: number, database: string): string {
    return `mysql://root@127.0.0.1:${port}/${database}`
  }

  /** Waits until the replica has applied everything the primary has written so far. */
  async caughtUp(timeoutSeconds = 60): Promise<void> {
    const [{pos}] = (await sql(this.primaryPort, 'SELECT @@gtid_binlog_pos AS pos')) as [{pos: string}]
    const [{waited}] = (await sql(
      this.replicaPort,
      `SELECT MASTER_GTID_WAIT('${pos}', ${timeoutSeconds}) AS waited`,
    )) as [{waited: number}]
    if (Number(waited) !== 0)
      throw new Error(`the replica did not reach the primary's position ${pos} within ${timeoutSeconds}s`)
  }

  /** The replica stops applying: from now on it falls behind, as an asynchronous replica does. */
  async stopReplication(): Promise<void> {
    await sql(this.replicaPort, 'STOP SLAVE')
  }

  /** The primary dies (SIGKILL): whatever the replica had not applied is gone with it. */
  killPrimary(): void {
    script('kill', `${this.name}-primary`)
  }

  /** The replica becomes a primary of its own, writable, with what it had. */
  async promote(): Promise<void> {
    await sql(this.replicaPort, 'STOP SLAVE')
    await sql(this.replicaPort, 'RESET SLAVE ALL')
    await sql(this.replicaPort, 'SET GLOBAL read_only = OFF')
  }

  stop(): void {
    for (const which of ['primary', 'replica']) script('stop', `${this.name}-${which}`)
  }
}
