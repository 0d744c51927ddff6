/** A TCP proxy to a real service that a test can cut (drop every connection, refuse new ones) and restore. */
import {createServer, connect, type Server, type Socket} from 'node:net'

export class CuttableProxy {
  private server: Server | null = null
  private readonly sockets = new Set<Socket>()
  private readonly pairs = new Set<[Socket, Socket]>()
  private frozen = false
  port = 0

  constructor(private target: {host: string; port: number}) {}

  async start(port = 0): Promise<void> {
    this.server = createServer((client) => {
      const upstream = connect(this.target.port, this.target.host)
      for (const s of [client, upstream]) {
        this.sockets.add(s)
        s.on('close', () => this.sockets.delete(s))
        s.on('error', () => undefined)
      }
      const pair: [Socket, Socket] = [client, upstream]
      this.pairs.add(pair)
      client.on('close', () => this.pairs.delete(pair))
      if (this.frozen) return void (client.pause(), upstream.pause())
      client.pipe(upstream).pipe(client)
    })
    await new Promise<void>((resolve) => this.server!.listen(port, '127.0.0.1', resolve))
    this.port = (this.server.address() as {port: number}).port
  }

  /** A connection URL to the same service, through this proxy. */
  urlFor(url: string): string {
    return url.replace(`:${this.target.port}/`, `:${this.port}/`)
  }

  async cut(): Promise<void> {
    this.frozen = false
    for (const s of this.sockets) s.destroy()
    await new Promise<void>((resolve) => this.server!.close(() => resolve()))
  }

  /** Silence: every connection stays open but nothing passes either way (a peer lost without closing its sockets). */
  freeze(): void {
    this.frozen = true
    for (const [client, upstream] of this.pairs) {
      client.unpipe(upstream)
      upstream.unpipe(client)
      client.pause()
      upstream.pause()
    }
  }

  async restore(): Promise<void> {
    await this.start(this.port)
  }

  /** Behind the same address, another server from now on (a failover behind a Service or DNS name). */
  async switchTo(target: {host: string; port: number}): Promise<void> {
    await this.cut()
    this.target = target
    await this.restore()
  }

  async stop(): Promise<void> {
    await this.cut().catch(() => undefined)
  }
}
