import {execFileSync} from 'node:child_process'
import {mkdtempSync, readFileSync} from 'node:fs'
import {createServer} from 'node:http'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {afterEach, beforeEach, describe, expect, it} from 'vitest'
import {DruidClient, bigint, describeDruidError, varchar} from '../../src/druid/client.js'
import {druidStandin} from '../helpers/druid-standin.js'

const events = [
  {__time: Date.UTC(2022, 11, 1), environment_namespace: 'prod', user_id: 'alice', source_id: 'IOS'},
  {__time: Date.UTC(2022, 11, 2), environment_namespace: 'prod', user_id: 'bob', source_id: '1'},
  {__time: Date.UTC(2022, 11, 3), environment_namespace: 'dev', user_id: 'alice', source_id: 'WEB'},
]
let standin: Awaited<ReturnType<typeof druidStandin>>
const client = (o: Partial<ConstructorParameters<typeof DruidClient>[0]> = {}) =>
  new DruidClient({url: standin.url, timeoutMs: 5_000, ...o})
const failure = (p: Promise<unknown>) =>
  p.then(
    () => expect.fail('expected the query to fail'),
    (e: Error & {exitCode: number; code: string}) => e,
  )

beforeEach(async () => {
  standin = await druidStandin({user_events: events})
})
afterEach(() => standin.close())

describe('DruidClient.query', () => {
  it('sends the query with typed parameters, a query id and its timeout in the context', async () => {
    const rows = await client().query(
      'SELECT COUNT(*) AS n FROM user_events WHERE environment_namespace = ? AND __time >= MILLIS_TO_TIMESTAMP(?)',
      [varchar('prod'), bigint(Date.UTC(2022, 11, 2))],
      {useApproximateCountDistinct: false},
    )
    expect(rows).toEqual([{n: 1}])
    const sent = standin.queries[0]!
    expect(sent.parameters).toEqual([
      {type: 'VARCHAR', value: 'prod'},
      {type: 'BIGINT', value: Date.UTC(2022, 11, 2)},
    ])
    expect(sent.resultFormat).toBe('object')
    expect(sent.context).toMatchObject({useApproximateCountDistinct: false, timeout: 5_000})
    expect(String(sent.context.sqlQueryId)).toMatch(/^mau-[0-9a-f-]{36}$/)
  })

  it('sends basic auth and never shows the password', async () => {
    standin.behaviour.credentials = {user: 'mau', password: 's3cret-pw'}
    expect(await client({user: 'mau', password: 's3cret-pw'}).query('SELECT COUNT(*) AS n FROM user_events')).toEqual([
      {n: 3},
    ])
    const refused = await failure(
      client({url: standin.url.replace('//', '//mau:s3cret-pw@'), user: 'mau', password: 'wrong-pw'}).query(
        'SELECT 1 AS x FROM user_events',
      ),
    )
    expect(refused).toMatchObject({exitCode: 2, code: 'DRUID_AUTH'})
    expect(refused.message).toMatch(/refused the request \(HTTP 401: HTTP ERROR 401 Unauthorized\)/)
    expect(refused.message).not.toMatch(/s3cret-pw|wrong-pw/)
  })

  it('turns the druidException error shape into a message with category and code, exit 2', async () => {
    const e = await failure(client().query('SELECT nope FROM user_events'))
    expect(e).toMatchObject({exitCode: 2, code: 'DRUID_QUERY_REJECTED'})
    expect(e.message).toMatch(
      /HTTP 400, INVALID_INPUT\/invalidInput \(for user\): Column 'nope' not found in any table/,
    )
  })

  it('turns the legacy error shape into a message with its class', async () => {
    standin.behaviour.legacyErrors = true
    const e = await failure(client().query('SELECT COUNT(*) FROM missing_table'))
    expect(e.message).toMatch(
      /HTTP 400, Plan validation failed \(org\.apache\.calcite\.tools\.ValidationException\): Object 'missing_table' not found/,
    )
  })

  it('gives up after the timeout, cancels the query on the server, exit 4', async () => {
    standin.behaviour.delayMs = 3_000
    const started = Date.now()
    const e = await failure(client({timeoutMs: 300}).query('SELECT COUNT(*) FROM user_events'))
    expect(Date.now() - started).toBeLessThan(2_500)
    expect(e).toMatchObject({exitCode: 4, code: 'DRUID_TIMEOUT'})
    expect(e.message).toMatch(/did not answer within 0\.3 s \(query mau-[0-9a-f-]+\); the query was cancelled/)
    await expect.poll(() => standin.cancelled).toEqual([e.message.match(/query (mau-[0-9a-f-]+)/)![1]])
  })

  it("reports Druid's own timeout (HTTP 504) as unavailable, exit 4", async () => {
    standin.behaviour.failNext = {
      status: 504,
      body: JSON.stringify({
        error: 'druidException',
        errorCode: 'legacyQueryException',
        persona: 'OPERATOR',
        category: 'TIMEOUT',
        errorMessage: 'Query [q1] timed out.',
      }),
    }
    const e = await failure(client().query('SELECT COUNT(*) FROM user_events'))
    expect(e).toMatchObject({exitCode: 4, code: 'DRUID_TIMEOUT'})
    expect(e.message).toMatch(/HTTP 504, TIMEOUT\/legacyQueryException \(for operator\): Query \[q1\] timed out/)
  })

  it("quotes a body that is not Druid's, such as a proxy's error page", async () => {
    standin.behaviour.failNext = {status: 502, body: '<html><body>Bad Gateway</body></html>'}
    const e = await failure(client().query('SELECT COUNT(*) FROM user_events'))
    expect(e).toMatchObject({exitCode: 4, code: 'DRUID_FAILED'})
    expect(e.message).toMatch(/HTTP 502: Bad Gateway\)/)
  })

  it('names the URL when nothing listens there, exit 4', async () => {
    const server = createServer()
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r))
    const port = (server.address() as {port: number}).port
    await new Promise<void>((r) => server.close(() => r()))
    const e = await failure(new DruidClient({url: `http://127.0.0.1:${port}`, timeoutMs: 2_000}).query('SELECT 1'))
    expect(e).toMatchObject({exitCode: 4, code: 'DRUID_UNAVAILABLE'})
    expect(e.message).toContain(`Druid at http://127.0.0.1:${port} is unavailable: connect ECONNREFUSED`)
  })
})

