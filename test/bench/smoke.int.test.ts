/**
 * Every benchmark, run small, so that none can break unnoticed (bench:ingest once read nothing for weeks:
 * its events had fallen out of the retention `db migrate` records). Their figures are not asserted, and go
 * to .cache/bench-smoke, never over the committed bench/results/. bench:backfill needs Druid: its small run
 * is in the Druid suite (test/bench/backfill.druid.test.ts).
 */
import {spawn, spawnSync} from 'node:child_process'
import {existsSync, rmSync} from 'node:fs'
import {afterAll, describe, expect, it} from 'vitest'

const out = '.cache/bench-smoke'
// Its own secured broker (a port no other test uses), so that the security tests' one may stop while this runs.
const secureKafkaPort = '19392'

function bench(name: string, args: string[], report: string): Promise<{code: number | null; stderr: string}> {
  rmSync(`${out}/${report}.md`, {force: true})
  return new Promise((resolve) => {
    const child = spawn('npx', ['tsx', `bench/${name}.ts`, ...args], {
      env: {...process.env, MAU_BENCH_RESULTS: out, MAU_TEST_SECURE_KAFKA_PORT: secureKafkaPort},
    })
    let stderr = ''
    child.stderr.on('data', (d) => (stderr += d))
    child.stdout.resume()
    child.on('close', (code) => resolve({code, stderr}))
  })
}

afterAll(() => {
  spawnSync('bash', ['scripts/kafka.sh', 'stop'], {
    env: {...process.env, MAU_KAFKA_PORT: secureKafkaPort},
    stdio: 'ignore',
  })
})

describe('the benchmarks, run small', () => {
  // [benchmark, its arguments, its report when not named after it]
  it.each<[string, string[], string?]>([
    ['ingest', ['--events', '5000', '--baseline-events', '500']],
    ['ingest', ['--shape', 'users', '--events', '5000', '--baseline-events', '500'], 'ingest-users'],
    ['partitions', ['--rows', '20000']],
    ['count', ['--largest', '20000']],
    ['serve', ['--seconds', '1', '--warm-up', '0', '--largest', '20000']],
    ['in-flight', ['--messages', '5000']],
    ['transport', ['--events', '3000', '--rounds', '1']],
    ['sizing', ['--users', '2000,5000']],
    ['sources', ['--events', '3000']],
  ])(
    'bench:%s %j runs to its report',
    async (name, args, report = name) => {
      const r = await bench(name, args, report)
      expect(r.code, r.stderr.slice(-2000)).toBe(0)
      expect(existsSync(`${out}/${report}.md`)).toBe(true)
    },
    240_000,
  )
})
