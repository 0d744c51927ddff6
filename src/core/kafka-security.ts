/**
 * Kafka's security settings, named as Kafka's own clients name them (security.protocol, sasl.mechanism,
 * ssl.*), turned into kafkajs' `ssl` and `sasl`; and a probe of the first broker that tells a refused
 * certificate, a refused login or a protocol mismatch (configuration: exit 2 at once) from an outage.
 */
import {isIP, Socket} from 'node:net'
import {connect as tlsConnect, type TLSSocket} from 'node:tls'
import type {SASLOptions} from 'kafkajs'
import {ExitCode, MauError, configError} from './errors.js'
import {readSettingFile, registerSecret, secretFromEnv} from './secrets.js'
import {splitList} from './settings.js'
import {readPem, tlsRefusal, transportOf, type Transport} from './tls.js'

export const SECURITY_PROTOCOLS = ['PLAINTEXT', 'SSL', 'SASL_PLAINTEXT', 'SASL_SSL'] as const
export type SecurityProtocol = (typeof SECURITY_PROTOCOLS)[number]
export const SASL_MECHANISMS = ['PLAIN', 'SCRAM-SHA-256', 'SCRAM-SHA-512', 'OAUTHBEARER'] as const
export type SaslMechanism = (typeof SASL_MECHANISMS)[number]

/** The flags (and their MAU_KAFKA_* variables) that say how to reach Kafka; core/flags.ts defines them. */
export interface KafkaFlags {
  brokers: string
  'kafka-security-protocol'?: SecurityProtocol
  'kafka-sasl-mechanism'?: SaslMechanism
  'kafka-sasl-username'?: string
  'kafka-sasl-oauthbearer-token-file'?: string
  'kafka-ssl-ca-file'?: string
  'kafka-ssl-cert-file'?: string
  'kafka-ssl-key-file'?: string
}

export interface KafkaSettings {
  brokers: string
  protocol: SecurityProtocol
  tls?: {ca?: Buffer; cert?: Buffer; key?: Buffer; caFile?: string}
  sasl?: {mechanism: SaslMechanism; username?: string; tokenFile?: string}
  /** The password, read again at every connection (a rotated Secret's file takes effect without a restart). */
  password?: () => string | undefined
}

