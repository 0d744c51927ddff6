import {mkdtempSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {describe, expect, it} from 'vitest'
import {kafkajsSecurity, kafkaRefusal, kafkaSettings} from '../../src/core/kafka-security.js'
import {redact} from '../../src/core/secrets.js'

const dir = mkdtempSync(join(tmpdir(), 'mau-kafka-settings-'))
const pem = join(dir, 'ca.pem')
writeFileSync(pem, '-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n')
const brokers = 'kafka:9093'

describe('kafkaSettings', () => {
  it('is plaintext by default, with no TLS and no SASL', () => {
    expect(kafkaSettings({brokers}, {})).toEqual({brokers, protocol: 'PLAINTEXT'})
  })

  it('refuses combinations that cannot work, naming the settings', () => {
    expect(() => kafkaSettings({brokers, 'kafka-security-protocol': 'SASL_SSL'}, {})).toThrow(
      /SASL_SSL but no MAU_KAFKA_SASL_MECHANISM is set: expected one of PLAIN, SCRAM-SHA-256/,
    )
    expect(() => kafkaSettings({brokers, 'kafka-sasl-mechanism': 'PLAIN'}, {})).toThrow(
      /MAU_KAFKA_SECURITY_PROTOCOL is PLAINTEXT, which does not use SASL/,
    )
    expect(() => kafkaSettings({brokers, 'kafka-ssl-ca-file': pem}, {})).toThrow(
      /--kafka-ssl-ca-file is set but MAU_KAFKA_SECURITY_PROTOCOL is PLAINTEXT/,
    )
    expect(() => kafkaSettings({brokers, 'kafka-security-protocol': 'SSL', 'kafka-ssl-cert-file': pem}, {})).toThrow(
      /both MAU_KAFKA_SSL_CERT_FILE and MAU_KAFKA_SSL_KEY_FILE/,
    )
    expect(() =>
      kafkaSettings(
        {
          brokers,
          'kafka-security-protocol': 'SASL_SSL',
          'kafka-sasl-mechanism': 'SCRAM-SHA-512',
          'kafka-sasl-username': 'mau',
        },
        {},
      ),
    ).toThrow(/neither MAU_KAFKA_SASL_PASSWORD nor MAU_KAFKA_SASL_PASSWORD_FILE/)
    expect(() =>
      kafkaSettings(
        {
          brokers,
          'kafka-security-protocol': 'SASL_SSL',
          'kafka-sasl-mechanism': 'OAUTHBEARER',
          'kafka-sasl-oauthbearer-token-file': join(dir, 'none'),
        },
        {},
      ),
    ).toThrow(/TOKEN_FILE points to ".*none", which cannot be read/)
  })

  it('gives kafkajs a password read again at each authentication', () => {
    const file = join(dir, 'password')
    writeFileSync(file, 'scram-one\n')
    const s = kafkaSettings(
      {
        brokers,
        'kafka-security-protocol': 'SASL_SSL',
        'kafka-sasl-mechanism': 'SCRAM-SHA-512',
        'kafka-sasl-username': 'mau',
        'kafka-ssl-ca-file': pem,
      },
      {MAU_KAFKA_SASL_PASSWORD_FILE: file},
    )
    const {sasl, ssl} = kafkajsSecurity(s)
    expect(ssl?.ca?.toString()).toContain('BEGIN CERTIFICATE')
    expect(sasl).toMatchObject({mechanism: 'scram-sha-512', username: 'mau', password: 'scram-one'})
    writeFileSync(file, 'scram-two\n')
    expect((sasl as {password: string}).password).toBe('scram-two')
    expect(redact('scram-one scram-two')).toBe('*** ***')
  })

  it('gives kafkajs the token file as it is now, for every authentication', async () => {
    const file = join(dir, 'token')
    writeFileSync(file, 'token-one\n')
    const {sasl} = kafkajsSecurity(
      kafkaSettings(
        {
          brokers,
          'kafka-security-protocol': 'SASL_SSL',
          'kafka-sasl-mechanism': 'OAUTHBEARER',
          'kafka-sasl-oauthbearer-token-file': file,
        },
        {},
      ),
    )
    const provider = (sasl as {oauthBearerProvider: () => Promise<{value: string}>}).oauthBearerProvider
    expect(await provider()).toEqual({value: 'token-one'})
    writeFileSync(file, 'token-two')
    expect(await provider()).toEqual({value: 'token-two'})
  })
})

describe('kafkaRefusal', () => {
  it('is a refused login (exit 2, naming mechanism and user) or a refused certificate, and nothing else', () => {
    const sasl = Object.assign(new Error('SASL SCRAM SHA512 authentication failed'), {
      name: 'KafkaJSSASLAuthenticationError',
    })
    expect(kafkaRefusal(sasl, {brokers, sasl: {mechanism: 'SCRAM-SHA-512', username: 'mau'}})).toMatchObject({
      exitCode: 2,
      code: 'KAFKA_SASL_REFUSED',
      message: 'Kafka at kafka:9093 refused SASL SCRAM-SHA-512 for user "mau".',
    })
    const wrapped = Object.assign(new Error('Connection error: unable to verify the first certificate'), {
      name: 'KafkaJSNumberOfRetriesExceeded',
      cause: Object.assign(new Error('x'), {code: 'UNABLE_TO_VERIFY_LEAF_SIGNATURE'}),
    })
    expect(kafkaRefusal(wrapped, {brokers, tls: {caFile: '/etc/ca.pem'}})?.message).toMatch(
      /not signed by the CA in \/etc\/ca.pem/,
    )
    expect(kafkaRefusal(Object.assign(new Error('refused'), {code: 'ECONNREFUSED'}), {brokers})).toBeUndefined()
  })
})
