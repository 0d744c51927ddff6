/** doctor with --source redis: Redis answers (how: TLS, login), and every stream the consumer reads exists. */
import type {TLSSocket} from 'node:tls'
import {ExitCode, type ExitCodeValue, type MauError} from '../core/errors.js'
import {connectRedis, createRedis, redisError, redisTooOld, redisVersionOf, type RedisSettings} from '../core/redis.js'
import {describeTransport, type Transport, transportOf} from '../core/tls.js'
import {streamInfo} from '../ingest/redis/io.js'

/** checks.ts's Check, which imports this file. */
interface Check {
  name: string
  ok: boolean
  detail: string
  fix?: string
  transport?: Transport
}
type Fail = (check: Omit<Check, 'ok'>, code: ExitCodeValue) => void

export async function redisChecks(
  target: {settings: RedisSettings; keys: string[]},
  checks: Check[],
  fail: Fail,
): Promise<void> {
  const s = target.settings
  const redis = createRedis(s, 'mau-doctor')
  try {
    await connectRedis(redis, s)
    const socket = (redis as unknown as {stream?: TLSSocket}).stream
    const transport: Transport = s.tls && socket ? transportOf(socket, 'identity', false) : {tls: false}
    const login = s.username ? `, AUTH as ${s.username}` : s.readPassword() ? ', AUTH' : ''
    const version = redisVersionOf(await redis.info('server'))
    const tooOld = redisTooOld(version, s)
    if (tooOld) return fail({name: 'redis', detail: tooOld.message, fix: tooOld.suggestions?.[0]}, ExitCode.CONFIG)
    checks.push({
      name: 'redis',
      ok: true,
      detail: `Redis ${version} reachable at ${s.display} (${describeTransport(transport)}${login})`,
      transport,
    })
    const missing: string[] = []
    let entries = 0
    for (const key of target.keys) {
      const info = await streamInfo(redis, key)
      if (!info.exists) missing.push(key)
      entries += info.length
    }
    // The platform creates a stream at its first entry: a few missing on a quiet installation are expected, all of them are not.
    if (target.keys.length === 0)
      fail(
        {
          name: 'streams',
          detail: 'no streams to read',
          fix: 'Set MAU_REDIS_STREAMS (or --redis-stream), e.g. evaluation,goal.',
        },
        ExitCode.CONFIG,
      )
    else if (missing.length === target.keys.length)
      fail(
        {
          name: 'streams',
          detail: `none of the ${target.keys.length} streams exists (${target.keys[0]}, ...)`,
          fix: "Check MAU_REDIS_STREAMS and MAU_REDIS_PARTITIONS against the platform's topics, and MAU_REDIS_URL (the right Redis, database).",
        },
        ExitCode.CONFIG,
      )
    else
      checks.push({
        name: 'streams',
        ok: true,
        detail: `${target.keys.length - missing.length} of ${target.keys.length} exist, ${entries} entries${missing.length > 0 ? `; not yet written: ${missing.join(', ')}` : ''}`,
      })
  } catch (error) {
    const e: MauError = redisError(error, s)
    fail({name: 'redis', detail: e.message, fix: e.suggestions?.[0]}, e.exitCode ?? ExitCode.UNAVAILABLE)
  } finally {
    redis.disconnect()
  }
}
