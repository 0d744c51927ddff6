/** The stand-in's own contract: what it accepts, refuses and how it answers, beyond what mau's client sends. */
import {afterAll, beforeAll, describe, expect, it} from 'vitest'
import {druidStandin} from './druid-standin.js'

let standin: Awaited<ReturnType<typeof druidStandin>>
beforeAll(async () => {
  standin = await druidStandin({
    events: [
      {__time: Date.UTC(2022, 11, 1), ns: 'prod', user_id: 'a'},
      {__time: Date.UTC(2022, 11, 2), ns: 'prod', user_id: 'b, "quoted"'},
      {__time: Date.UTC(2022, 11, 3), ns: 'dev', user_id: null},
    ],
  })
})
afterAll(() => standin.close())

const post = async (body: unknown, contentType = 'application/json') => {
  const res = await fetch(`${standin.url}/druid/v2/sql`, {
    method: 'POST',
    headers: {'Content-Type': contentType},
    body: typeof body === 'string' ? body : JSON.stringify(body),
  })
  return {status: res.status, text: await res.text(), queryId: res.headers.get('x-druid-sql-query-id')}
}
const GROUPED = 'SELECT ns, COUNT(user_id) AS users, COUNT(*) AS n FROM events GROUP BY 1 ORDER BY 1'

describe('the Druid stand-in', () => {
  it('echoes the query id and renders timestamps in sqlTimeZone', async () => {
    const r = await post({
      query: 'SELECT MIN(__time) AS t FROM events',
      context: {sqlQueryId: 'q-1', sqlTimeZone: 'Asia/Tokyo'},
    })
    expect(r.queryId).toBe('q-1')
    expect(JSON.parse(r.text)).toEqual([{t: '2022-12-01T09:00:00.000+09:00'}])
  })

  it.each([
    ['a body that is not JSON', '{query:', 400, /the body is not JSON/],
    ['no query', {resultFormat: 'object'}, 400, /Query must be a non-empty string/],
    ['an unknown result format', {query: GROUPED, resultFormat: 'xml'}, 400, /Unknown resultFormat \[xml\]/],
    [
      'a parameter without a type',
      {query: 'SELECT COUNT(*) FROM events WHERE ns = ?', parameters: [{value: 'prod'}]},
      400,
      /unknown or missing type/,
    ],
    ['an unknown time zone', {query: GROUPED, context: {sqlTimeZone: 'Mars/Olympus'}}, 400, /Invalid sqlTimeZone/],
    [
      'an unknown function',
      {query: 'SELECT NO_SUCH_FN(user_id) FROM events'},
      400,
      /No match found for function signature NO_SUCH_FN/,
    ],
  ])('refuses %s in the druidException shape', async (_what, body, status, message) => {
    const r = await post(body)
    expect(r.status).toBe(status)
    expect(JSON.parse(r.text)).toMatchObject({
      error: 'druidException',
      persona: 'USER',
      errorMessage: expect.stringMatching(message),
    })
  })

  it('wants JSON', async () => {
    expect((await post('SELECT 1', 'text/plain')).status).toBe(415)
  })
})
