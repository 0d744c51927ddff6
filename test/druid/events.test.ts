import {afterEach, describe, expect, it} from 'vitest'
import {DruidClient} from '../../src/druid/client.js'
import {DruidUserEvents, identifier} from '../../src/druid/events.js'
import {druidStandin} from '../helpers/druid-standin.js'

let standin: Awaited<ReturnType<typeof druidStandin>> | undefined
afterEach(() => standin?.close())

const at = Date.UTC(2022, 11, 5)
const december = {from: Date.UTC(2022, 11, 1), to: Date.UTC(2023, 0, 1)}
const schema = {
  datasource: 'user_events',
  userColumn: 'user_id',
  namespaceColumn: 'environment_namespace',
  sourceColumn: 'source_id',
}
const open = async (datasource: string, rows: Record<string, string | number | null>[]) => {
  standin = await druidStandin({[datasource]: rows.map((r) => ({__time: at, ...r}))})
  return new DruidClient({url: standin.url, timeoutMs: 5_000})
}

describe('DruidUserEvents', () => {
  it('counts a source given as a number, a name or in lower case as the consumer does', async () => {
    const druid = await open('user_events', [
      {environment_namespace: 'prod', user_id: 'a', source_id: '2'},
      {environment_namespace: 'prod', user_id: 'b', source_id: 'ios'},
      {environment_namespace: 'prod', user_id: 'a', source_id: 'IOS'},
      {environment_namespace: 'prod', user_id: 'c', source_id: '3'},
    ])
    const counts = await new DruidUserEvents(druid, schema, {useApproximateCountDistinct: false}).counts(december)
    expect(counts.perSource).toEqual([
      {environment_namespace: 'prod', source_id: 'IOS', users: 2, events: 3},
      {environment_namespace: 'prod', source_id: 'WEB', users: 1, events: 1},
    ])
  })

  it('reads the environment as the consumer does: environment_id when non-empty, else the namespace, and every SDK source', async () => {
    const druid = await open('renamed', [
      {environment_id: 'env-7', environment_namespace: '', user_id: 'a', source_id: '8'},
      {environment_id: 'env-7', environment_namespace: null, user_id: 'b', source_id: 'OPEN_FEATURE_GO'},
      {environment_id: '', environment_namespace: 'env-7', user_id: 'c', source_id: '106'},
      {environment_id: null, environment_namespace: 'old', user_id: 'a', source_id: '8'},
    ])
    const counts = await new DruidUserEvents(
      druid,
      {...schema, datasource: 'renamed', environmentIdColumn: 'environment_id'},
      {useApproximateCountDistinct: false},
    ).counts(december)
    expect(counts.perSource).toEqual([
      {environment_namespace: 'env-7', source_id: 'FLUTTER', users: 1, events: 1},
      {environment_namespace: 'env-7', source_id: 'OPEN_FEATURE_GO', users: 1, events: 1},
      {environment_namespace: 'env-7', source_id: 'OPEN_FEATURE_REACT_NATIVE', users: 1, events: 1},
      {environment_namespace: 'old', source_id: 'FLUTTER', users: 1, events: 1},
    ])
  })

  it("sums a rolled-up datasource's count column for events", async () => {
    const druid = await open('rolled_up', [
      {environment_namespace: 'prod', user_id: 'a', source_id: 'IOS', n: 5},
      {environment_namespace: 'prod', user_id: 'b', source_id: 'IOS', n: 2},
    ])
    const events = new DruidUserEvents(
      druid,
      {...schema, datasource: 'rolled_up', eventsColumn: 'n'},
      {useApproximateCountDistinct: false},
    )
    expect((await events.counts(december)).perEnvironment).toEqual([
      {environment_namespace: 'prod', source_id: '', users: 2, events: 7},
    ])
    expect(await events.userAggregates(december, 'prod', {limit: 10})).toEqual([
      {source_id: 'IOS', user_id: 'a', events: 5, first_ms: at, last_ms: at},
      {source_id: 'IOS', user_id: 'b', events: 2, first_ms: at, last_ms: at},
    ])
  })

  it('pages per-user aggregates by source, then user, and reads a missing source as UNKNOWN', async () => {
    const druid = await open('user_events', [
      {environment_namespace: 'prod', user_id: 'b', source_id: 'WEB'},
      {environment_namespace: 'prod', user_id: 'a', source_id: 'WEB'},
      {environment_namespace: 'prod', user_id: 'c', source_id: '1'},
      {environment_namespace: 'prod', user_id: 'a', source_id: null},
    ])
    const events = new DruidUserEvents(druid, schema, {useApproximateCountDistinct: false})
    const pages: string[][] = []
    for (let after: {source_id: string; user_id: string} | undefined; ;) {
      const page = await events.userAggregates(december, 'prod', {after, limit: 2})
      pages.push(page.map((r) => `${r.source_id}/${r.user_id}`))
      if (page.length < 2) break
      after = page.at(-1)
    }
    expect(pages).toEqual([['ANDROID/c', 'UNKNOWN/a'], ['WEB/a', 'WEB/b'], []])
  })

  it('quotes datasource and column names as identifiers', async () => {
    expect(identifier('user"events')).toBe('"user""events"')
    const druid = await open('user"events', [{'environment namespace': 'prod', user_id: 'a', source_id: 'WEB'}])
    const events = new DruidUserEvents(
      druid,
      {...schema, datasource: 'user"events', namespaceColumn: 'environment namespace'},
      {useApproximateCountDistinct: false},
    )
    expect((await events.counts(december, ['prod'])).perEnvironment).toEqual([
      {environment_namespace: 'prod', source_id: '', users: 1, events: 1},
    ])
  })
})
