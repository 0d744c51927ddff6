import {describe, expect, it} from 'vitest'
import {planReset} from '../../src/ingest/reset.js'

const p = {topic: 't', partition: 0, low: 100, high: 1_000}

describe('planReset', () => {
  it('says how many messages moving back applies again', () => {
    expect(planReset({...p, stored: 700}, {to: 'earliest'})).toMatchObject({
      next: 100,
      applyAgain: 600,
      skip: 0,
      pastEnd: false,
    })
  })

  it('says how many messages moving forward skips', () => {
    expect(planReset({...p, stored: 700}, {to: 'latest'})).toMatchObject({next: 1_000, applyAgain: 0, skip: 300})
    expect(planReset({...p, stored: null}, {to: 'latest'})).toMatchObject({next: 1_000, applyAgain: 0, skip: 900})
  })

  it('applies nothing again on a recreated topic: the stored offset lay past the end, the messages now there were never applied', () => {
    expect(planReset({...p, low: 0, high: 1_500, stored: 200_201}, {to: 'earliest'})).toMatchObject({
      next: 0,
      applyAgain: 0,
      skip: 0,
      pastEnd: true,
    })
  })

  it('moves to the first offset at an instant, within the log; to the end when nothing is that recent', () => {
    expect(planReset({...p, stored: 700, atTime: 400}, {to: 'time', at: 0})).toMatchObject({next: 400, applyAgain: 300})
    expect(planReset({...p, stored: 700, atTime: 20}, {to: 'time', at: 0})).toMatchObject({next: 100})
    expect(planReset({...p, stored: 700, atTime: -1}, {to: 'time', at: 0})).toMatchObject({next: 1_000, skip: 300})
  })
})
