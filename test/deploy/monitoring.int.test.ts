/** The alert rules through promtool (Debian's prometheus package): they load, and each fires and clears as intended. */
import {execFileSync} from 'node:child_process'
import {copyFileSync, mkdtempSync, readFileSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {describe, expect, it} from 'vitest'
import {parse, stringify} from 'yaml'
import {HTTP_STATUS} from '../../src/serve/guard.js'
import {ServeMetrics} from '../../src/serve/metrics.js'
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

/** The PrometheusRule's groups as a plain rules file, beside a copy of the rule tests (only those that test `alert`, if given). */
function workspace(groups: unknown, alert?: string): string {
  const dir = mkdtempSync(join(tmpdir(), 'mau-rules-'))
  writeFileSync(join(dir, 'rules.generated.yaml'), stringify({groups}))
  if (!alert) copyFileSync('deploy/monitoring/tests/alerts.test.yaml', join(dir, 'alerts.test.yaml'))
  else {
    const file = parse(readFileSync('deploy/monitoring/tests/alerts.test.yaml', 'utf8')) as {
      tests: {alert_rule_test: {alertname: string}[]}[]
    }
    file.tests = file.tests.filter((t) => t.alert_rule_test.some((a) => a.alertname === alert))
    writeFileSync(join(dir, 'alerts.test.yaml'), stringify(file))
  }
  return dir
}

describe('deploy/monitoring rules', () => {
  it('pass promtool check rules', () => {
    const dir = workspace(rule.spec!.groups)
    const r = promtool(['check', 'rules', 'rules.generated.yaml'], dir)
    expect(r.out).toMatch(/SUCCESS: 14 rules found/)
    expect(r.code).toBe(0)
  })

  it('fire and clear as the rule tests say, for every alert', () => {
    const names = (rule.spec!.groups as {rules: {alert: string}[]}[]).flatMap((g) => g.rules.map((r) => r.alert))
    const tests = readFileSync('deploy/monitoring/tests/alerts.test.yaml', 'utf8')
    for (const name of names) expect(tests).toContain(`alertname: ${name}`)
    const r = promtool(['test', 'rules', 'alerts.test.yaml'], workspace(rule.spec!.groups))
    expect(r.out).toMatch(/SUCCESS/)
    expect(r.code).toBe(0)
  })

  type Groups = {name: string; rules: {alert: string; expr: string}[]}[]
  const broken = (alert: string, edit: (expr: string) => string) => {
    const groups = structuredClone(rule.spec!.groups) as Groups
    const r = groups.flatMap((g) => g.rules).find((x) => x.alert === alert)!
    const expr = edit(r.expr)
    expect(expr).not.toBe(r.expr)
    r.expr = expr
    return promtool(['test', 'rules', 'alerts.test.yaml'], workspace(groups, alert))
  }

  it.each([
    ['MauDeadLetters', () => 'sum by (topic, reason) (increase(mau_events_dead_lettered_total[15m])) > 100'],
    // Without the suspension, MauCronJobNotSucceeded fires for ever after the migration's last step.
    ['MauCronJobNotSucceeded', (e: string) => e.replace(/\s*unless on \(namespace, cronjob\)[^\n]*$/, '')],
    ['MauCronJobFailed', (e: string) => e.replace(/\s*unless on \(namespace, cronjob\)[^\n]*$/, '')],
    ['MauDoubleWriteCheckFailed', (e: string) => e.replace(/\s*unless on \(namespace\)[^\n]*$/, '')],
    // Counting the callers' own bad requests as the server's errors.
    ['MauServeErrors', (e: string) => e.replace('code!~"OK|INVALID_ARGUMENT|NOT_FOUND|UNAUTHENTICATED"', 'code!="OK"')],
    ['MauServeNoReadyReplica', (e: string) => e.replace(/\s*and on \(namespace, deployment\)[^\n]*$/, '')],
  ] as [string, (e: string) => string][])('fail the rule tests when %s is broken', (alert, edit) => {
    const r = broken(alert, edit)
    expect(r.code).not.toBe(0)
    expect(r.out).toMatch(new RegExp(`alertname: ${alert}`))
  })

  it('link every alert to its runbook in deploy/README.md', () => {
    const headings = new Set(
      [...readFileSync('deploy/README.md', 'utf8').matchAll(/^### (\w+)$/gm)].map(
        (m) => `deploy/README.md#${m[1]!.toLowerCase()}`,
      ),
    )
    const alerts = (rule.spec!.groups as {rules: {alert: string; annotations: {runbook: string}}[]}[]).flatMap(
      (g) => g.rules,
    )
    for (const a of alerts)
      expect([a.alert, a.annotations.runbook]).toEqual([a.alert, `deploy/README.md#${a.alert.toLowerCase()}`])
    for (const a of alerts) expect([a.alert, headings.has(a.annotations.runbook)]).toEqual([a.alert, true])
  })

  it('name only the series and answer codes mau serve exports', async () => {
    const metrics = new ServeMetrics()
    metrics.requests.inc({api: 'grpc', method: 'GetMAUCount', code: 'OK'})
    metrics.seconds.observe({api: 'grpc', method: 'GetMAUCount'}, 0.01)
    const exported = new Set(
      (await metrics.registry.metrics())
        .split('\n')
        .filter((l) => l.startsWith('mau_serve_'))
        .map((l) => l.replace(/[{ ].*/, '')),
    )
    const serve = (rule.spec!.groups as Groups).find((g) => g.name === 'mau-serve')!.rules
    const named = serve.flatMap((r) => r.expr.match(/\bmau_serve_\w+/g) ?? [])
    expect(named.length).toBeGreaterThan(0)
    for (const name of named) expect([name, exported.has(name)]).toEqual([name, true])
    const excluded = serve.flatMap((r) => /code!~"([^"]+)"/.exec(r.expr)?.[1]?.split('|') ?? [])
    expect(excluded).toEqual(['OK', 'INVALID_ARGUMENT', 'NOT_FOUND', 'UNAUTHENTICATED'])
    for (const code of excluded) expect(['OK', ...Object.keys(HTTP_STATUS)]).toContain(code)
  })
})
