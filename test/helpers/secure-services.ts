/**
 * The production-like services of the TLS and SASL tests, started with the project's own scripts: a Kafka
 * broker with SASL_SSL, mutual-TLS and SASL_PLAINTEXT listeners (scripts/kafka.sh, MAU_KAFKA_SECURE=1), and a
 * MariaDB that requires TLS (scripts/mariadb-instance.sh), both with certificates from scripts/certs.sh.
 */
import {execFileSync} from 'node:child_process'
import {join, resolve} from 'node:path'

const root = resolve(import.meta.dirname, '../..')
const run = (cmd: string, args: string[], env: Record<string, string> = {}) =>
  execFileSync(cmd, args, {
    cwd: root,
    env: {...process.env, ...env},
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'pipe'],
  })

export const SECURE_KAFKA_PORT = Number(process.env.MAU_TEST_SECURE_KAFKA_PORT ?? 19092)
/** Where scripts/kafka.sh keeps the secure broker's certificates (the MariaDB below uses the same CA). */
export const CERTS = join(root, `.cache/kafka/run-${SECURE_KAFKA_PORT}/certs`)
export const cert = (name: string): string => join(CERTS, name)

export const secureKafka = {
  plaintext: `127.0.0.1:${SECURE_KAFKA_PORT}`,
  saslSsl: `localhost:${SECURE_KAFKA_PORT + 2}`,
  ssl: `localhost:${SECURE_KAFKA_PORT + 3}`,
  saslPlaintext: `localhost:${SECURE_KAFKA_PORT + 4}`,
  scramPassword: 'mau-scram-secret',
  plainPassword: 'mau-plain-secret',
}

const kafkaEnv = {MAU_KAFKA_PORT: String(SECURE_KAFKA_PORT), MAU_KAFKA_SECURE: '1'}

export function startSecureKafka(): void {
  run('bash', ['scripts/kafka.sh', 'start'], kafkaEnv)
}

export function stopSecureKafka(): void {
  run('bash', ['scripts/kafka.sh', 'stop'], kafkaEnv)
}

/** Changes the SCRAM-SHA-512 password of `mau` on the running broker, with Kafka's own kafka-configs tool. */
export function rotateScramPassword(password: string): void {
  run('java', [
    '-cp',
    join(root, '.cache/kafka/3.9.1/libs/*'),
    'kafka.admin.ConfigCommand',
    '--bootstrap-server',
    secureKafka.plaintext,
    '--alter',
    '--add-config',
    `SCRAM-SHA-512=[password=${password}]`,
    '--entity-type',
    'users',
    '--entity-name',
    'mau',
  ])
}

export const TLS_MARIADB_PORT = 13307
const socket = join(root, '.cache/mariadb-instances/tls/mariadbd.sock')

/** A MariaDB that refuses TCP without TLS, with a database `mau` and a user `mau` that REQUIREs SSL (password `password`). */
export function startTlsMariadb(password: string): {
  url: (host?: string) => string
  sql: (statement: string) => string
} {
  run('bash', ['scripts/certs.sh', CERTS])
  run('bash', [
    'scripts/mariadb-instance.sh',
    'start',
    'tls',
    String(TLS_MARIADB_PORT),
    `--ssl-ca=${cert('ca.pem')}`,
    `--ssl-cert=${cert('server.pem')}`,
    `--ssl-key=${cert('server.key')}`,
    '--require-secure-transport=ON',
  ])
  const sql = (statement: string) =>
    run('mariadb', ['--no-defaults', `--socket=${socket}`, '-uroot', '-N', '-e', statement])
  sql(
    `CREATE DATABASE mau; CREATE USER 'mau'@'%' IDENTIFIED BY '${password}' REQUIRE SSL; GRANT ALL ON mau.* TO 'mau'@'%';`,
  )
  return {url: (host = 'localhost') => `mysql://mau@${host}:${TLS_MARIADB_PORT}/mau`, sql}
}

export function stopTlsMariadb(): void {
  run('bash', ['scripts/mariadb-instance.sh', 'stop', 'tls'])
}
