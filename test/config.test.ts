import {mkdtempSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {describe, expect, it} from 'vitest'
import {listOf, redact, registerSecret, resolveDruid, resolveMysql, splitList} from '../src/config.js'

describe('resolveMysql', () => {
  it('reads host, port, user and database from the URL', () => {
    const s = resolveMysql('mysql://mau@db.internal:3307/mau_prod', {})
    expect(s).toMatchObject({host: 'db.internal', port: 3307, user: 'mau', database: 'mau_prod', password: undefined})
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

describe('redact', () => {
  it('hides URL passwords and registered secrets anywhere in a text', () => {
    registerSecret('webhook-signing-key')
    expect(redact('failed mysql://u:pw@h/db and key webhook-signing-key')).toBe('failed mysql://u:***@h/db and key ***')
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

describe('resolveDruid', () => {
  const flags = {
    'druid-url': 'https://druid:9088', 'druid-insecure': false, 'druid-timeout': 30, 'druid-datasource': 'events',
    'druid-user-column': 'uid', 'druid-namespace-column': 'ns', 'druid-source-column': 'src',
  }

  it('reads the password from MAU_DRUID_PASSWORD_FILE and the CA bundle, and registers the password for redaction', () => {
    const dir = mkdtempSync(join(tmpdir(), 'mau-druid-'))
    writeFileSync(join(dir, 'password'), 'druid-pw-123\n')
    writeFileSync(join(dir, 'ca.pem'), '-----BEGIN CERTIFICATE-----\n')
    const r = resolveDruid({...flags, 'druid-user': 'mau', 'druid-ca-file': join(dir, 'ca.pem')}, {MAU_DRUID_PASSWORD_FILE: join(dir, 'password')})
    expect(r.client).toEqual({url: 'https://druid:9088', user: 'mau', password: 'druid-pw-123', ca: '-----BEGIN CERTIFICATE-----\n', insecure: false, timeoutMs: 30_000})
    expect(r.schema).toEqual({datasource: 'events', userColumn: 'uid', namespaceColumn: 'ns', sourceColumn: 'src', eventsColumn: undefined})
    expect(redact('login failed for druid-pw-123')).toBe('login failed for ***')
  })
})