/** Checks the combination once, at start, so a missing password or file is named before anything connects. */
export function kafkaSettings(f: KafkaFlags, env: NodeJS.ProcessEnv = process.env): KafkaSettings {
  const protocol = f['kafka-security-protocol'] ?? 'PLAINTEXT'
  const usesTls = protocol === 'SSL' || protocol === 'SASL_SSL'
  const usesSasl = protocol.startsWith('SASL_')
  const tlsGiven = (['kafka-ssl-ca-file', 'kafka-ssl-cert-file', 'kafka-ssl-key-file'] as const).filter((k) => f[k])
  if (!usesTls && tlsGiven.length > 0)
    throw configError(
      `--${tlsGiven[0]} is set but MAU_KAFKA_SECURITY_PROTOCOL is ${protocol}, which does not use TLS: expected SSL or SASL_SSL.`,
    )
  if (Boolean(f['kafka-ssl-cert-file']) !== Boolean(f['kafka-ssl-key-file']))
    throw configError('Mutual TLS needs both MAU_KAFKA_SSL_CERT_FILE and MAU_KAFKA_SSL_KEY_FILE; only one is set.')
  const mechanism = f['kafka-sasl-mechanism']
  if (!usesSasl && mechanism)
    throw configError(
      `MAU_KAFKA_SASL_MECHANISM is ${mechanism} but MAU_KAFKA_SECURITY_PROTOCOL is ${protocol}, which does not use SASL: expected SASL_SSL or SASL_PLAINTEXT.`,
    )
  if (usesSasl && !mechanism)
    throw configError(
      `MAU_KAFKA_SECURITY_PROTOCOL is ${protocol} but no MAU_KAFKA_SASL_MECHANISM is set: expected one of ${SASL_MECHANISMS.join(', ')}.`,
    )
  const settings: KafkaSettings = {brokers: f.brokers, protocol}
  if (usesTls) {
    const pem = (k: 'kafka-ssl-ca-file' | 'kafka-ssl-cert-file' | 'kafka-ssl-key-file') =>
      f[k] ? readPem(f[k], `MAU_${k.toUpperCase().replace(/-/g, '_')}`) : undefined
    settings.tls = {
      ca: pem('kafka-ssl-ca-file'),
      cert: pem('kafka-ssl-cert-file'),
      key: pem('kafka-ssl-key-file'),
      caFile: f['kafka-ssl-ca-file'],
    }
  }
  if (mechanism === 'OAUTHBEARER') {
    const tokenFile = f['kafka-sasl-oauthbearer-token-file']
    if (!tokenFile)
      throw configError(
        'MAU_KAFKA_SASL_MECHANISM is OAUTHBEARER but no MAU_KAFKA_SASL_OAUTHBEARER_TOKEN_FILE is set: expected the file a token sidecar keeps fresh.',
      )
    readToken(tokenFile)
    settings.sasl = {mechanism, tokenFile}
  } else if (mechanism) {
    const username = f['kafka-sasl-username']
    if (!username) throw configError(`MAU_KAFKA_SASL_MECHANISM is ${mechanism} but no MAU_KAFKA_SASL_USERNAME is set.`)
    const password = () => secretFromEnv('MAU_KAFKA_SASL_PASSWORD', env)
    if (!password())
      throw configError(
        `MAU_KAFKA_SASL_MECHANISM is ${mechanism} but neither MAU_KAFKA_SASL_PASSWORD nor MAU_KAFKA_SASL_PASSWORD_FILE is set.`,
      )
    settings.sasl = {mechanism, username}
    settings.password = password
  }
  return settings
}

/** The token file's content; a sidecar rewrites it, so it is read whenever kafkajs authenticates a connection. */
function readToken(path: string): string {
  const token = readSettingFile(path, 'MAU_KAFKA_SASL_OAUTHBEARER_TOKEN_FILE').toString('utf8').trim()
  if (!token) throw configError(`MAU_KAFKA_SASL_OAUTHBEARER_TOKEN_FILE "${path}" is empty: expected a token.`)
  registerSecret(token)
  return token
}

/** kafkajs' `ssl` and `sasl` for these settings. */
export function kafkajsSecurity(s: KafkaSettings): {
  ssl?: {ca?: Buffer; cert?: Buffer; key?: Buffer}
  sasl?: SASLOptions
} {
  const ssl = s.tls
    ? {...(s.tls.ca && {ca: s.tls.ca}), ...(s.tls.cert && {cert: s.tls.cert, key: s.tls.key})}
    : undefined
  if (!s.sasl) return {ssl}
  if (s.sasl.mechanism === 'OAUTHBEARER') {
    const file = s.sasl.tokenFile!
    return {ssl, sasl: {mechanism: 'oauthbearer', oauthBearerProvider: async () => ({value: readToken(file)})}}
  }
  const password = s.password!
  const mechanism = s.sasl.mechanism.toLowerCase() as 'plain' | 'scram-sha-256' | 'scram-sha-512'
  // kafkajs keeps this object and reads `password` at each authentication: a getter re-reads the file.
  return {
    ssl,
    sasl: {
      mechanism,
      username: s.sasl.username!,
      get password() {
        return password() ?? ''
      },
    },
  }
}

