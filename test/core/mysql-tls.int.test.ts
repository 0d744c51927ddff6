/**
 * mau against a MySQL that requires TLS (a MariaDB with require_secure_transport and a user that REQUIREs SSL,
 * test/helpers/secure-services.ts): migrate, consume, count, serve and doctor over verified TLS; each mismatch
 * exits 2 at once, naming it; a rotated password file is read at the next connection.
 */
import {mkdtempSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {afterAll, beforeAll, describe, expect, it} from 'vitest'
import {openDb} from '../../src/core/db.js'
import {resolveMysql} from '../../src/core/settings.js'
import {mau, mauAsync} from '../helpers/cli.js'
import {cert, startTlsMariadb, stopTlsMariadb} from '../helpers/secure-services.js'
import {produceSample} from '../fixtures/mau.js'
import {createTopic, MYSQL_ROOT_URL} from '../fixtures/services.js'
import {startServe} from '../fixtures/serve.js'

const PASSWORD = 'mau-tls-password-1'
const dir = mkdtempSync(join(tmpdir(), 'mau-mysql-tls-'))
const passwordFile = join(dir, 'password')
let server: ReturnType<typeof startTlsMariadb>
let verified: Record<string, string>

beforeAll(() => {
  server = startTlsMariadb(PASSWORD)
  writeFileSync(passwordFile, `${PASSWORD}\n`)
  verified = {
    MAU_MYSQL_URL: server.url(),
    MAU_MYSQL_PASSWORD_FILE: passwordFile,
    MAU_MYSQL_SSL_MODE: 'VERIFY_IDENTITY',
    MAU_MYSQL_SSL_CA: cert('ca.pem'),
  }
  const migrated = mau(['db', 'migrate', '--json'], verified)
  expect(migrated.code, migrated.stderr + migrated.stdout).toBe(0)
  // The suite's events are of December 2022: keep them, as the other tests do (test/fixtures/services.ts).
  server.sql("UPDATE mau.mau_setting SET value = '120' WHERE name = 'retain_months'")
})

afterAll(() => stopTlsMariadb())

describe('mau over verified TLS to MySQL', () => {
  it('consumes exactly, then counts, serves and reports the transport in doctor', async () => {
    const topic = await createTopic(2)
    try {
      const truth = await produceSample(topic.topic, 2, {events: 4000})
      const consumed = await mauAsync(
        ['consume', '--stop-at-end', '--json', '--topic', topic.topic, '--group', `${topic.topic}-g`],
        verified,
      )
      expect(consumed.code, consumed.stderr).toBe(0)
      const counted = mau(['count', '--month', '202212', '--json'], verified)
      expect(counted.code, counted.stderr).toBe(0)
      expect(JSON.parse(counted.stdout).total.events).toBe(truth.events)
      const doctor = mau(['doctor', '--json', '--topic', topic.topic], verified)
      const mysql = JSON.parse(doctor.stdout).checks.find((c: {name: string}) => c.name === 'mysql')
      expect(mysql.transport).toMatchObject({
        tls: true,
        version: expect.stringMatching(/^TLSv1\.[23]$/),
        verified: 'identity',
      })
      expect(mysql.detail).toMatch(/TLSv1\.[23] \S+, identity verified/)
    } finally {
      await topic.drop()
    }
  })

  it('serves the counts of a TLS-only MySQL', async () => {
    const token = 'a-serve-token-of-32-characters!!'
    const serve = await startServe({...verified, MAU_SERVE_TOKEN: token})
    try {
      const r = await serve.http('/v1/mau?month=202212', {headers: {Authorization: `Bearer ${token}`}})
      expect(r.status).toBe(200)
      expect((await r.json()).total.events).toBeGreaterThan(0)
    } finally {
      await serve.stop()
    }
  })
})

describe('a TLS mismatch with MySQL', () => {
  const cases: [string, Record<string, string>, RegExp, string][] = [
    [
      'a CA that did not sign the server',
      {MAU_MYSQL_SSL_CA: cert('other-ca.pem'), MAU_MYSQL_SSL_MODE: 'VERIFY_CA'},
      /not signed by the CA in .*other-ca\.pem/,
      'TLS_UNTRUSTED',
    ],
    [
      'a name the certificate does not hold',
      {MAU_MYSQL_URL: 'mysql://mau@127.0.0.1:13307/mau'},
      /does not hold the name "127\.0\.0\.1"; it holds DNS:localhost/,
      'TLS_NAME_MISMATCH',
    ],
    [
      'TLS required where the server offers none',
      {
        MAU_MYSQL_SSL_MODE: 'REQUIRED',
        MAU_MYSQL_SSL_CA: '',
        MAU_MYSQL_URL: MYSQL_ROOT_URL,
        MAU_MYSQL_PASSWORD_FILE: '',
      },
      /offers no TLS, but ssl-mode is REQUIRED/,
      'MYSQL_NO_TLS',
    ],
  ]
  it.each(cases)('exits 2 at once on %s, naming it, with no password in the output', (_case, env, message, code) => {
    const started = Date.now()
    const r = mau(['count', '--month', '202212', '--json'], {...verified, ...env})
    expect(r.code, r.stderr + r.stdout).toBe(2)
    const error = JSON.parse(r.stdout).error
    expect(error.code).toBe(code)
    expect(error.message).toMatch(message)
    expect(Date.now() - started).toBeLessThan(8000)
    expect(r.stdout + r.stderr).not.toContain(PASSWORD)
  })

  it('exits 2 at once with TLS off where the server requires it, the suggestion naming the ssl-mode', () => {
    // MariaDB refuses such a login as "access denied" (MySQL 8 has its own error, 3159: unit-tested in test/core/db.test.ts).
    const r = mau(['count', '--month', '202212', '--json'], {
      MAU_MYSQL_SSL_MODE: 'DISABLED',
      MAU_MYSQL_URL: 'mysql://root@127.0.0.1:13307/mau',
    })
    expect(r.code, r.stderr + r.stdout).toBe(2)
    expect(JSON.parse(r.stdout).error.suggestions.join(' ')).toMatch(/REQUIREs SSL .*MAU_MYSQL_SSL_MODE is DISABLED/)
  })

  it('PREFERRED uses TLS where the server offers it and plaintext where it does not', () => {
    const tls = JSON.parse(mau(['doctor', '--json'], {...verified, MAU_MYSQL_SSL_MODE: 'PREFERRED'}).stdout)
    expect(tls.checks.find((c: {name: string}) => c.name === 'mysql').transport).toMatchObject({
      tls: true,
      verified: 'no',
    })
    const plain = JSON.parse(mau(['doctor', '--json'], {MAU_MYSQL_URL: MYSQL_ROOT_URL}).stdout)
    expect(plain.checks.find((c: {name: string}) => c.name === 'mysql').transport).toEqual({tls: false})
  })
})

describe('a rotated MySQL password', () => {
  it('is read from its file again at each new connection of a running pool', async () => {
    const file = join(dir, 'rotating')
    writeFileSync(file, PASSWORD)
    const pool = openDb(
      resolveMysql(
        server.url(),
        {MAU_MYSQL_PASSWORD_FILE: file},
        {'mysql-ssl-mode': 'VERIFY_IDENTITY', 'mysql-ssl-ca': cert('ca.pem')},
      ),
      {connectionLimit: 3},
    )
    try {
      const first = await pool.getConnection()
      server.sql("ALTER USER 'mau'@'%' IDENTIFIED BY 'mau-tls-password-2'")
      writeFileSync(file, 'mau-tls-password-2\n')
      // The first connection is held, so this one is new: it must log in with the new password.
      const second = await pool.getConnection()
      const [rows] = await second.query('SELECT CURRENT_USER() AS who')
      expect(rows).toEqual([{who: 'mau@%'}])
      first.release()
      second.release()
    } finally {
      await pool.end()
      server.sql(`ALTER USER 'mau'@'%' IDENTIFIED BY '${PASSWORD}'`)
    }
  })
})
