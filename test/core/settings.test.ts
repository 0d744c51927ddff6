import {mkdtempSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {describe, expect, it} from 'vitest'
import {applyRenamedEnv, listOf, resolveMysql, splitList} from '../../src/core/settings.js'

describe('resolveMysql', () => {
  it('reads host, port, user and database from the URL', () => {
    const s = resolveMysql('mysql://mau@db.internal:3307/mau_prod', {})
    expect(s).toMatchObject({host: 'db.internal', port: 3307, user: 'mau', database: 'mau_prod', password: undefined})
  })

  it('takes the user from MAU_MYSQL_USER over the URL\'s, and says so in the URL it prints', () => {
    const s = resolveMysql('mysql://mau:pw@db:3306/mau', {MAU_MYSQL_USER: 'mau_consumer'})
    expect(s).toMatchObject({user: 'mau_consumer', display: 'mysql://mau_consumer@db:3306/mau'})
  })

  it('takes the password from the URL, then MAU_MYSQL_PASSWORD, then MAU_MYSQL_PASSWORD_FILE', () => {
    const dir = mkdtempSync(join(tmpdir(), 'mau-secret-'))
    writeFileSync(join(dir, 'password'), 'from-file-pw\n')
    const url = 'mysql://mau:from-url-pw@db:3306/mau'
    expect(resolveMysql(url, {}).password).toBe('from-url-pw')
    expect(resolveMysql(url, {MAU_MYSQL_PASSWORD: 'from-env-pw'}).password).toBe('from-env-pw')
    expect(resolveMysql(url, {MAU_MYSQL_PASSWORD: 'from-env-pw', MAU_MYSQL_PASSWORD_FILE: join(dir, 'password')}).password).toBe('from-file-pw')
  })

  it('never shows the password in its display form', () => {
    const s = resolveMysql('mysql://mau:hunter22@db:3306/mau', {})
    expect(s.display).toBe('mysql://mau:***@db:3306/mau')
  })

  it('names the bad value when the URL is unusable', () => {
    expect(() => resolveMysql('postgres://x@db/mau', {})).toThrow(/Invalid MySQL URL "postgres:\/\/x@db\/mau": the scheme must be mysql/)
    expect(() => resolveMysql('mysql://x@db:3306/', {})).toThrow(/names no database/)
    expect(() => resolveMysql('mysql://a@b/c', {MAU_MYSQL_PASSWORD_FILE: '/nonexistent/pw'})).toThrow(/MAU_MYSQL_PASSWORD_FILE points to "\/nonexistent\/pw", which cannot be read/)
  })
})

describe('splitList', () => {
  it('splits comma lists and drops blanks', () => {
    expect(splitList('a:1, b:2,,')).toEqual(['a:1', 'b:2'])
  })
})

describe('listOf', () => {
  it('reads a repeatable flag given as flags or as one comma-separated env var', () => {
    expect(listOf(['a', 'b,c'])).toEqual(['a', 'b', 'c'])
    expect(listOf('a, b')).toEqual(['a', 'b'])
    expect(listOf(undefined)).toEqual([])
  })
})

describe('applyRenamedEnv', () => {
  it('reads a renamed variable under its new name, converting milliseconds to seconds', () => {
    const env: NodeJS.ProcessEnv = {MAU_FROM_TIME: '2022-12-01', MAU_KAFKA_SESSION_TIMEOUT_MS: '45000'}
    applyRenamedEnv(env)
    expect(env).toMatchObject({MAU_CONSUME_SINCE: '2022-12-01', MAU_KAFKA_SESSION_TIMEOUT_SECONDS: '45'})
  })

  it('lets the new name win when both are set', () => {
    const env: NodeJS.ProcessEnv = {MAU_KAFKA_SESSION_TIMEOUT_MS: '45000', MAU_KAFKA_SESSION_TIMEOUT_SECONDS: '10'}
    applyRenamedEnv(env)
    expect(env.MAU_KAFKA_SESSION_TIMEOUT_SECONDS).toBe('10')
  })
})
