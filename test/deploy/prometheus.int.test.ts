/**
 * The dashboard against a real Prometheus (Debian's package) that scrapes a running `mau consume
 * --metrics-port`: every panel's expression returns data, and the alert rules load into it.
 */
import {spawn, type ChildProcess} from 'node:child_process'
import {mkdtempSync, readFileSync, writeFileSync} from 'node:fs'
import {createServer} from 'node:net'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {afterAll, beforeAll, describe, expect, it} from 'vitest'
import {stringify} from 'yaml'
import {produce, produceSample} from '../fixtures/mau.js'
import {createTestDatabase, createTopic, groupOf, type TestDatabase} from '../fixtures/services.js'
import {exited} from '../helpers/child.js'
import {render} from './manifests.js'

const freePort = () => new Promise<number>((resolve) => {
  const s = createServer().listen(0, '127.0.0.1', () => {
    const {port} = s.address() as {port: number}
    s.close(() => resolve(port))
  })
})
const until = async (what: string, check: () => Promise<boolean>, ms = 60_000) => {
  for (const end = Date.now() + ms; Date.now() < end; await new Promise((r) => setTimeout(r, 500))) if (await check().catch(() => false)) return
  throw new Error(`timed out waiting for ${what}`)
}

let db: TestDatabase
let topic: {topic: string; drop: () => Promise<void>}
let consumer: ChildProcess
let prometheus: ChildProcess
let promUrl = ''
const query = async (expr: string) => (await (await fetch(`${promUrl}/api/v1/query?query=${encodeURIComponent(expr)}`)).json()) as {status: string; data: {result: unknown[]}; error?: string}

beforeAll(async () => {
  db = await createTestDatabase({migrated: true})
  topic = await createTopic(2)
  await produceSample(topic.topic, 2, {events: 20_000, namespaces: 3})
  const [metricsPort, promPort] = [await freePort(), await freePort()]
  consumer = spawn('node', ['bin/run.js', 'consume', '--topic', topic.topic, '--group', groupOf(topic.topic), '--metrics-port', String(metricsPort), '--batch-size', '500'], {
    env: {...process.env, MAU_MYSQL_URL: db.url},
    stdio: 'ignore',
  })
  const dir = mkdtempSync(join(tmpdir(), 'mau-prometheus-'))
  const rules = render('deploy/monitoring').find((o) => o.kind === 'PrometheusRule')!
  writeFileSync(join(dir, 'rules.yaml'), stringify({groups: rules.spec!.groups}))
  writeFileSync(join(dir, 'prometheus.yml'), stringify({
    global: {scrape_interval: '1s', evaluation_interval: '1s'},
    rule_files: [join(dir, 'rules.yaml')],
    scrape_configs: [{job_name: 'mau-consume', static_configs: [{targets: [`127.0.0.1:${metricsPort}`], labels: {container: 'consume', pod: 'mau-consume-test'}}]}],
  }))
  prometheus = spawn('prometheus', [`--config.file=${join(dir, 'prometheus.yml')}`, `--storage.tsdb.path=${join(dir, 'data')}`, `--web.listen-address=127.0.0.1:${promPort}`], {stdio: 'ignore'})
  promUrl = `http://127.0.0.1:${promPort}`
  await until('Prometheus to scrape the consumer', async () => ((await query('up{container="consume"} == 1')).data.result.length > 0))
  await until('the consumer to commit its batches', async () => ((await query('sum(mau_events_consumed_total) >= 20000')).data.result.length > 0))
  // Set aside while Prometheus watches, so that the dead-letter counter's step is seen.
  await produce(topic.topic, ['{"not": "an event"}', 'not json'])
  await until('the dead letters to be counted', async () => ((await query('sum(mau_events_dead_lettered_total) >= 2')).data.result.length > 0))
  // rate() over the dashboard's window wants a few samples after the work.
  await new Promise((r) => setTimeout(r, 6_000))
}, 180_000)
afterAll(async () => {
  for (const child of [consumer, prometheus]) {
    if (!child) continue
    child.kill('SIGTERM')
    await exited(child)
  }
  await topic?.drop()
  await db?.drop()
})

describe('the Grafana dashboard on a real Prometheus', () => {
  const dashboard = JSON.parse(readFileSync('deploy/monitoring/mau-dashboard.json', 'utf8')) as {panels: {title: string; targets: {expr: string}[]}[]}
  const targets = dashboard.panels.flatMap((p) => p.targets.map((t) => ({title: p.title, expr: t.expr.replaceAll('$__rate_interval', '30s')})))

  it.each(targets)('$title: $expr returns a series', async ({expr}) => {
    const r = await query(expr)
    expect(r.status).toBe('success')
    expect(r.data.result.length).toBeGreaterThan(0)
  })

  it('loads the alert rules, and none of them fires for a healthy consumer', async () => {
    const rules = (await (await fetch(`${promUrl}/api/v1/rules`)).json()) as {data: {groups: {rules: {name: string; health: string; state: string}[]}[]}}
    const all = rules.data.groups.flatMap((g) => g.rules)
    expect(all.map((r) => r.name).sort()).toEqual(['MauConsumerDown', 'MauConsumerLagGrowing', 'MauConsumerRewound', 'MauConsumerStalled', 'MauCronJobFailed', 'MauCronJobNotSucceeded', 'MauDeadLetters', 'MauDoubleWriteCheckFailed', 'MauMessagesLost', 'MauMySQLRetries', 'MauNextMonthPartitionMissing'])
    expect(all.filter((r) => r.health !== 'ok')).toEqual([])
    // The two malformed events make MauDeadLetters fire: that one is the consumer telling the truth.
    expect(all.filter((r) => r.state === 'firing').map((r) => r.name)).toEqual(['MauDeadLetters'])
  })
})
