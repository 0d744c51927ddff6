import {execFileSync} from 'node:child_process'

/** Starts the real single-machine Druid (idempotent); a Druid that cannot start fails the suite. */
export default function setup(): void {
  try {
    execFileSync('bash', ['scripts/druid.sh', 'start'], {stdio: ['ignore', 'inherit', 'inherit'], timeout: 290_000})
  } catch (error) {
    throw new Error(
      `The Druid suite needs a real Druid, and scripts/druid.sh start failed: ${(error as Error).message}`,
    )
  }
}