/** A refused login or certificate, from any kafkajs error: exit 2, never a password or a token in it. */
export function kafkaRefusal(error: unknown, s: Pick<KafkaSettings, 'brokers' | 'sasl' | 'tls'>): MauError | undefined {
  if (error instanceof MauError) return error.exitCode === ExitCode.CONFIG ? error : undefined
  const name = (error as Error)?.name ?? ''
  if (
    name === 'KafkaJSSASLAuthenticationError' ||
    (error as {cause?: {name?: string}})?.cause?.name === 'KafkaJSSASLAuthenticationError'
  ) {
    const who = s.sasl ? `${s.sasl.mechanism}${s.sasl.username ? ` for user "${s.sasl.username}"` : ''}` : 'SASL'
    return new MauError(`Kafka at ${s.brokers} refused SASL ${who}.`, {
      exit: ExitCode.CONFIG,
      code: 'KAFKA_SASL_REFUSED',
      suggestions: [
        s.sasl?.mechanism === 'OAUTHBEARER'
          ? 'Check that the token in MAU_KAFKA_SASL_OAUTHBEARER_TOKEN_FILE is current and accepted by the broker.'
          : "Check MAU_KAFKA_SASL_USERNAME, MAU_KAFKA_SASL_PASSWORD(_FILE) and MAU_KAFKA_SASL_MECHANISM against the broker's user.",
      ],
    })
  }
  return tlsRefusal(error, {
    service: 'Kafka',
    address: s.brokers,
    caFile: s.tls?.caFile,
    caSetting: 'MAU_KAFKA_SSL_CA_FILE',
  })
}

const PROBE_TIMEOUT_MS = 5_000

/**
 * Connects to the first broker that answers, as these settings say, and returns how the connection is
 * protected. Throws exit 2 when the broker refuses the certificate, its name, or the protocol (TLS spoken to
 * a plaintext listener, or the reverse); returns undefined when no broker answers (kafkajs retries that).
 */
export async function probeKafka(s: KafkaSettings): Promise<Transport | undefined> {
  for (const broker of splitList(s.brokers)) {
    const [host, port] = [broker.slice(0, broker.lastIndexOf(':')), Number(broker.slice(broker.lastIndexOf(':') + 1))]
    const answer = s.tls ? await tlsHandshake(host, port, s) : await speaksKafka(host, port)
    if (answer === 'down') continue
    if (s.tls && answer === 'closed') {
      if ((await speaksKafka(host, port)) === 'kafka')
        throw protocolMismatch(
          broker,
          s.protocol,
          'answers plaintext Kafka, not TLS',
          s.protocol === 'SSL' ? 'PLAINTEXT' : 'SASL_PLAINTEXT',
        )
      continue
    }
    if (!s.tls && answer === 'closed') {
      if ((await tlsHandshake(host, port, {brokers: s.brokers, protocol: 'SSL', tls: {}}, false)) !== 'closed')
        throw protocolMismatch(
          broker,
          s.protocol,
          'requires TLS',
          s.protocol === 'SASL_PLAINTEXT' ? 'SASL_SSL' : 'SSL or SASL_SSL',
        )
      continue
    }
    const transport: Transport = typeof answer === 'object' ? answer : {tls: false}
    return s.sasl ? {...transport, sasl: {mechanism: s.sasl.mechanism, user: s.sasl.username}} : transport
  }
  return undefined
}

function protocolMismatch(broker: string, protocol: SecurityProtocol, what: string, expected: string): MauError {
  return new MauError(`Kafka broker ${broker} ${what}, but MAU_KAFKA_SECURITY_PROTOCOL is ${protocol}.`, {
    exit: ExitCode.CONFIG,
    code: 'KAFKA_PROTOCOL_MISMATCH',
    suggestions: [
      `Set MAU_KAFKA_SECURITY_PROTOCOL to ${expected}, or point MAU_KAFKA_BROKERS at the listener for ${protocol}.`,
    ],
  })
}

type Answer = Transport | 'kafka' | 'closed' | 'down'

