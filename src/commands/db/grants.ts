import {Flags} from '@oclif/core'
import {MauCommand} from '../../core/command.js'
import {configError} from '../../core/errors.js'
import * as flag from '../../core/flags.js'
import {secretFromEnv} from '../../core/secrets.js'
import {role, ROLE_NAMES, ROLES, type RoleName} from '../../core/roles.js'
import {applyGrants, grantStatements} from '../../schema/roles.js'

interface GrantsResult {
  role: RoleName
  account: {user: string; host: string}
  database: string
  applied: boolean
  statements: string[]
}

export default class DbGrants extends MauCommand<GrantsResult> {
  static override summary =
    "Print (or apply) the CREATE USER and GRANT statements that make a MySQL user exactly one of mau's roles."
  static override description = `Roles, each the least its commands need: ${ROLES.map((r) => `${r.name} (${r.commands.join(', ')})`).join('; ')}.

Without --apply the statements are printed one per line (comments start with --), to pipe into the mysql client; the account is created locked, since mau never prints a password. --apply runs them with --mysql-url's credentials (a user that may create users and grant), then sets the password from MAU_GRANTS_PASSWORD or MAU_GRANTS_PASSWORD_FILE and unlocks the account. Run it after mau db migrate: MySQL grants on tables that exist.

The account is recorded as the role's (table mau_role_account): every later mau db migrate gives it exactly the rights its role has in the version migrating, new tables included, so an upgrade needs no new grants.`
  static override examples = [
    '<%= config.bin %> db grants --role consumer --user mau_consumer | mysql -h db -u admin -p mau',
    'MAU_GRANTS_PASSWORD_FILE=/run/secrets/consumer <%= config.bin %> db grants --role consumer --user mau_consumer --apply',
  ]
  static override flags = {
    ...flag.database,
    role: Flags.option({options: ROLE_NAMES, required: true, summary: 'The role to grant.'})(),
    user: Flags.string({required: true, summary: 'The MySQL user to create or change.'}),
    host: Flags.string({default: '%', summary: "The host part of the account ('%': any)."}),
    apply: Flags.boolean({
      default: false,
      summary: 'Run the statements and set the password (MAU_GRANTS_PASSWORD or MAU_GRANTS_PASSWORD_FILE).',
    }),
  }

  async run(): Promise<GrantsResult> {
    const {flags} = await this.parse(DbGrants)
    const r = role(flags.role)
    const a = {user: flags.user, host: flags.host}
    const {database} = this.mysqlSettings(flags)
    if (!flags.apply) {
      const statements = grantStatements(r, a, database)
      if (!this.jsonEnabled()) process.stdout.write(`${statements.join('\n')}\n`)
      return {role: r.name, account: a, database, applied: false, statements}
    }
    const password = secretFromEnv('MAU_GRANTS_PASSWORD')
    if (!password)
      throw configError("--apply needs the new user's password in MAU_GRANTS_PASSWORD or MAU_GRANTS_PASSWORD_FILE.", [
        "Mount it from the workload's Secret, or print the statements without --apply.",
      ])
    const statements = await this.withDb(flags, (db) => applyGrants(db, r, a, database, password))
    this.log(`Granted role ${r.name} to '${a.user}'@'${a.host}' on ${database} (${statements.length} statements).`)
    return {role: r.name, account: a, database, applied: true, statements}
  }
}