describe('DruidClient over https', () => {
  it('trusts the CA it is given, and refuses an untrusted certificate with exit 2 unless told to skip verification', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'mau-tls-'))
    execFileSync(
      'openssl',
      [
        'req',
        '-x509',
        '-newkey',
        'rsa:2048',
        '-nodes',
        '-days',
        '1',
        '-subj',
        '/CN=127.0.0.1',
        '-addext',
        'subjectAltName=IP:127.0.0.1',
        '-keyout',
        join(dir, 'key.pem'),
        '-out',
        join(dir, 'cert.pem'),
      ],
      {stdio: 'ignore'},
    )
    const cert = readFileSync(join(dir, 'cert.pem'), 'utf8')
    const tls = await druidStandin({user_events: events}, {}, {key: readFileSync(join(dir, 'key.pem'), 'utf8'), cert})
    try {
      expect(tls.url).toMatch(/^https:/)
      expect(
        await new DruidClient({url: tls.url, timeoutMs: 5_000, ca: cert}).query(
          'SELECT COUNT(*) AS n FROM user_events',
        ),
      ).toEqual([{n: 3}])
      expect(
        await new DruidClient({url: tls.url, timeoutMs: 5_000, insecure: true}).query(
          'SELECT COUNT(*) AS n FROM user_events',
        ),
      ).toEqual([{n: 3}])
      const e = await failure(
        new DruidClient({url: tls.url, timeoutMs: 5_000}).query('SELECT COUNT(*) AS n FROM user_events'),
      )
      expect(e).toMatchObject({exitCode: 2, code: 'DRUID_TLS'})
      expect(e.message).toMatch(/presented a certificate that is not trusted \(DEPTH_ZERO_SELF_SIGNED_CERT\)/)
    } finally {
      await tls.close()
    }
  })
})

describe('describeDruidError', () => {
  it('reads both error shapes and anything else', () => {
    expect(
      describeDruidError(
        400,
        JSON.stringify({
          error: 'druidException',
          errorCode: 'invalidInput',
          persona: 'USER',
          category: 'INVALID_INPUT',
          errorMessage: 'bad',
        }),
      ),
    ).toBe('HTTP 400, INVALID_INPUT/invalidInput (for user): bad')
    expect(
      describeDruidError(
        500,
        JSON.stringify({
          error: 'Unknown exception',
          errorMessage: 'boom',
          errorClass: 'java.lang.RuntimeException',
          host: 'broker-1:8082',
        }),
      ),
    ).toBe('HTTP 500, Unknown exception (java.lang.RuntimeException on broker-1:8082): boom')
    expect(describeDruidError(503, '')).toBe('HTTP 503: (empty body)')
  })
})
