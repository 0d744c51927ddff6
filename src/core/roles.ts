/**
 * Least privilege: the MySQL roles `mau`'s workloads run as, defined once, as data: each role is the least
 * its commands need, table by table. schema/roles.ts turns a role into CREATE USER / GRANT statements and
 * names what a user lacks; a command refused by MySQL for a privilege points at the role that runs it
 * (core/db.ts), which is why this table sits on the ground floor.
 */

export const ROLE_NAMES = ['consumer', 'server', 'reporter', 'operator', 'auditor'] as const
export type RoleName = (typeof ROLE_NAMES)[number]

/** Privileges on one table, or on every table of the database ('*'); grantOption: the holder may pass them on. */
export interface Grant {
  privileges: string[]
  table: string
  grantOption?: boolean
  /**
   * The schema version from which the role holds this grant, when that is later than its table's creation:
   * how `db migrate` recognises an account an earlier version's `db grants` made (schema/role-accounts.ts).
   */
  since?: number
}

export interface Role {
  name: RoleName
  summary: string
  /** The commands it runs, as typed ("deadletter replay"). */
  commands: string[]
  grants: Grant[]
  /** Whether its commands talk to Kafka: `mau doctor --role` checks only what the role uses. */
  kafka: boolean
}

const ROWS = ['SELECT', 'INSERT', 'UPDATE']
/** Every role reads the schema version, so that `mau doctor` can say whether the schema is current. */
const VERSION: Grant = {privileges: ['SELECT'], table: 'mau_schema_version'}

/** The recorded time zone (mau_setting), which every workload reads at its start (core/zone.ts). */
const ZONE: Grant = {privileges: ['SELECT'], table: 'mau_setting', since: 10}

/** The table of roles: commands, and the privileges on which tables. The first role naming a command is the one it needs. */
export const ROLES: readonly Role[] = [
  {
    name: 'consumer',
    summary: 'the long-running consumer: writes rows, counters, offsets and dead letters; no DDL',
    commands: ['consume', 'deadletter replay', 'deadletter purge'],
    grants: [
      {privileges: ROWS, table: 'mau'},
      {privileges: ['SELECT', 'INSERT'], table: 'mau_user_month'},
      {privileges: ROWS, table: 'mau_summary'},
      // SELECT ... FOR UPDATE wants UPDATE beside SELECT on MySQL 8.
      {privileges: ROWS, table: 'mau_consumer_offset'},
      {privileges: ['SELECT', 'INSERT', 'DELETE'], table: 'mau_dead_letter'},
      // Messages Kafka deleted before they were applied, recorded where the consumer finds them.
      {privileges: ['SELECT', 'INSERT'], table: 'mau_offset_loss'},
      // The retention it obeys, and the zone months are cut in (recorded by the first workload: often this one).
      {privileges: ['SELECT'], table: 'mau_setting'},
      {privileges: ['INSERT'], table: 'mau_setting', since: 10},
      // Which months were reported (late events to those are counted).
      {privileges: ['SELECT'], table: 'mau_report_delivery'},
      VERSION,
    ],
    kafka: true,
  },
  {
    name: 'server',
    summary: 'mau serve, public-facing: reads the summary counters only',
    commands: ['serve'],
    grants: [
      {privileges: ['SELECT'], table: 'mau_summary'},
      {privileges: ['SELECT'], table: 'mau_month_total'},
      ZONE,
      VERSION,
    ],
    kafka: false,
  },
  {
    name: 'reporter',
    summary: 'the monthly report: reads counters, records what it delivered',
    commands: ['report send', 'report show'],
    grants: [
      {privileges: ['SELECT'], table: 'mau_summary'},
      {privileges: ['SELECT'], table: 'mau_month_total'},
      {privileges: ROWS, table: 'mau_report_delivery'},
      {privileges: ['SELECT', 'INSERT', 'DELETE'], table: 'mau_report_figure'},
      ZONE,
      VERSION,
    ],
    kafka: false,
  },
  {
    name: 'operator',
    summary: 'schema, partitions and table-level work (DDL): migrations, rotate, rebuilds, backfill',
    commands: [
      'db migrate',
      'db timezone',
      'partitions rotate',
      'summary rebuild',
      'backfill',
      'offsets reset',
      'offsets ack-loss',
    ],
    // GRANT OPTION on this database only: `db migrate` gives each role's account the rights a release's new
    // tables need (schema/role-accounts.ts). It cannot create users, nor grant on anything outside the database.
    grants: [{privileges: ['ALL PRIVILEGES'], table: '*', grantOption: true}],
    kafka: true,
  },
  {
    name: 'auditor',
    summary: 'read-only checks: counts, parity with Druid, health, the schema and partitions',
    commands: [
      'count',
      'verify-migration',
      'doctor',
      'summary check',
      'db status',
      'partitions list',
      'deadletter list',
      'offsets list',
    ],
    grants: [{privileges: ['SELECT'], table: '*'}],
    kafka: true,
  },
]

export const role = (name: RoleName): Role => ROLES.find((r) => r.name === name)!

/** Pure: whether the role may read a table (a grant of SELECT on it, or on the whole database). */
export const mayRead = (r: Role, table: string): boolean =>
  r.grants.some(
    (g) => (g.table === '*' || g.table === table) && g.privileges.some((p) => p === 'SELECT' || p === 'ALL PRIVILEGES'),
  )

/** Pure: the role a command needs, by its oclif id ("deadletter:replay") or as typed. */
export function roleOf(commandId: string | undefined): RoleName | undefined {
  const typed = commandId?.replace(/:/g, ' ')
  return ROLES.find((r) => r.commands.includes(typed ?? ''))?.name
}
