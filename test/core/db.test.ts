import {describe, expect, it} from 'vitest'
import {resolveMysql} from '../../src/core/settings.js'
import {format} from 'mysql2'
import {asServiceError, privilegeRefused, sqlString} from '../../src/core/db.js'
import {sslOptions} from '../../src/core/db-tls.js'

const settings = resolveMysql('mysql://mau@db:3306/mau', {MAU_MYSQL_PASSWORD: 'pw-of-mau'})

describe('asServiceError', () => {
  it('names MySQL, with exit 4 and no password, for a connection it could not make', () => {
    const e = asServiceError(
      Object.assign(new Error('connect ECONNREFUSED'), {code: 'ECONNREFUSED'}),
      settings,
    ) as Error & {exitCode: number}
    expect(e.exitCode).toBe(4)
    expect(e.message).toBe('MySQL at mysql://mau@db:3306/mau is unavailable: connect ECONNREFUSED')
  })

  it('leaves a retriable kafkajs error alone instead of blaming MySQL', () => {
    const kafka = Object.assign(new Error('Connection error'), {name: 'KafkaJSConnectionError', retriable: true})
    expect(asServiceError(kafka, settings)).toBe(kafka)
  })

  it('maps refused credentials to exit 2 and a missing table to exit 5', () => {
    expect(
      asServiceError(Object.assign(new Error('denied'), {code: 'ER_ACCESS_DENIED_ERROR'}), settings),
    ).toMatchObject({exitCode: 2})
    expect(asServiceError(Object.assign(new Error('no table'), {code: 'ER_NO_SUCH_TABLE'}), settings)).toMatchObject({
      exitCode: 5,
    })
  })
})

const server = {user: 'mau_server', database: 'mau'}
const error = (code: string, message: string) => Object.assign(new Error(message), {code})

describe('privilegeRefused', () => {
  it('names the privilege, the table and the user, as MariaDB and MySQL 8 word it, and the role the command needs', () => {
    const maria = privilegeRefused(
      error(
        'ER_TABLEACCESS_DENIED_ERROR',
        "INSERT command denied to user 'mau_server'@'10.1.2.3' for table `mau`.`mau_consumer_offset`",
      ),
      server,
      'consume',
    )
    expect(maria?.message).toBe('MySQL refused INSERT on mau_consumer_offset for mau_server.')
    expect(maria?.exitCode).toBe(2)
    expect(maria?.suggestions?.[0]).toMatch(/^mau db grants --role consumer --user mau_server/)
    const mysql8 = privilegeRefused(
      error('ER_TABLEACCESS_DENIED_ERROR', "ALTER command denied to user 'mau_server'@'%' for table 'mau'"),
      server,
      'partitions:rotate',
    )
    expect(mysql8?.message).toBe('MySQL refused ALTER on mau for mau_server.')
    expect(mysql8?.suggestions?.[0]).toMatch(/^mau db grants --role operator /)
  })

  it('reads a refused database and a refused global privilege too, and leaves other errors alone', () => {
    expect(
      privilegeRefused(error('ER_DBACCESS_DENIED_ERROR', "Access denied for user 'x'@'%' to database 'mau'"), server)
        ?.message,
    ).toBe('MySQL refused access to database mau for mau_server.')
    expect(
      privilegeRefused(
        error(
          'ER_SPECIFIC_ACCESS_DENIED_ERROR',
          'Access denied; you need (at least one of) the SUPER privilege(s) for this operation',
        ),
        server,
      )?.message,
    ).toBe('MySQL refused SUPER for mau_server.')
    expect(privilegeRefused(error('ER_DUP_ENTRY', 'Duplicate entry'), server)).toBeUndefined()
  })
})

describe('TLS failures from MySQL', () => {
  const err = (props: object, message = 'x') => Object.assign(new Error(message), props)
  it('are configuration (exit 2) and never retried: TLS required by the server, none offered, a refused certificate', () => {
    expect(asServiceError(err({code: 'ER_SECURE_TRANSPORT_REQUIRED', errno: 3159}), settings)).toMatchObject({
      exitCode: 2,
      code: 'MYSQL_TLS_REQUIRED',
    })
    expect(asServiceError(err({code: 'HANDSHAKE_NO_SSL_SUPPORT', fatal: true}), settings)).toMatchObject({
      exitCode: 2,
      code: 'MYSQL_NO_TLS',
    })
    const untrusted = asServiceError(
      err({code: 'HANDSHAKE_SSL_ERROR', fatal: true}, 'self-signed certificate in certificate chain'),
      settings,
    )
    expect(untrusted).toMatchObject({exitCode: 2, code: 'TLS_UNTRUSTED'})
    const name = asServiceError(
      err(
        {code: 'HANDSHAKE_SSL_ERROR', fatal: true, host: 'db', cert: {subjectaltname: 'DNS:mysql.internal'}},
        'Hostname/IP does not match',
      ),
      settings,
    )
    expect(name.message).toMatch(/does not hold the name "db"; it holds DNS:mysql.internal/)
  })
})

describe('sslOptions', () => {
  it('reads each ssl-mode as the mysql client does', () => {
    expect(sslOptions({mode: 'DISABLED'})).toBeUndefined()
    expect(sslOptions({mode: 'PREFERRED'})).toMatchObject({rejectUnauthorized: false, verifyIdentity: false})
    expect(sslOptions({mode: 'REQUIRED'})).toMatchObject({rejectUnauthorized: false, verifyIdentity: false})
    expect(sslOptions({mode: 'VERIFY_CA'})).toMatchObject({rejectUnauthorized: true, verifyIdentity: false})
    expect(sslOptions({mode: 'VERIFY_IDENTITY'})).toMatchObject({rejectUnauthorized: true, verifyIdentity: true})
  })
})

describe('sqlString', () => {
  it("writes every string as the driver's placeholders would, special characters and all", () => {
    const strings = [
      'alice',
      '',
      "o'brien",
      'back\\slash',
      '"quoted"',
      'nul\u0000byte',
      'tab\tnew\nline\rret',
      '\b\x1a',
      '日本語 ✓',
      '?',
      '😀',
    ]
    for (const s of strings) expect(sqlString(s)).toBe(format('?', [s]))
  })
})
