import {mkdtempSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {afterAll, beforeAll, describe, expect, it} from 'vitest'
import {mau} from '../../helpers/cli.js'
import {createTestDatabase, MIGRATION_VERSIONS, type TestDatabase} from '../../fixtures/services.js'

let db: TestDatabase
beforeAll(async () => {
  db = await createTestDatabase()
})
afterAll(async () => {
  await db.drop()
})

describe('mau db migrate', () => {
  it('prints the applied versions as JSON, then applies nothing on a second run', () => {
    const first = mau(['db', 'migrate', '--json'], {MAU_MYSQL_URL: db.url})
    expect(first.code).toBe(0)
    expect(JSON.parse(first.stdout).applied.map((m: {version: number}) => m.version)).toEqual(MIGRATION_VERSIONS)
    const second = mau(['db', 'migrate', '--json'], {MAU_MYSQL_URL: db.url})
    expect(JSON.parse(second.stdout).applied).toEqual([])
  })

  it('lets a flag win over its environment variable', () => {
    const fromEnv = mau(['db', 'migrate', '--json'], {MAU_MYSQL_URL: db.url, MAU_TIMEZONE: 'Mars/Olympus'})
    expect(fromEnv.code).toBe(2)
    expect(fromEnv.stdout).toContain('Unknown time zone \\"Mars/Olympus\\"')
    const flagWins = mau(['db', 'migrate', '--json', '--timezone', 'Asia/Tokyo'], {
      MAU_MYSQL_URL: db.url,
      MAU_TIMEZONE: 'Mars/Olympus',
    })
    expect(flagWins.code).toBe(0)
  })

  it('exits 2 on refused credentials without printing the password', () => {
    const viaEnv = mau(['db', 'status', '--json'], {MAU_MYSQL_URL: db.url, MAU_MYSQL_PASSWORD: 'An0therSecretPw'})
    expect(viaEnv.code).toBe(2)
    expect(JSON.parse(viaEnv.stdout).error.code).toBe('MYSQL_ACCESS_DENIED')
    expect(viaEnv.stdout + viaEnv.stderr).not.toContain('An0therSecretPw')
    const human = mau(['db', 'status'], {MAU_MYSQL_URL: db.url, MAU_MYSQL_PASSWORD: 'An0therSecretPw'})
    expect(human.code).toBe(2)
    expect(human.stdout + human.stderr).not.toContain('An0therSecretPw')
  })

  it('exits 2 naming a database that does not exist: it creates the tables, not the database', () => {
    const missing = `${db.settings.database}_absent`
    const r = mau(['db', 'migrate', '--json'], {MAU_MYSQL_URL: db.url.replace(/\/[^/]+$/, `/${missing}`)})
    expect(r.code).toBe(2)
    const error = JSON.parse(r.stdout).error
    expect(error.code).toBe('MYSQL_NO_DATABASE')
    expect(error.suggestions.join(' ')).toContain(`CREATE DATABASE \`${missing}\``)
  })

  it('refuses a password in --mysql-url or MAU_MYSQL_URL (exit 2, naming MAU_MYSQL_PASSWORD_FILE) before connecting, without printing it', () => {
    const url = db.url.replace('root@', 'root:Sup3rSecretPw@')
    const r = mau(['db', 'migrate', '--json'], {MAU_MYSQL_URL: url})
    expect(r.code).toBe(2)
    const error = JSON.parse(r.stdout).error
    expect(error.code).toBe('PASSWORD_IN_URL')
    expect(error.suggestions.join(' ')).toContain('MAU_MYSQL_PASSWORD_FILE')
    const flag = mau(['db', 'status', '--mysql-url', url])
    expect(flag.code).toBe(2)
    expect(flag.stderr).toContain('Code: PASSWORD_IN_URL')
    expect(r.stdout + r.stderr + flag.stdout + flag.stderr).not.toContain('Sup3rSecretPw')
  })

  it('exits 2 when the migrations folder holds no migration, rather than calling the schema current', () => {
    const empty = mkdtempSync(join(tmpdir(), 'mau-no-migrations-'))
    const r = mau(['db', 'migrate', '--json', '--migrations-dir', empty], {MAU_MYSQL_URL: db.url})
    expect(r.code).toBe(2)
    expect(JSON.parse(r.stdout).error).toMatchObject({
      code: 'NO_MIGRATIONS',
      message: `No migration files in ${empty}: expected the NNN.do.name.sql files shipped with mau.`,
    })
  })

  it('exits 4 when MySQL cannot be reached', () => {
    const r = mau(['db', 'status', '--json', '--mysql-url', 'mysql://root@127.0.0.1:1/test'])
    expect(r.code).toBe(4)
    expect(JSON.parse(r.stdout).error.message).toMatch(/MySQL at mysql:\/\/root@127.0.0.1:1\/test is unavailable/)
  })
})

describe('mau --help', () => {
  it('lists the command topics', () => {
    const r = mau(['--help'])
    expect(r.code).toBe(0)
    expect(r.stdout).toMatch(/db\s+Apply and inspect the schema/)
  })
})
