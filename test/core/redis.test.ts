import {mkdtempSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {describe, expect, it} from 'vitest'
import {redisError, redisTooOld, redisVersionOf, resolveRedis} from '../../src/core/redis.js'
import {redact} from '../../src/core/secrets.js'

describe('the Redis settings', () => {
  it('reads host, port, database and TLS from redis:// and rediss://', () => {
    expect(resolveRedis({'redis-url': 'redis://redis.internal:6380/2'}, {})).toMatchObject({
      host: 'redis.internal',
      port: 6380,
      db: 2,
      tls: false,
      display: 'redis://redis.internal:6380',
    })
    expect(resolveRedis({'redis-url': 'rediss://redis.internal'}, {})).toMatchObject({port: 6379, db: 0, tls: true})
  })
  it('refuses a password in the URL (exit 2) without printing it', () => {
    let error: unknown
    try {
      resolveRedis({'redis-url': 'redis://mau:hunter22@redis:6379'}, {})
    } catch (e) {
      error = e
    }
    expect(error).toMatchObject({code: 'PASSWORD_IN_URL', exitCode: 2})
    expect((error as Error).message).not.toContain('hunter22')
    expect(redact('hunter22')).toBe('***')
  })
  it('refuses another scheme, a path that is not a database, and a CA without TLS', () => {
    expect(() => resolveRedis({'redis-url': 'http://redis:6379'}, {})).toThrow(/redis:\/\/ or rediss:\/\//)
    expect(() => resolveRedis({'redis-url': 'redis://redis:6379/streams'}, {})).toThrow(/database number/)
    expect(() => resolveRedis({'redis-url': 'redis://redis:6379', 'redis-tls-ca-file': '/etc/ca.pem'}, {})).toThrow(
      /not rediss/,
    )
  })
  it('reads the password file again at every connection, so a rotated Secret applies without a restart', () => {
    const file = join(mkdtempSync(join(tmpdir(), 'mau-redis-')), 'password')
    writeFileSync(file, 'first-secret\n')
    const s = resolveRedis(
      {'redis-url': 'redis://redis:6379', 'redis-username': 'mau'},
      {MAU_REDIS_PASSWORD_FILE: file},
    )
    expect(s.readPassword()).toBe('first-secret')
    writeFileSync(file, 'second-secret\n')
    expect(s.readPassword()).toBe('second-secret')
    expect(s).toMatchObject({username: 'mau', display: 'redis://mau@redis:6379'})
  })
  it('tells a refused login (exit 2) from an outage (exit 4)', () => {
    const s = resolveRedis({'redis-url': 'redis://redis:6379'}, {})
    expect(redisError(new Error('WRONGPASS invalid username-password pair or user is disabled.'), s)).toMatchObject({
      code: 'REDIS_AUTH_REFUSED',
      exitCode: 2,
    })
    expect(
      redisError(Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:6379'), {code: 'ECONNREFUSED'}), s),
    ).toMatchObject({code: 'REDIS_UNAVAILABLE', exitCode: 4})
  })
})

describe('the Redis version', () => {
  const info = (version: string) =>
    `# Server\r\nredis_version:${version}\r\nredis_git_sha1:00000000\r\nredis_mode:standalone\r\n`
  it('reads redis_version from INFO server', () => {
    expect(redisVersionOf(info('7.0.15'))).toBe('7.0.15')
    expect(redisVersionOf('# Server\r\nredis_mode:standalone\r\n')).toBe('')
  })
  it('takes Redis 7 and later, and refuses an older one (exit 2) naming its version and the one needed', () => {
    const s = {display: 'redis://redis:6379'}
    expect(redisTooOld('7.0.0', s)).toBeUndefined()
    expect(redisTooOld('7.2.4', s)).toBeUndefined()
    expect(redisTooOld('10.0.1', s)).toBeUndefined()
    expect(redisTooOld('6.2.14', s)).toMatchObject({
      code: 'REDIS_TOO_OLD',
      exitCode: 2,
      message: expect.stringMatching(/^Redis at redis:\/\/redis:6379 is version 6\.2\.14; mau needs Redis 7 or later/),
    })
    expect(redisTooOld('', s)).toMatchObject({
      code: 'REDIS_TOO_OLD',
      message: expect.stringContaining('version unknown'),
    })
  })
})
