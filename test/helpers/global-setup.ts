import {execFileSync} from 'node:child_process'

/** Starts MariaDB and Kafka with the same script as the README and CI (idempotent); a failure fails the run. */
export default function setup(): void {
  try {
    execFileSync('bash', ['scripts/services.sh', 'start'], {stdio: ['ignore', 'inherit', 'inherit'], timeout: 170_000})
  } catch (error) {
    throw new Error(`Integration tests need MariaDB and Kafka, and scripts/services.sh start failed: ${(error as Error).message}`)
  }
}
