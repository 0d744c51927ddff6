import {describe, expect, it} from 'vitest'
import {ExitCode, MauError} from '../../src/core/errors.js'
import {Limiter, Refusal, refusalHeaders, requireMonth, toRefusal, tokenMatches, within} from '../../src/serve/guard.js'

describe('tokenMatches', () => {
  it('lets anything through without a token, and only the exact bearer token with one', () => {
    expect(tokenMatches(undefined, undefined)).toBe(true)
    expect(tokenMatches('s3cret-token-0123', 'Bearer s3cret-token-0123')).toBe(true)
    expect(tokenMatches('s3cret-token-0123', 'bearer s3cret-token-0123')).toBe(true)
    for (const sent of [
      undefined,
      '',
      'Bearer ',
      's3cret-token-0123',
      'Bearer s3cret-token-012',
      'Bearer s3cret-token-01234',
      'Basic s3cret-token-0123',
    ]) {
      expect(tokenMatches('s3cret-token-0123', sent)).toBe(false)
    }
  })
})

describe('requireMonth', () => {
  it('takes YYYYMM, and names the field and the expected form otherwise', () => {
    expect(requireMonth('year_month', '202212')).toBe('202212')
    expect(() => requireMonth('year_month', '')).toThrow('year_month is required: expected YYYYMM, such as 202212.')
    expect(() => requireMonth('year_month', '2022-12')).toThrow(
      'year_month "2022-12" is invalid: expected YYYYMM, such as 202212.',
    )
    expect(() => requireMonth('from', '202200')).toThrow(/^from "202200" is invalid/)
  })
})

describe('toRefusal', () => {
  it('keeps a refusal, says UNAVAILABLE for a service that cannot be reached, and hides anything else', () => {
    const refusal = new Refusal('NOT_FOUND', 'NO_EVENTS', 'none')
    expect(toRefusal(refusal)).toBe(refusal)
    expect(
      toRefusal(
        new MauError('MySQL at mau@db-host:3306/mau is unavailable: ECONNREFUSED', {
          exit: ExitCode.UNAVAILABLE,
          code: 'MYSQL_UNAVAILABLE',
        }),
      ),
    ).toMatchObject({problem: 'UNAVAILABLE', code: 'MYSQL_UNAVAILABLE', message: 'MySQL unavailable: retry shortly.'})
    expect(
      toRefusal(new MauError('The mau schema is missing', {exit: ExitCode.SCHEMA, code: 'SCHEMA_MISSING'})),
    ).toMatchObject({problem: 'FAILED_PRECONDITION', code: 'SCHEMA_MISSING'})
    const internal = toRefusal(
      new TypeError("Cannot read properties of undefined (reading 'users') at /app/dist/x.js:3"),
    )
    expect(internal).toMatchObject({problem: 'INTERNAL', message: 'internal error; see the server log'})
  })
})

describe('Limiter and within', () => {
  it('refuses a request beyond the limit at once, and frees its place when one ends', async () => {
    const limiter = new Limiter(1)
    let release = () => {}
    const first = limiter.run(() => new Promise<void>((r) => (release = r)))
    await expect(limiter.run(async () => 'second')).rejects.toMatchObject({problem: 'RESOURCE_EXHAUSTED'})
    expect(limiter.inFlight).toBe(1)
    release()
    await first
    await expect(limiter.run(async () => 'third')).resolves.toBe('third')
  })

  it('answers DEADLINE_EXCEEDED for work past its time, and the result otherwise', async () => {
    await expect(within(0.05, () => new Promise((r) => setTimeout(r, 500)))).rejects.toMatchObject({
      problem: 'DEADLINE_EXCEEDED',
      message: 'the request took longer than 0.05 s',
    })
    await expect(within(1, async () => 42)).resolves.toBe(42)
  })
})

describe('refusalHeaders', () => {
  it('says how to authenticate, when to retry, and closes a connection whose body was refused', () => {
    expect(refusalHeaders(401)).toEqual({'WWW-Authenticate': 'Bearer'})
    expect(refusalHeaders(429)).toEqual({'Retry-After': '1'})
    expect(refusalHeaders(413)).toEqual({Connection: 'close'})
    expect(refusalHeaders(400)).toEqual({})
  })
})
