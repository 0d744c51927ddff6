/**
 * What Kafka and MySQL connections share about TLS: certificate files read with a clear error, a refused
 * handshake told apart from an outage (it is configuration: exit 2, not retried), and the transport
 * described for `mau doctor` without a secret in it.
 */
import type {TLSSocket} from 'node:tls'
import {ExitCode, MauError, configError} from './errors.js'
import {readSettingFile} from './secrets.js'

/** A PEM file named by a setting: read at start, so a wrong path fails before anything connects. */
export function readPem(path: string, setting: string): Buffer {
  const text = readSettingFile(path, setting)
  if (!text.includes('-----BEGIN '))
    throw configError(
      `${setting} points to "${path}", which holds no PEM block (expected -----BEGIN CERTIFICATE----- or a private key).`,
    )
  return text
}

/** OpenSSL's verdicts on a chain that does not lead to a trusted CA. */
const UNTRUSTED = new Set([
  'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
  'SELF_SIGNED_CERT_IN_CHAIN',
  'DEPTH_ZERO_SELF_SIGNED_CERT',
  'UNABLE_TO_GET_ISSUER_CERT',
  'UNABLE_TO_GET_ISSUER_CERT_LOCALLY',
  'CERT_SIGNATURE_FAILURE',
  'CERT_UNTRUSTED',
  'CERT_REJECTED',
])
const EXPIRED = new Set(['CERT_HAS_EXPIRED', 'CERT_NOT_YET_VALID'])

export interface TlsPeer {
  /** Kafka or MySQL: the service the message names. */
  service: string
  /** host:port as the operator configured it. */
  address: string
  /** The CA file trusted, or undefined for the system's trust store. */
  caFile?: string
  /** The setting that names the CA file, for the suggestion. */
  caSetting: string
}

/**
 * A TLS failure that retrying cannot fix, as a MauError (exit 2) naming what to change; undefined for
 * anything else (a reset or a timeout is an outage). Walks `cause`, as both drivers wrap socket errors.
 */
export function tlsRefusal(error: unknown, peer: TlsPeer): MauError | undefined {
  const e = findTlsCause(error)
  if (!e) return undefined
  const trusted = peer.caFile ? `the CA in ${peer.caFile}` : "the system's trusted CAs (no CA file given)"
  const fail = (code: string, message: string, suggestion: string) =>
    new MauError(message, {exit: ExitCode.CONFIG, code, suggestions: [suggestion]})
  if (UNTRUSTED.has(e.code)) {
    return fail(
      'TLS_UNTRUSTED',
      `${peer.service} at ${peer.address} presented a certificate not signed by ${trusted} (${(e as {message?: string}).message ?? e.code}).`,
      `Point ${peer.caSetting} at the CA bundle that signed the server's certificate.`,
    )
  }
  if (e.code === 'ERR_TLS_CERT_ALTNAME_INVALID') {
    const names = e.cert?.subjectaltname ?? (e.cert?.subject?.CN ? `CN=${e.cert.subject.CN}` : 'none')
    return fail(
      'TLS_NAME_MISMATCH',
      `${peer.service} at ${peer.address}: the certificate does not hold the name "${e.host ?? peer.address}"; it holds ${names}.`,
      `Connect by a name the certificate holds (${names}), or have the certificate reissued for the name you use.`,
    )
  }
  if (EXPIRED.has(e.code)) {
    return fail(
      'TLS_CERT_EXPIRED',
      `${peer.service} at ${peer.address} presented a certificate that is not valid now (${e.code}).`,
      "Renew the server's certificate.",
    )
  }
  return undefined
}

type TlsError = {code: string; host?: string; cert?: {subjectaltname?: string; subject?: {CN?: string}}}

function findTlsCause(error: unknown, depth = 0): TlsError | undefined {
  if (!error || typeof error !== 'object' || depth > 5) return undefined
  const e = error as {code?: unknown; message?: string; cause?: unknown; originalError?: unknown}
  if (
    typeof e.code === 'string' &&
    (UNTRUSTED.has(e.code) || EXPIRED.has(e.code) || e.code === 'ERR_TLS_CERT_ALTNAME_INVALID')
  )
    return e as TlsError
  // mysql2 overwrites Node's code with HANDSHAKE_SSL_ERROR: OpenSSL's verdict is left in the message.
  if (e.code === 'HANDSHAKE_SSL_ERROR') {
    const t = e as TlsError & {message: string}
    if (t.host && t.cert) return {...t, code: 'ERR_TLS_CERT_ALTNAME_INVALID'}
    if (/expired|not yet valid/i.test(t.message)) return {...t, code: 'CERT_HAS_EXPIRED'}
    if (/self[- ]signed|unable to (verify|get)|issuer|signature failure/i.test(t.message))
      return {...t, code: 'UNABLE_TO_VERIFY_LEAF_SIGNATURE'}
  }
  return findTlsCause(e.cause ?? e.originalError, depth + 1)
}

/** How a connection is protected, for doctor: never a key, a password or a token. */
export interface Transport {
  tls: boolean
  /** TLSv1.3, TLSv1.2 */
  version?: string
  cipher?: string
  /** The server's certificate was checked against the CA, and its name against the host (identity). */
  verified?: 'identity' | 'ca' | 'no'
  /** Mutual TLS: this side presented a certificate. */
  clientCertificate?: boolean
  sasl?: {mechanism: string; user?: string}
}

export function transportOf(socket: TLSSocket, verified: Transport['verified'], clientCertificate: boolean): Transport {
  return {
    tls: true,
    version: socket.getProtocol() ?? undefined,
    cipher: socket.getCipher()?.name,
    verified,
    clientCertificate,
  }
}

/** One line: "TLSv1.3 TLS_AES_256_GCM_SHA384, identity verified, SASL SCRAM-SHA-512 as mau". */
export function describeTransport(t: Transport): string {
  const parts = t.tls
    ? [
        `${t.version ?? 'TLS'} ${t.cipher ?? ''}`.trim(),
        t.verified === 'identity'
          ? 'identity verified'
          : t.verified === 'ca'
            ? 'CA verified, name not checked'
            : 'not verified',
      ]
    : ['plaintext']
  if (t.clientCertificate) parts.push('client certificate')
  if (t.sasl) parts.push(`SASL ${t.sasl.mechanism}${t.sasl.user ? ` as ${t.sasl.user}` : ''}`)
  return parts.join(', ')
}
