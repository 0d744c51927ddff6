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

  it("takes the user from MAU_MYSQL_USER over the URL's, and says so in the URL it prints", () => {
    const s = resolveMysql('mysql://mau@db:3306/mau', {MAU_MYSQL_USER: 'mau_consumer'})
    expect(s).toMatchObject({user: 'mau_consumer', display: 'mysql://mau_consumer@db:3306/mau'})
  })

  it('takes the password from MAU_MYSQL_PASSWORD, and MAU_MYSQL_PASSWORD_FILE over it', () => {
    const dir = mkdtempSync(join(tmpdir(), 'mau-secret-'))
    writeFileSync(join(dir, 'password'), 'from-file-pw\n')
    const url = 'mysql://mau@db:3306/mau'
    expect(resolveMysql(url, {}).password).toBeUndefined()
    expect(resolveMysql(url, {MAU_MYSQL_PASSWORD: 'from-env-pw'}).password).toBe('from-env-pw')
    expect(
      resolveMysql(url, {MAU_MYSQL_PASSWORD: 'from-env-pw', MAU_MYSQL_PASSWORD_FILE: join(dir, 'password')}).password,
    ).toBe('from-file-pw')
  })

  it('refuses a password in the URL with exit 2, naming where it belongs and never the password', () => {
    for (const url of [
      'mysql://mau:hunter22@db:3306/mau',
      'mysql://mau:p%40ss%25word@db:3306/mau',
      'mysql://:hunter22@db/mau',
    ]) {
      let error: (Error & {exitCode?: number; code?: string; suggestions?: string[]}) | undefined
      try {
        resolveMysql(url, {MAU_MYSQL_PASSWORD: 'from-env-pw'})
      } catch (e) {
        error = e as typeof error
      }
      expect(error, url).toMatchObject({exitCode: 2, code: 'PASSWORD_IN_URL'})
      expect(error!.message, url).toMatch(/^MySQL URL "mysql:\/\/[^"]*:\*\*\*@db[^"]*" holds a password/)
      expect(error!.suggestions!.join(' '), url).toMatch(/MAU_MYSQL_PASSWORD_FILE .* MAU_MYSQL_PASSWORD/)
      expect(`${error!.message} ${error!.suggestions?.join(' ')}`, url).not.toMatch(/hunter22|p@ss%word|p%40ss/)
    }
  })

  it('names the bad value when the URL is unusable', () => {
    expect(() => resolveMysql('postgres://x@db/mau', {})).toThrow(
      /Invalid MySQL URL "postgres:\/\/x@db\/mau": the scheme must be mysql/,
    )
    expect(() => resolveMysql('mysql://x@db:3306/', {})).toThrow(/names no database/)
    expect(() => resolveMysql('mysql://a@b/c', {MAU_MYSQL_PASSWORD_FILE: '/nonexistent/pw'})).toThrow(
      /MAU_MYSQL_PASSWORD_FILE points to "\/nonexistent\/pw", which cannot be read/,
    )
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

describe('resolveMysql TLS', () => {
  const dir = mkdtempSync(join(tmpdir(), 'mau-tls-settings-'))
  const ca = join(dir, 'ca.pem')
  writeFileSync(ca, '-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n')

  it('is PREFERRED by default, as the mysql client', () => {
    expect(resolveMysql('mysql://u@h/d', {}).tls.mode).toBe('PREFERRED')
  })

  it('takes ssl-mode and ssl-ca from the URL, and the flags over the URL', () => {
    const url = `mysql://u@h/d?ssl-mode=verify_ca&ssl-ca=${ca}`
    expect(resolveMysql(url, {}).tls).toMatchObject({mode: 'VERIFY_CA', caFile: ca})
    expect(resolveMysql(url, {}, {'mysql-ssl-mode': 'VERIFY_IDENTITY'}).tls.mode).toBe('VERIFY_IDENTITY')
  })

  it('refuses a mode it does not know, a verifying mode without a CA, half a client certificate, an unknown parameter', () => {
    expect(() => resolveMysql('mysql://u@h/d?ssl-mode=STRICT', {})).toThrow(
      /ssl-mode "STRICT": expected one of DISABLED, PREFERRED/,
    )
    expect(() => resolveMysql('mysql://u@h/d', {}, {'mysql-ssl-mode': 'VERIFY_IDENTITY'})).toThrow(
      /needs the CA .*MAU_MYSQL_SSL_CA/,
    )
    expect(() => resolveMysql('mysql://u@h/d', {}, {'mysql-ssl-cert': ca})).toThrow(
      /both MAU_MYSQL_SSL_CERT and MAU_MYSQL_SSL_KEY/,
    )
    expect(() => resolveMysql('mysql://u@h/d?sslmode=require', {})).toThrow(
      /parameter "sslmode": expected only ssl-mode/,
    )
  })

  it('names a CA file that cannot be read or holds no PEM', () => {
    expect(() =>
      resolveMysql('mysql://u@h/d', {}, {'mysql-ssl-mode': 'VERIFY_CA', 'mysql-ssl-ca': join(dir, 'missing.pem')}),
    ).toThrow(/MAU_MYSQL_SSL_CA points to ".*missing.pem", which cannot be read \(ENOENT\)/)
    const notPem = join(dir, 'not.pem')
    writeFileSync(notPem, 'hello')
    expect(() => resolveMysql('mysql://u@h/d', {}, {'mysql-ssl-mode': 'VERIFY_CA', 'mysql-ssl-ca': notPem})).toThrow(
      /holds no PEM block/,
    )
  })

  it('reads the password file again each time it is asked', () => {
    const file = join(dir, 'password')
    writeFileSync(file, 'first-secret\n')
    const s = resolveMysql('mysql://u@h/d', {MAU_MYSQL_PASSWORD_FILE: file})
    writeFileSync(file, 'second-secret\n')
    expect([s.password, s.readPassword()]).toEqual(['first-secret', 'second-secret'])
  })
})
