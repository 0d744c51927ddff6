/**
 * The dashboard against a real Prometheus (Debian's package) that scrapes a running `mau consume
 * --metrics-port` and a running `mau serve`: every panel's expression returns data, the alert rules load
 * into it, and the server's alerts read series it really exports.
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
import {startServe, type Running} from '../fixtures/serve.js'
import {exited} from '../helpers/child.js'
import {render} from './manifests.js'

const freePort = () =>
  new Promise<number>((resolve) => {
    const s = createServer().listen(0, '127.0.0.1', () => {
      const {port} = s.address() as {port: number}
      s.close(() => resolve(port))
    })
  })
const until = async (what: string, check: () => Promise<boolean>, ms = 60_000) => {
  for (const end = Date.now() + ms; Date.now() < end; await new Promise((r) => setTimeout(r, 500)))
    if (await check().catch(() => false)) return
  throw new Error(`timed out waiting for ${what}`)
}

let db: TestDatabase
let topic: {topic: string; drop: () => Promise<void>}
let consumer: ChildProcess
let prometheus: ChildProcess
let served: Running
let promUrl = ''
const query = async (expr: string) =>
  (await (await fetch(`${promUrl}/api/v1/query?query=${encodeURIComponent(expr)}`)).json()) as {
    status: string
    data: {result: unknown[]}
    error?: string
  }

beforeAll(async () => {
  db = await createTestDatabase({migrated: true})
  topic = await createTopic(2)
  await produceSample(topic.topic, 2, {events: 20_000, namespaces: 3})
  const [metricsPort, promPort] = [await freePort(), await freePort()]
  consumer = spawn(
    'node',
    [
      'bin/run.js',
      'consume',
      '--topic',
      topic.topic,
      '--group',
      groupOf(topic.topic),
      '--metrics-port',
      String(metricsPort),
      '--batch-size',
      '500',
    ],
    {
      env: {...process.env, MAU_MYSQL_URL: db.url},
      stdio: 'ignore',
    },
  )
  served = await startServe({MAU_MYSQL_URL: db.url})
  // A first answer makes the series exist, so that Prometheus sees the later ones as an increase.
  expect((await served.http('/v1/mau?month=202212')).status).toBe(200)
  const dir = mkdtempSync(join(tmpdir(), 'mau-prometheus-'))
  const rules = render('deploy/monitoring').find((o) => o.kind === 'PrometheusRule')!
  writeFileSync(join(dir, 'rules.yaml'), stringify({groups: rules.spec!.groups}))
  writeFileSync(
    join(dir, 'prometheus.yml'),
    stringify({
      global: {scrape_interval: '1s', evaluation_interval: '1s'},
      rule_files: [join(dir, 'rules.yaml')],
      scrape_configs: [
        {
          job_name: 'mau-consume',
          static_configs: [
            {targets: [`127.0.0.1:${metricsPort}`], labels: {container: 'consume', pod: 'mau-consume-test'}},
          ],
        },
        {
          job_name: 'mau-serve',
          static_configs: [
            {targets: [`127.0.0.1:${served.httpPort}`], labels: {container: 'serve', pod: 'mau-serve-test'}},
          ],
        },
      ],
    }),
  )
  prometheus = spawn(
    'prometheus',
    [
      `--config.file=${join(dir, 'prometheus.yml')}`,
      `--storage.tsdb.path=${join(dir, 'data')}`,
      `--web.listen-address=127.0.0.1:${promPort}`,
    ],
    {stdio: 'ignore'},
  )
  promUrl = `http://127.0.0.1:${promPort}`
  await until(
    'Prometheus to scrape the consumer',
    async () => (await query('up{container="consume"} == 1')).data.result.length > 0,
  )
  await until(
    'the consumer to commit its batches',
    async () => (await query('sum(mau_events_consumed_total) >= 20000')).data.result.length > 0,
  )
  // Requests the server answers while Prometheus watches.
  await until(
    'Prometheus to scrape the server',
    async () => (await query('mau_serve_requests_total{code="OK"} >= 1')).data.result.length > 0,
  )
  for (let i = 0; i < 20; i++) expect((await served.http('/v1/mau?month=202212')).status).toBe(200)
  // Set aside while Prometheus watches, so that the dead-letter counter's step is seen.
  await produce(topic.topic, ['{"not": "an event"}', 'not json'])
  await until(
    'the dead letters to be counted',
    async () => (await query('sum(mau_events_dead_lettered_total) >= 2')).data.result.length > 0,
  )
  // rate() over the dashboard's window wants a few samples after the work.
  await new Promise((r) => setTimeout(r, 6_000))
}, 180_000)
afterAll(async () => {
  await served?.stop()
  for (const child of [consumer, prometheus]) {
    if (!child) continue
    child.kill('SIGTERM')
    await exited(child)
  }
  await topic?.drop()
  await db?.drop()
})

describe('the Grafana dashboard on a real Prometheus', () => {
  const dashboard = JSON.parse(readFileSync('deploy/monitoring/mau-dashboard.json', 'utf8')) as {
    panels: {title: string; targets: {expr: string}[]}[]
  }
  const targets = dashboard.panels.flatMap((p) =>
    p.targets.map((t) => ({title: p.title, expr: t.expr.replaceAll('$__rate_interval', '30s')})),
  )

  it.each(targets)('$title: $expr returns a series', async ({expr}) => {
    const r = await query(expr)
    expect(r.status).toBe('success')
    expect(r.data.result.length).toBeGreaterThan(0)
  })

  it('loads the alert rules, and none of them fires for a healthy consumer', async () => {
    const rules = (await (await fetch(`${promUrl}/api/v1/rules`)).json()) as {
      data: {groups: {rules: {name: string; health: string; state: string}[]}[]}
    }
    const all = rules.data.groups.flatMap((g) => g.rules)
    expect(all.map((r) => r.name).sort()).toEqual([
      'MauConsumerDown',
      'MauConsumerLagGrowing',
      'MauConsumerRewound',
      'MauConsumerStalled',
      'MauCronJobFailed',
      'MauCronJobNotSucceeded',
      'MauDeadLetters',
      'MauDoubleWriteCheckFailed',
      'MauMessagesLost',
      'MauMySQLRetries',
      'MauNextMonthPartitionMissing',
      'MauServeErrors',
      'MauServeNoReadyReplica',
      'MauServeSlow',
    ])
    expect(all.filter((r) => r.health !== 'ok')).toEqual([])
    // The two malformed events make MauDeadLetters fire: that one is the consumer telling the truth.
    expect(all.filter((r) => r.state === 'firing').map((r) => r.name)).toEqual(['MauDeadLetters'])
  })

  it("has the server's alerts read what mau serve exports: its answers by code, its latency by API", async () => {
    const rules = render('deploy/monitoring').find((o) => o.kind === 'PrometheusRule')!.spec!.groups as {
      rules: {alert: string; expr: string}[]
    }[]
    const exprOf = (alert: string) => rules.flatMap((g) => g.rules).find((r) => r.alert === alert)!.expr
    // A healthy server: every answer OK, so the error ratio has requests to divide by and no error in them.
    const codes = await query('sum by (code) (mau_serve_requests_total{api="http"})')
    expect((codes.data.result as {metric: {code: string}}[]).map((r) => r.metric.code)).toEqual(['OK'])
    const [errors, requests] = exprOf('MauServeErrors')
      .replace(/ > [\d.]+$/, '')
      .replaceAll('[5m]', '[1m]')
      .split(' / ') as [string, string]
    expect((await query(requests)).data.result).toMatchObject([
      {value: [expect.any(Number), expect.stringMatching(/^[1-9]|^0\.\d*[1-9]/)]},
    ])
    expect(await query(errors)).toMatchObject({status: 'success', data: {result: []}})
    const p99 = exprOf('MauServeSlow')
      .replace(/ > [\d.]+$/, '')
      .replaceAll('[5m]', '[1m]')
    const latency = (await query(p99)).data.result as {metric: {api: string}; value: [number, string]}[]
    expect(latency.map((r) => r.metric.api)).toContain('http')
    expect(Number(latency.find((r) => r.metric.api === 'http')!.value[1])).toBeLessThan(0.25)
  })
})
