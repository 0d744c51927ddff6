/** bench:backfill, run small against the Druid suite's Druid (see test/bench/smoke.int.test.ts). */
import {spawnSync} from 'node:child_process'
import {existsSync, rmSync} from 'node:fs'
import {expect, it} from 'vitest'

it('bench:backfill runs to its report', () => {
  const out = '.cache/bench-smoke'
  rmSync(`${out}/backfill.md`, {force: true})
  const r = spawnSync('npx', ['tsx', 'bench/backfill.ts', '--events', '5000'], {
    encoding: 'utf8',
    env: {...process.env, MAU_BENCH_RESULTS: out},
  })
  expect(r.status, r.stderr.slice(-2000)).toBe(0)
  expect(existsSync(`${out}/backfill.md`)).toBe(true)
}, 300_000)
