/** The alert rules through promtool (Debian's prometheus package): they load, and each fires and clears as intended. */
import {execFileSync} from 'node:child_process'
import {copyFileSync, mkdtempSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {describe, expect, it} from 'vitest'
import {stringify} from 'yaml'
import {render} from './manifests.js'

const rule = render('deploy/monitoring').find((o) => o.kind === 'PrometheusRule')!
const promtool = (args: string[], cwd: string) => {
  try {
    return {code: 0, out: execFileSync('promtool', args, {cwd, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe']})}
  } catch (error) {
    const e = error as {status: number; stdout: string; stderr: string}
    return {code: e.status, out: `${e.stdout}${e.stderr}`}
  }
}

/** The PrometheusRule's groups as a plain rules file, beside a copy of the rule tests. */
function workspace(groups: unknown): string {
  const dir = mkdtempSync(join(tmpdir(), 'mau-rules-'))
  writeFileSync(join(dir, 'rules.generated.yaml'), stringify({groups}))
  copyFileSync('deploy/monitoring/tests/alerts.test.yaml', join(dir, 'alerts.test.yaml'))
  return dir
}

describe('deploy/monitoring rules', () => {
  it('pass promtool check rules', () => {
    const dir = workspace(rule.spec!.groups)
    const r = promtool(['check', 'rules', 'rules.generated.yaml'], dir)
    expect(r.out).toMatch(/SUCCESS: 11 rules found/)
    expect(r.code).toBe(0)
  })

  it('fire and clear as the rule tests say, for every alert', () => {
    const names = (rule.spec!.groups as {rules: {alert: string}[]}[]).flatMap((g) => g.rules.map((r) => r.alert))
    const tests = execFileSync('cat', ['deploy/monitoring/tests/alerts.test.yaml'], {encoding: 'utf8'})
    for (const name of names) expect(tests).toContain(`alertname: ${name}`)
    const r = promtool(['test', 'rules', 'alerts.test.yaml'], workspace(rule.spec!.groups))
    expect(r.out).toMatch(/SUCCESS/)
    expect(r.code).toBe(0)
  })

  it('fail the rule tests when an alert is broken', () => {
    const groups = structuredClone(rule.spec!.groups) as {rules: {alert: string; expr: string}[]}[]
    groups[0]!.rules.find((r) => r.alert === 'MauDeadLetters')!.expr = 'sum by (topic, reason) (increase(mau_events_dead_lettered_total[15m])) > 100'
    const r = promtool(['test', 'rules', 'alerts.test.yaml'], workspace(groups))
    expect(r.code).not.toBe(0)
    expect(r.out).toMatch(/MauDeadLetters/)
  })
})
