/**
 * `mau serve` against what a hostile or broken client sends over raw sockets: malformed request targets,
 * bodies past the limit in either framing, headers sent slowly, and gRPC connections that never call.
 * After each, the server must answer the next request.
 */
import {connect, type Socket} from 'node:net'
import {afterAll, beforeAll, describe, expect, it} from 'vitest'
import {createTestDatabase, type TestDatabase} from '../fixtures/services.js'
import {startServe, type Running} from '../fixtures/serve.js'
import {call, grpcClients} from '../helpers/serve.js'

let db: TestDatabase
let served: Running

beforeAll(async () => {
  db = await createTestDatabase({migrated: true})
  served = await startServe({MAU_MYSQL_URL: db.url}, [
    '--request-timeout',
    '2',
    '--idle-seconds',
    '2',
    '--max-connections',
    '20',
    '--max-body',
    '1024',
  ])
})
afterAll(async () => {
  await served?.stop()
  await db.drop()
})

/** Sends raw bytes and collects what comes back until the server closes or `ms` pass. */
function raw(port: number, bytes: string, ms = 3000): Promise<{text: string; closedAfterMs: number | null}> {
  return new Promise((resolve) => {
    const started = Date.now()
    const socket: Socket = connect(port, '127.0.0.1', () => socket.write(bytes))
    let text = ''
    const timer = setTimeout(() => {
      socket.destroy()
      resolve({text, closedAfterMs: null})
    }, ms)
    socket.on('data', (d) => (text += d.toString()))
    socket.on('error', () => undefined)
    socket.on('close', () => {
      clearTimeout(timer)
      resolve({text, closedAfterMs: Date.now() - started})
    })
  })
}

const statusLine = (text: string) => text.split('\r\n')[0]
const stillServing = async () => expect((await served.http('/healthz')).status).toBe(200)

describe('mau serve with hostile requests', () => {
  it.each([
    ['//', 'HTTP/1.1 404'],
    ['http://x:99999/', 'HTTP/1.1 400'],
    ['http://[::1/', 'HTTP/1.1 400'],
    ['*', 'HTTP/1.1 400'],
  ])('answers the request target %s and goes on serving', async (target, status) => {
    const {text} = await raw(served.httpPort, `GET ${target} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n`)
    expect(statusLine(text)).toMatch(new RegExp(`^${status}`))
    if (status.endsWith('400')) expect(text).toContain('"code":"BAD_TARGET"')
    await stillServing()
    expect(served.stderr()).not.toMatch(/Invalid URL|uncaught/)
  })

  it('refuses a chunked body past --max-body (413) and closes that connection', async () => {
    const chunk = 'x'.repeat(600)
    const body = `${(600).toString(16)}\r\n${chunk}\r\n`.repeat(3)
    const {text, closedAfterMs} = await raw(
      served.httpPort,
      `GET /healthz HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n${body}`,
    )
    expect(statusLine(text)).toBe('HTTP/1.1 413 Payload Too Large')
    expect(text).toContain('the body is larger than 1024 bytes.')
    expect(closedAfterMs).not.toBeNull()
    await stillServing()
  })

  it('answers a chunked body within --max-body as usual', async () => {
    const {text} = await raw(
      served.httpPort,
      `GET /healthz HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n5\r\nhello\r\n0\r\n\r\n`,
    )
    expect(statusLine(text)).toBe('HTTP/1.1 200 OK')
  })

  it('cuts headers sent slowly at --request-timeout, not half a minute later', async () => {
    const {closedAfterMs} = await raw(served.httpPort, 'GET /healthz HTTP/1.1\r\nHost: x\r\n', 10_000)
    expect(closedAfterMs).not.toBeNull()
    expect(closedAfterMs!).toBeGreaterThanOrEqual(1900)
    expect(closedAfterMs!).toBeLessThan(4000)
  })

  it('closes gRPC connections that only sent the HTTP/2 preface after --idle-seconds, and holds no more than --max-connections', async () => {
    const preface = 'PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n\x00\x00\x00\x04\x00\x00\x00\x00\x00'
    const held = await Promise.all(Array.from({length: 25}, () => raw(served.grpcPort, preface, 8000)))
    const closed = held.map((h) => h.closedAfterMs)
    // Five over the cap are closed as they arrive; the rest when idle for 2 s.
    expect(closed.filter((ms) => ms !== null && ms < 1000).length).toBeGreaterThanOrEqual(5)
    expect(closed.every((ms) => ms !== null && ms < 5000)).toBe(true)
    const {eventCounter} = grpcClients(served.grpcPort)
    try {
      expect(
        (await call(eventCounter.GetMAUCount, eventCounter, {environment_namespace: 'x', year_month: '202212'}))
          .response,
      ).toEqual({event_count: '0', user_count: '0'})
    } finally {
      eventCounter.close()
    }
  })
})
