/**
 * The real Druid that scripts/druid.sh runs (opt-in suite, npm run test:druid): loads a test's events
 * into a datasource of its own with a native batch task (local file input), and waits until the broker
 * answers queries over all of them.
 */
import {mkdirSync, writeFileSync} from 'node:fs'
import {join, resolve} from 'node:path'
import type {Event} from './druid-sql.js'

const base = Number(process.env.MAU_DRUID_PORT_BASE ?? 18000)
export const DRUID_BROKER_URL = `http://127.0.0.1:${base + 82}`
const OVERLORD_URL = `http://127.0.0.1:${base + 81}`
/** Druid runs on this machine: it reads the events from a file (an inline spec travels through ZooKeeper, which caps it at 512 KB). */
const INGEST_DIR = resolve(`.cache/druid/run-${base}/var/ingest`)

async function json(url: string, init?: RequestInit): Promise<unknown> {
  const res = await fetch(url, {...init, headers: {'Content-Type': 'application/json'}})
  const text = await res.text()
  if (!res.ok) throw new Error(`${init?.method ?? 'GET'} ${url}: HTTP ${res.status} ${text.slice(0, 300)}`)
  return JSON.parse(text)
}

/** Dimensions typed from the values: numbers become long columns, anything else strings. */
function dimensions(events: Event[]): (string | {type: string; name: string})[] {
  const names = [...new Set(events.flatMap((e) => Object.keys(e)))].filter((n) => n !== '__time')
  return names.map((name) => (events.some((e) => typeof e[name] === 'number') ? {type: 'long', name} : name))
}

export async function ingest(datasource: string, events: Event[], timeoutMs = 120_000): Promise<void> {
  mkdirSync(INGEST_DIR, {recursive: true})
  writeFileSync(join(INGEST_DIR, `${datasource}.json`), events.map(({__time, ...rest}) => JSON.stringify({ts: __time, ...rest})).join('\n'))
  const task = {
    type: 'index_parallel',
    spec: {
      dataSchema: {
        dataSource: datasource,
        timestampSpec: {column: 'ts', format: 'millis'},
        dimensionsSpec: {dimensions: dimensions(events)},
        granularitySpec: {segmentGranularity: 'month', queryGranularity: 'none', rollup: false},
      },
      ioConfig: {type: 'index_parallel', inputSource: {type: 'local', baseDir: INGEST_DIR, filter: `${datasource}.json`}, inputFormat: {type: 'json'}},
      tuningConfig: {type: 'index_parallel', maxNumConcurrentSubTasks: 1},
    },
  }
  const {task: id} = (await json(`${OVERLORD_URL}/druid/indexer/v1/task`, {method: 'POST', body: JSON.stringify(task)})) as {task: string}
  const deadline = Date.now() + timeoutMs
  for (;;) {
    const {status} = (await json(`${OVERLORD_URL}/druid/indexer/v1/task/${encodeURIComponent(id)}/status`)) as {status: {status: string; errorMsg?: string}}
    if (status.status === 'SUCCESS') break
    if (status.status === 'FAILED') throw new Error(`Druid ingestion task ${id} failed: ${status.errorMsg}`)
    if (Date.now() > deadline) throw new Error(`Druid ingestion task ${id} still ${status.status} after ${timeoutMs} ms`)
    await new Promise((r) => setTimeout(r, 1000))
  }
  // Segments are published, then loaded by the historical and announced to the broker: wait for all rows.
  for (;;) {
    const rows = (await json(`${DRUID_BROKER_URL}/druid/v2/sql`, {method: 'POST', body: JSON.stringify({query: `SELECT COUNT(*) AS n FROM "${datasource}"`})}).catch(() => [])) as {n: number}[]
    if (rows[0]?.n === events.length) return
    if (Date.now() > deadline) throw new Error(`Druid datasource ${datasource} has ${rows[0]?.n ?? 0} of ${events.length} rows after ${timeoutMs} ms`)
    await new Promise((r) => setTimeout(r, 1000))
  }
}
