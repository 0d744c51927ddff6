import {execFileSync} from 'node:child_process'
import {MYSQL_ROOT_URL} from '../fixtures/services.js'

const services = (action: string, ...more: string[]) =>
  execFileSync('bash', ['scripts/services.sh', action, ...more], {
    // mariadb.sh starts mau's own MariaDB for this URL, or only creates its database on another server.
    env: {...process.env, MAU_MYSQL_URL: MYSQL_ROOT_URL},
    stdio: ['ignore', 'inherit', 'inherit'],
    timeout: 170_000,
  })

/**
 * Starts mau's own MariaDB, Kafka and Prometheus's tools with the same script as the demo and CI (idempotent);
 * a failure fails the run. They stay up for the next run (and for parallel runs sharing .cache/), and the
 * teardown says so and how to stop them.
 */
export default function setup(): () => void {
  try {
    services('start', '--tests')
  } catch (error) {
    throw new Error(
      `Integration tests need MariaDB and Kafka, and scripts/services.sh start failed: ${(error as Error).message}`,
    )
  }
  return () => {
    process.stderr.write('\nLeft running for the next run (npm run services:stop stops what mau started):\n')
    try {
      services('status')
    } catch {
      // status exits 3 when a service is down: its lines already say which.
    }
  }
}
