import {describe, expect, it} from 'vitest'
import {requestedEnvironment, requestedSources} from '../../src/serve/platform.js'

describe('requestedEnvironment', () => {
  it('takes the environment by id (since November 2024) or by namespace (before), and both when they agree', () => {
    expect(requestedEnvironment({environment_id: 'env-7', year_month: '202601'})).toBe('env-7')
    expect(requestedEnvironment({environment_namespace: 'prod'})).toBe('prod')
    expect(requestedEnvironment({environment_namespace: 'prod', environment_id: 'prod'})).toBe('prod')
  })

  it('refuses two that differ, and none, naming the fields', () => {
    expect(() => requestedEnvironment({environment_namespace: 'a', environment_id: 'b'})).toThrow(
      'environment_id "b" and environment_namespace "a" differ: expected one of them, or both the same.',
    )
    expect(() => requestedEnvironment({environment_id: '', environment_namespace: ''})).toThrow(
      /^environment_id \(or environment_namespace\) is required/,
    )
  })
})

describe('requestedSources', () => {
  it('reads SourceId numbers, their digits and names in any case, and refuses a number not known', () => {
    expect(requestedSources([8, '3', 'open_feature_go'])).toEqual(['FLUTTER', 'WEB', 'OPEN_FEATURE_GO'])
    expect(() => requestedSources([107])).toThrow(/^source_id 107 is not a known source number/)
  })
})
