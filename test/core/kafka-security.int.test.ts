/**
 * mau against a Kafka as managed services run it: SASL_SSL (SCRAM-SHA-512, PLAIN, OAUTHBEARER), mutual TLS and
 * SASL_PLAINTEXT listeners on a real broker (test/helpers/secure-services.ts). Consumes exactly through each;
 * every refusal exits 2 within seconds, naming what is wrong and never printing a secret.
 */
import {mkdtempSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {Kafka, logLevel} from 'kafkajs'
import {afterAll, beforeAll, describe, expect, it} from 'vitest'
import {createKafka} from '../../src/core/kafka.js'
import {kafkaSettings} from '../../src/core/kafka-security.js'
import {mauAsync} from '../helpers/cli.js'
import {cert, rotateScramPassword, secureKafka, startSecureKafka, stopSecureKafka} from '../helpers/secure-services.js'
import {generate, readRows} from '../fixtures/mau.js'
import {encode} from '../fixtures/events.js'
import {createTestDatabase, type TestDatabase, uniqueName} from '../fixtures/services.js'

const dir = mkdtempSync(join(tmpdir(), 'mau-kafka-security-'))
const plain = new Kafka({clientId: 'mau-test-secure', brokers: [secureKafka.plaintext], logLevel: logLevel.NOTHING})

/** An unsecured JWT (alg none), as Kafka's default OAUTHBEARER validator accepts. */
function unsecuredToken(sub: string): string {
  const b64 = (o: object) => Buffer.from(JSON.stringify(o)).toString('base64url')
  const now = Math.floor(Date.now() / 1000)
  return `${b64({alg: 'none'})}.${b64({sub, iat: now, exp: now + 3600})}.`
}

async function topicWith(events: number, partitions = 2) {
  const topic = uniqueName('mau-secure').replace(/_/g, '-')
  const admin = plain.admin()
  await admin.connect()
  await admin.createTopics({topics: [{topic, numPartitions: partitions}], waitForLeaders: true})
  await admin.disconnect()
  const {events: sample, truth} = generate({events})
  const producer = plain.producer()
  await producer.connect()
  for (let i = 0; i < sample.length; i += 2000)
    await producer.send({
      topic,
      messages: sample.slice(i, i + 2000).map((e, j) => ({value: encode(e, 'json'), partition: (i + j) % partitions})),
    })
  await producer.disconnect()
  return {topic, truth}
}

const scram = {
  MAU_KAFKA_SECURITY_PROTOCOL: 'SASL_SSL',
  MAU_KAFKA_SASL_MECHANISM: 'SCRAM-SHA-512',
  MAU_KAFKA_SASL_USERNAME: 'mau',
  MAU_KAFKA_SASL_PASSWORD: secureKafka.scramPassword,
  MAU_KAFKA_SSL_CA_FILE: cert('ca.pem'),
  MAU_KAFKA_BROKERS: secureKafka.saslSsl,
}

let db: TestDatabase

beforeAll(async () => {
  startSecureKafka()
  db = await createTestDatabase({migrated: true})
})

afterAll(async () => {
  await db?.drop()
  stopSecureKafka()
})

const consumeCli = (topic: string, env: Record<string, string>) =>
  mauAsync(
    ['consume', '--stop-at-end', '--json', '--topic', topic, '--group', `${topic}-g`, '--mysql-url', db.url],
    env,
  )

describe('mau consume through a secured Kafka', () => {
  const tokenFile = join(dir, 'token')
  writeFileSync(tokenFile, unsecuredToken('mau'))
  const ways: [string, Record<string, string>][] = [
    ['SASL_SSL with SCRAM-SHA-512', scram],
    [
      'SASL_SSL with PLAIN',
      {...scram, MAU_KAFKA_SASL_MECHANISM: 'PLAIN', MAU_KAFKA_SASL_PASSWORD: secureKafka.plainPassword},
    ],
    [
      'SASL_SSL with OAUTHBEARER (a token file)',
      {
        MAU_KAFKA_SECURITY_PROTOCOL: 'SASL_SSL',
        MAU_KAFKA_SASL_MECHANISM: 'OAUTHBEARER',
        MAU_KAFKA_SASL_OAUTHBEARER_TOKEN_FILE: tokenFile,
        MAU_KAFKA_SSL_CA_FILE: cert('ca.pem'),
        MAU_KAFKA_BROKERS: secureKafka.saslSsl,
      },
    ],
    [
      'mutual TLS',
      {
        MAU_KAFKA_SECURITY_PROTOCOL: 'SSL',
        MAU_KAFKA_SSL_CA_FILE: cert('ca.pem'),
        MAU_KAFKA_SSL_CERT_FILE: cert('client.pem'),
        MAU_KAFKA_SSL_KEY_FILE: cert('client.key'),
        MAU_KAFKA_BROKERS: secureKafka.ssl,
      },
    ],
    [
      'SASL_PLAINTEXT with SCRAM-SHA-256',
      {
        MAU_KAFKA_SECURITY_PROTOCOL: 'SASL_PLAINTEXT',
        MAU_KAFKA_SASL_MECHANISM: 'SCRAM-SHA-256',
        MAU_KAFKA_SASL_USERNAME: 'mau',
        MAU_KAFKA_SASL_PASSWORD: secureKafka.scramPassword,
        MAU_KAFKA_BROKERS: secureKafka.saslPlaintext,
      },
    ],
  ]
  it.each(ways)('counts every event exactly once over %s', async (_way, env) => {
    const {topic, truth} = await topicWith(3000)
    const before = await readRows(db.settings)
    const r = await consumeCli(topic, env)
    expect(r.code, r.stderr).toBe(0)
    expect(JSON.parse(r.stdout)).toMatchObject({consumed: 3000, stoppedBy: 'end-of-topics'})
    const rows = await readRows(db.settings)
    for (const [key, want] of truth.rows)
      expect(rows.get(key)?.count, key).toBe((before.get(key)?.count ?? 0) + want.count)
  })
})

describe('a refused connection to Kafka', () => {
  const secrets = [secureKafka.scramPassword, 'wrong-password-1234', secureKafka.plainPassword]
  const cases: [string, Record<string, string>, RegExp, string][] = [
    [
      'a wrong SASL password',
      {...scram, MAU_KAFKA_SASL_PASSWORD: 'wrong-password-1234'},
      /refused SASL SCRAM-SHA-512 for user "mau"/,
      'KAFKA_SASL_REFUSED',
    ],
    [
      'a CA that did not sign the broker',
      {...scram, MAU_KAFKA_SSL_CA_FILE: cert('other-ca.pem')},
      /not signed by the CA in .*other-ca\.pem/,
      'TLS_UNTRUSTED',
    ],
    [
      'a name the certificate does not hold',
      {...scram, MAU_KAFKA_BROKERS: secureKafka.saslSsl.replace('localhost', '127.0.0.1')},
      /does not hold the name "127\.0\.0\.1"; it holds DNS:localhost/,
      'TLS_NAME_MISMATCH',
    ],
    [
      'TLS spoken to a plaintext listener',
      {...scram, MAU_KAFKA_BROKERS: secureKafka.plaintext},
      /answers plaintext Kafka, not TLS/,
      'KAFKA_PROTOCOL_MISMATCH',
    ],
    [
      'plaintext spoken to a TLS listener',
      {MAU_KAFKA_BROKERS: secureKafka.ssl},
      /requires TLS, but MAU_KAFKA_SECURITY_PROTOCOL is PLAINTEXT/,
      'KAFKA_PROTOCOL_MISMATCH',
    ],
    [
      'no client certificate where mutual TLS is required',
      {MAU_KAFKA_SECURITY_PROTOCOL: 'SSL', MAU_KAFKA_SSL_CA_FILE: cert('ca.pem'), MAU_KAFKA_BROKERS: secureKafka.ssl},
      /refused the connection without a client certificate/,
      'KAFKA_CLIENT_CERT_REFUSED',
    ],
  ]
  it.each(cases)(
    'exits 2 within seconds on %s, naming it, with no secret in the output',
    async (_case, env, message, code) => {
      const started = Date.now()
      const r = await consumeCli('mau-never-read', env)
      const seconds = (Date.now() - started) / 1000
      expect(r.code, r.stderr).toBe(2)
      const error = JSON.parse(r.stdout).error
      expect(error.code).toBe(code)
      expect(error.message).toMatch(message)
      expect(seconds).toBeLessThan(8)
      for (const s of secrets) expect(r.stdout + r.stderr).not.toContain(s)
    },
  )
})

describe('a rotated SASL password', () => {
  it('is read from its file again at each new connection, without a restart', async () => {
    const file = join(dir, 'password')
    writeFileSync(file, `${secureKafka.scramPassword}\n`)
    const {MAU_KAFKA_SASL_PASSWORD: _, ...env} = scram
    const settings = kafkaSettings(
      {
        brokers: secureKafka.saslSsl,
        'kafka-security-protocol': 'SASL_SSL',
        'kafka-sasl-mechanism': 'SCRAM-SHA-512',
        'kafka-sasl-username': 'mau',
        'kafka-ssl-ca-file': cert('ca.pem'),
      },
      {...env, MAU_KAFKA_SASL_PASSWORD_FILE: file},
    )
    const connect = async () => {
      const admin = createKafka(settings, 'mau-test-rotation').admin()
      try {
        await admin.connect()
        return (await admin.listTopics()).length >= 0
      } finally {
        await admin.disconnect()
      }
    }
    try {
      expect(await connect()).toBe(true)
      rotateScramPassword('mau-rotated-secret')
      // The broker now refuses the old one: the settings (read at start) only work if the file is read again.
      await expect(connect()).rejects.toThrow(/authentication failed/i)
      writeFileSync(file, 'mau-rotated-secret\n')
      expect(await connect()).toBe(true)
    } finally {
      rotateScramPassword(secureKafka.scramPassword)
    }
  })
})