/** A TLS handshake, then ApiVersions over it: a broker that refuses the client certificate says so only after the handshake (TLS 1.3). */
function tlsHandshake(host: string, port: number, s: KafkaSettings, verify = true): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const socket: TLSSocket = tlsConnect({
      host,
      port,
      ...(isIP(host) ? {} : {servername: host}),
      ca: s.tls?.ca,
      cert: s.tls?.cert,
      key: s.tls?.key,
      rejectUnauthorized: verify,
    })
    const done = (answer: Answer | Error) => {
      socket.destroy()
      if (answer instanceof Error) reject(answer)
      else resolve(answer)
    }
    let transport: Transport | undefined
    socket.setTimeout(PROBE_TIMEOUT_MS, () => done('closed'))
    socket.once('secureConnect', () => {
      transport = transportOf(socket, verify ? 'identity' : 'no', Boolean(s.tls?.cert))
      if (!verify) return done(transport)
      socket.write(API_VERSIONS)
    })
    answers(
      socket,
      () => done(transport ?? 'closed'),
      () => done('closed'),
    )
    socket.once('error', (error: NodeJS.ErrnoException) => {
      const refused = verify
        ? (tlsRefusal(error, {
            service: 'Kafka',
            address: `${host}:${port}`,
            caFile: s.tls?.caFile,
            caSetting: 'MAU_KAFKA_SSL_CA_FILE',
          }) ?? clientCertRefused(error, `${host}:${port}`, s))
        : undefined
      done(refused ?? (isDown(error) ? 'down' : 'closed'))
    })
  })
}

/** The broker's TLS alert after the handshake: it wants a (different) client certificate. */
function clientCertRefused(error: Error, address: string, s: KafkaSettings): MauError | undefined {
  if (!/alert (bad certificate|certificate required|unknown ca|certificate unknown)/i.test(error.message))
    return undefined
  return new MauError(
    `Kafka at ${address} refused ${s.tls?.cert ? 'the client certificate in MAU_KAFKA_SSL_CERT_FILE' : 'the connection without a client certificate'} (mutual TLS).`,
    {
      exit: ExitCode.CONFIG,
      code: 'KAFKA_CLIENT_CERT_REFUSED',
      suggestions: ["Set MAU_KAFKA_SSL_CERT_FILE and MAU_KAFKA_SSL_KEY_FILE to a certificate the broker's CA signed."],
    },
  )
}

/** ApiVersions v0: any Kafka listener answers it before authentication, with the same correlation id. */
const CORRELATION = 0x6d6175
const API_VERSIONS = (() => {
  const clientId = Buffer.from('mau-probe')
  const request = Buffer.alloc(14 + clientId.length)
  request.writeInt32BE(10 + clientId.length, 0)
  request.writeInt16BE(18, 4)
  request.writeInt16BE(0, 6)
  request.writeInt32BE(CORRELATION, 8)
  request.writeInt16BE(clientId.length, 12)
  clientId.copy(request, 14)
  return request
})()

function answers(socket: Socket, kafka: () => void, other: () => void): void {
  let received = Buffer.alloc(0)
  socket.on('data', (chunk: Buffer) => {
    received = Buffer.concat([received, chunk])
    if (received.length >= 8) (received.readInt32BE(4) === CORRELATION ? kafka : other)()
  })
  socket.once('end', other)
}

/** Sends ApiVersions in plaintext: does a Kafka listener without TLS answer? */
function speaksKafka(host: string, port: number): Promise<'kafka' | 'closed' | 'down'> {
  return new Promise((resolve) => {
    const socket = new Socket()
    const done = (answer: 'kafka' | 'closed' | 'down') => {
      socket.destroy()
      resolve(answer)
    }
    socket.setTimeout(PROBE_TIMEOUT_MS, () => done('closed'))
    socket.once('error', (error: NodeJS.ErrnoException) => done(isDown(error) ? 'down' : 'closed'))
    answers(
      socket,
      () => done('kafka'),
      () => done('closed'),
    )
    socket.connect(port, host, () => socket.write(API_VERSIONS))
  })
}

const isDown = (error: NodeJS.ErrnoException) =>
  ['ECONNREFUSED', 'EHOSTUNREACH', 'ENOTFOUND', 'EAI_AGAIN', 'ETIMEDOUT'].includes(error.code ?? '')
