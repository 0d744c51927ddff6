import {describe, expect, it} from 'vitest'
import {resolveMysql} from '../../src/core/settings.js'
import {asServiceError} from '../../src/core/db.js'

const settings = resolveMysql('mysql://mau:pw@db:3306/mau', {})

describe('asServiceError', () => {
  it('names MySQL, with exit 4 and no password, for a connection it could not make', () => {
    const e = asServiceError(Object.assign(new Error('connect ECONNREFUSED'), {code: 'ECONNREFUSED'}), settings) as Error & {exitCode: number}
    expect(e.exitCode).toBe(4)
    expect(e.message).toBe('MySQL at mysql://mau:***@db:3306/mau is unavailable: connect ECONNREFUSED')
  })

  it('leaves a retriable kafkajs error alone instead of blaming MySQL', () => {
    const kafka = Object.assign(new Error('Connection error'), {name: 'KafkaJSConnectionError', retriable: true})
    expect(asServiceError(kafka, settings)).toBe(kafka)
  })

  it('maps refused credentials to exit 2 and a missing table to exit 5', () => {
    expect(asServiceError(Object.assign(new Error('denied'), {code: 'ER_ACCESS_DENIED_ERROR'}), settings)).toMatchObject({exitCode: 2})
    expect(asServiceError(Object.assign(new Error('no table'), {code: 'ER_NO_SUCH_TABLE'}), settings)).toMatchObject({exitCode: 5})
  })
})
