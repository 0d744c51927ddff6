/**
 * TLS of the MySQL connections core/db.ts opens: the ssl-modes as the mysql client reads them, the password
 * and TLS decided per connection, the transport doctor shows, and a TLS failure told apart from an outage.
 */
import {checkServerIdentity, type PeerCertificate} from 'node:tls'
import type {Pool, RowDataPacket, SslOptions} from 'mysql2/promise'
import {ExitCode, MauError} from './errors.js'
import type {MysqlSettings, MysqlTls, SslMode} from './settings.js'
import {tlsRefusal, type Transport} from './tls.js'

/** Servers PREFERRED found without TLS: later pools of this process do not ask again (each refusal is an aborted handshake on the server). */
const OFFERS_NO_TLS = new Set<string>()

type CoreConnection = {
  stream?: {getPeerCertificate?: (detailed: boolean) => PeerCertificate; isSessionReused?: () => boolean}
  destroy(): void
}
type CorePool = {
  config: {connectionConfig: object}
  getConnection(cb: (err: NodeJS.ErrnoException | null, conn?: CoreConnection) => void): void
}

/**
 * mysql2 copies the pool's connection config (getters included) for each new connection: the password and
 * TLS are getters, so a rotated password file is read at the next connection, and PREFERRED learns once
 * that the server offers no TLS (the mysql client's meaning: encrypted if the server can, plaintext if not).
 * mysql2 checks a certificate's names only for a host name, never for an IP address: VERIFY_IDENTITY checks
 * each new connection here too.
 */
export function perConnection(pool: Pool, settings: MysqlSettings): void {
  const core = (pool as unknown as {pool: CorePool}).pool
  const ssl = sslOptions(settings.tls)
  const server = `${settings.host}:${settings.port}`
  let serverHasTls = !OFFERS_NO_TLS.has(server)
  Object.defineProperty(core.config.connectionConfig, 'password', {
    get: settings.readPassword,
    enumerable: true,
    configurable: true,
  })
  Object.defineProperty(core.config.connectionConfig, 'ssl', {
    get: () => (serverHasTls ? ssl : undefined),
    enumerable: true,
    configurable: true,
  })
  const checked = new WeakSet<CoreConnection>()
  // A resumed TLS session (mysql2 caches them) carries no certificate to check: it inherits this pool's verdict.
  let identityRefused: Error | undefined
  const getConnection = core.getConnection.bind(core)
  core.getConnection = (cb) =>
    getConnection((err, conn) => {
      if (err?.code === 'HANDSHAKE_NO_SSL_SUPPORT' && settings.tls.mode === 'PREFERRED' && serverHasTls) {
        serverHasTls = false
        OFFERS_NO_TLS.add(server)
        return getConnection(cb)
      }
      if (err || !conn || settings.tls.mode !== 'VERIFY_IDENTITY' || checked.has(conn)) return cb(err, conn)
      const cert = conn.stream?.getPeerCertificate?.(false)
      const resumed = conn.stream?.isSessionReused?.() === true
      const refused = resumed ? identityRefused : cert ? checkServerIdentity(settings.host, cert) : undefined
      if (!refused) {
        checked.add(conn)
        return cb(null, conn)
      }
      conn.destroy()
      identityRefused = Object.assign(refused, {
        code: 'HANDSHAKE_SSL_ERROR',
        host: settings.host,
        cert: resumed ? (refused as {cert?: PeerCertificate}).cert : cert,
      })
      cb(identityRefused)
    })
}

/** How this pool's connections are protected, as the server sees them (its Ssl_version and Ssl_cipher). */
export async function mysqlTransport(db: Pick<Pool, 'query'>, mode: SslMode): Promise<Transport> {
  const [rows] = await db.query<RowDataPacket[]>(
    "SHOW SESSION STATUS WHERE Variable_name IN ('Ssl_version', 'Ssl_cipher')",
  )
  const status = new Map(rows.map((r) => [String(r.Variable_name), String(r.Value)]))
  const version = status.get('Ssl_version')
  if (!version) return {tls: false}
  return {
    tls: true,
    version,
    cipher: status.get('Ssl_cipher'),
    verified: mode === 'VERIFY_IDENTITY' ? 'identity' : mode === 'VERIFY_CA' ? 'ca' : 'no',
  }
}

/** mysql2's `ssl` for a mode, as the mysql client reads --ssl-mode. */
export function sslOptions(tls: MysqlTls): SslOptions | undefined {
  if (tls.mode === 'DISABLED') return undefined
  const verify = tls.mode === 'VERIFY_CA' || tls.mode === 'VERIFY_IDENTITY'
  return {
    ca: tls.ca,
    cert: tls.cert,
    key: tls.key,
    rejectUnauthorized: verify,
    verifyIdentity: tls.mode === 'VERIFY_IDENTITY',
  }
}

/** TLS asked for and not offered, offered badly, or required by the server while off: exit 2, never retried. */
export function tlsMismatch(error: unknown, settings: MysqlSettings): MauError | undefined {
  const e = error as {code?: string; errno?: number; message?: string}
  const fail = (code: string, message: string, suggestion: string) =>
    new MauError(message, {exit: ExitCode.CONFIG, code, suggestions: [suggestion]})
  if (e.code === 'HANDSHAKE_NO_SSL_SUPPORT')
    return fail(
      'MYSQL_NO_TLS',
      `MySQL at ${settings.display} offers no TLS, but ssl-mode is ${settings.tls.mode}.`,
      'Enable TLS on the server, or set MAU_MYSQL_SSL_MODE=PREFERRED (or DISABLED) where plaintext is acceptable.',
    )
  // MySQL 8 ER_SECURE_TRANSPORT_REQUIRED (3159), MariaDB's 4036.
  if (e.code === 'ER_SECURE_TRANSPORT_REQUIRED' || e.errno === 3159 || e.errno === 4036)
    return fail(
      'MYSQL_TLS_REQUIRED',
      `MySQL at ${settings.display} requires TLS, but ssl-mode is ${settings.tls.mode}.`,
      'Set MAU_MYSQL_SSL_MODE=VERIFY_IDENTITY with MAU_MYSQL_SSL_CA (or at least REQUIRED).',
    )
  if (e.code === 'HANDSHAKE_SSL_ERROR') {
    return (
      tlsRefusal(error, {
        service: 'MySQL',
        address: `${settings.host}:${settings.port}`,
        caFile: settings.tls.caFile,
        caSetting: 'MAU_MYSQL_SSL_CA',
      }) ??
      fail(
        'MYSQL_TLS_FAILED',
        `The TLS handshake with MySQL at ${settings.display} failed: ${e.message}`,
        "Check MAU_MYSQL_SSL_MODE, MAU_MYSQL_SSL_CA and the client certificate against the server's TLS settings.",
      )
    )
  }
  return undefined
}
