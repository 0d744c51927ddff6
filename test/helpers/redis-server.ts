/**
 * A redis-server of the test's own (Debian's /usr/bin/redis-server), on a free port of its own, never the
 * machine's 6379: no persistence, stopped by the test. Options add requirepass, ACL users, or a TLS port
 * with the certificates of scripts/certs.sh.
 */
import {type ChildProcess, execFileSync, spawn} from 'node:child_process'
import {createServer} from 'node:net'
import {join, resolve} from 'node:path'
import {Redis} from 'ioredis'
import {exited} from './child.js'

const root = resolve(import.meta.dirname, '../..')
export const REDIS_CERTS = join(root, '.cache/redis-certs')

const freePort = () =>
  new Promise<number>((ok, fail) => {
    const s = createServer().listen(0, '127.0.0.1', () => {
      const {port} = s.address() as {port: number}
      s.close(() => ok(port))
    })
    s.on('error', fail)
  })

export interface RedisServer {
  port: number
  tlsPort?: number
  url: string
  /** A client as the platform's publisher would be (the default user, or the admin password). */
  client: () => Redis
  stop: () => Promise<void>
}

export async function startRedis(
  o: {requirepass?: string; users?: string[]; tls?: boolean} = {},
): Promise<RedisServer> {
  const port = await freePort()
  const args = ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--daemonize', 'no']
  if (o.requirepass) args.push('--requirepass', o.requirepass)
  for (const u of o.users ?? []) args.push('--user', ...u.split(' '))
  let tlsPort: number | undefined
  if (o.tls) {
    execFileSync('bash', [join(root, 'scripts/certs.sh'), REDIS_CERTS], {stdio: 'ignore'})
    tlsPort = await freePort()
    args.push(
      '--tls-port',
      String(tlsPort),
      '--tls-cert-file',
      join(REDIS_CERTS, 'server.pem'),
      '--tls-key-file',
      join(REDIS_CERTS, 'server.key'),
      '--tls-ca-cert-file',
      join(REDIS_CERTS, 'ca.pem'),
      '--tls-auth-clients',
      'no',
    )
  }
  const child: ChildProcess = spawn('/usr/bin/redis-server', args, {stdio: ['ignore', 'pipe', 'pipe']})
  let output = ''
  child.stdout!.on('data', (d) => (output += d))
  child.stderr!.on('data', (d) => (output += d))
  const client = () =>
    new Redis({host: '127.0.0.1', port, password: o.requirepass, lazyConnect: false, maxRetriesPerRequest: 3})
  for (const end = Date.now() + 10_000; ;) {
    if (child.exitCode !== null) throw new Error(`redis-server exited: ${output}`)
    const c = client()
    c.on('error', () => undefined)
    const ok = await c.ping().then(
      () => true,
      () => false,
    )
    c.disconnect()
    if (ok) break
    if (Date.now() > end) throw new Error(`redis-server did not answer on ${port}: ${output}`)
    await new Promise((r) => setTimeout(r, 100))
  }
  return {
    port,
    tlsPort,
    url: `redis://127.0.0.1:${port}`,
    client,
    async stop() {
      child.kill('SIGKILL')
      await exited(child)
    },
  }
}
