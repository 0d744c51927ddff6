/**
 * The CLI in a terminal that reports no width (`stty size` 0 0, as some CI and `kubectl exec` sessions do):
 * a spinner there used to redraw without end (megabytes a second) and never finish.
 */
import {spawnSync} from 'node:child_process'
import {afterAll, beforeAll, describe, expect, it} from 'vitest'
import {createTestDatabase, createTopic, type TestDatabase} from '../fixtures/services.js'

let db: TestDatabase
let topic: {topic: string; drop: () => Promise<void>}
beforeAll(async () => {
  db = await createTestDatabase({migrated: true})
  topic = await createTopic(1)
})
afterAll(async () => {
  await topic.drop()
  await db.drop()
})

/** Runs the built CLI at a pseudo-terminal of the given size, under script(1). */
function atTerminal(
  size: string,
  args: string,
  extra: Record<string, string> = {},
): {status: number | null; output: string; ms: number} {
  const started = Date.now()
  // Without CI in the environment: the CLI draws nothing for a CI job, and this is about a person's terminal.
  const {CI: _ci, ...env} = process.env
  const r = spawnSync('script', ['-qec', `stty ${size}; node bin/run.js ${args}`, '/dev/null'], {
    encoding: 'utf8',
    timeout: 30_000,
    env: {...env, MAU_MYSQL_URL: db.url, MAU_KAFKA_TOPICS: topic.topic, ...extra},
  })
  return {status: r.status, output: r.stdout, ms: Date.now() - started}
}

describe('at a terminal of width 0', () => {
  it.each([
    'count',
    'count --last 3',
    'count --scan',
    'summary check',
    'summary rebuild --month 202212',
    'deadletter replay',
    'doctor',
  ])('mau %s finishes within seconds and writes no spinner frames', (args) => {
    const r = atTerminal('cols 0 rows 0', args)
    expect(r.status).toBe(0)
    expect(r.ms).toBeLessThan(15_000)
    expect(r.output.length).toBeLessThan(5_000)
    expect(r.output).not.toContain('\u001b[1A')
  })

  it('a terminal with a width still gets the spinner, and no line of it is left behind', () => {
    const r = atTerminal('cols 100 rows 40', 'count')
    expect(r.status).toBe(0)
    expect(r.output).toContain('Counting')
    expect(r.output).not.toContain('✔')
  })

  it('a CI job at a terminal gets no spinner, nor a static spinner line', () => {
    const r = atTerminal('cols 100 rows 40', 'count', {CI: 'true'})
    expect(r.status).toBe(0)
    expect(r.output).not.toContain('Counting')
  })

  it('a range of months gets its chart at a terminal, fitted to the width, and none with --no-chart', () => {
    const r = atTerminal('cols 70 rows 40', 'count --last 4')
    expect(r.status).toBe(0)
    expect(r.output).toContain('Users per month')
    for (const line of r.output.split(/\r?\n/))
      expect(line.replace(/\u001b\[[0-9;?]*[A-Za-z]/g, '').length).toBeLessThanOrEqual(70)
    expect(atTerminal('cols 70 rows 40', 'count --last 4 --no-chart').output).not.toContain('Users per month')
  })
})
