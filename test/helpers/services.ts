/**
 * Real services for integration tests. Each test gets its own database and topics (random names), so
 * runs and parallel files never collide; nothing here skips: a missing service is a failing test.
 */
import {randomBytes} from 'node:crypto'
import mysql from 'mysql2/promise'
import {Kafka, logLevel, type Admin} from 'kafkajs'
import {resolveMysql, type MysqlSettings} from '../../src/config.js'
import {readdirSync} from 'node:fs'
import {MIGRATIONS_DIR, migrate} from '../../src/migrate.js'

export const MYSQL_ROOT_URL = process.env.MAU_TEST_MYSQL_URL ?? 'mysql://root@127.0.0.1:3306/test'
export const KAFKA_BROKERS = (process.env.MAU_TEST_KAFKA_BROKERS ?? '127.0.0.1:9092').split(',')

/** The versions of the migration files shipped in migrations/, in order. */
export const MIGRATION_VERSIONS = readdirSync(MIGRATIONS_DIR)
  .filter((f) => /^\d+\.do\..*\.sql$/.test(f))
  .map((f) => Number(f.split('.')[0]))
  .sort((a, b) => a - b)
export const LATEST_VERSION = MIGRATION_VERSIONS.at(-1)!

export const uniqueName = (prefix: string): string => `${prefix}_${Date.now().toString(36)}_${randomBytes(3).toString('hex')}`

export interface TestDatabase {
  settings: MysqlSettings
  url: string
  drop: () => Promise<void>
}

/** A new, empty database of its own; with `migrated`, the schema is applied (UTC months). */
export async function createTestDatabase(opts: {migrated?: boolean} = {}): Promise<TestDatabase> {
  const root = resolveMysql(MYSQL_ROOT_URL)
  const name = uniqueName('mau_test')
  let conn
  try {
    conn = await mysql.createConnection({host: root.host, port: root.port, user: root.user, password: root.password})
  } catch (error) {
    throw new Error(`MariaDB is not reachable at ${root.display} (${(error as Error).message}); run npm run services:start`)
  }
  await conn.query(`CREATE DATABASE \`${name}\``)
  await conn.end()
  const url = MYSQL_ROOT_URL.replace(/\/[^/]*$/, `/${name}`)
  if (opts.migrated) await migrate(resolveMysql(url))
  return {
    settings: resolveMysql(url),
    url,
    async drop() {
      const c = await mysql.createConnection({host: root.host, port: root.port, user: root.user, password: root.password})
      await c.query(`DROP DATABASE IF EXISTS \`${name}\``)
      await c.end()
    },
  }
}

export function kafka(clientId = 'mau-test'): Kafka {
  return new Kafka({clientId, brokers: KAFKA_BROKERS, logLevel: logLevel.NOTHING, retry: {retries: 3}})
}

export async function connectAdmin(): Promise<Admin> {
  const admin = kafka('mau-test-admin').admin()
  try {
    await admin.connect()
  } catch (error) {
    throw new Error(`Kafka is not reachable at ${KAFKA_BROKERS.join(',')} (${(error as Error).message}); run npm run services:start`)
  }
  return admin
}

/** A consumer group of one topic only: kafkajs spreads all of a group's topics over all its members (see consumeAll). */
export const groupOf = (topic: string, suffix = 'group'): string => `${topic}-${suffix}`

export async function createTopic(partitions = 1): Promise<{topic: string; drop: () => Promise<void>}> {
  const admin = await connectAdmin()
  const topic = uniqueName('mau-test').replace(/_/g, '-')
  await admin.createTopics({topics: [{topic, numPartitions: partitions}], waitForLeaders: true})
  await admin.disconnect()
  return {
    topic,
    async drop() {
      const a = await connectAdmin()
      await a.deleteTopics({topics: [topic]}).catch(() => undefined)
      await a.disconnect()
    },
  }
}
