/** Real HTTP servers on loopback that behave as a test scripts them, recording every request. */
import {createServer, type IncomingMessage, type Server, type ServerResponse} from 'node:http'

export interface Received {
  at: number
  headers: IncomingMessage['headers']
  body: string
}

export async function scriptedServer(
  answer: (n: number, res: ServerResponse) => void,
): Promise<{url: string; received: Received[]; close: () => Promise<void>}> {
  const received: Received[] = []
  const server: Server = createServer((req, res) => {
    let body = ''
    req.on('data', (c) => (body += c))
    req.on('end', () => {
      received.push({at: Date.now(), headers: req.headers, body})
      answer(received.length, res)
    })
  })
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r))
  const url = `http://127.0.0.1:${(server.address() as {port: number}).port}/hook`
  return {url, received, close: () => new Promise((r) => (server.closeAllConnections(), server.close(() => r())))}
}
