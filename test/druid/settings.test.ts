import {mkdtempSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {describe, expect, it} from 'vitest'
import {redact} from '../../src/core/secrets.js'
import {resolveDruid} from '../../src/druid/settings.js'

describe('resolveDruid', () => {
  const flags = {
    'druid-url': 'https://druid:9088',
    'druid-insecure': false,
    'druid-timeout': 30,
    'druid-datasource': 'events',
    'druid-user-column': 'uid',
    'druid-namespace-column': 'ns',
    'druid-source-column': 'src',
  }

  it('reads the password from MAU_DRUID_PASSWORD_FILE and the CA bundle, and registers the password for redaction', () => {
    const dir = mkdtempSync(join(tmpdir(), 'mau-druid-'))
    writeFileSync(join(dir, 'password'), 'druid-pw-123\n')
    writeFileSync(join(dir, 'ca.pem'), '-----BEGIN CERTIFICATE-----\n')
    const r = resolveDruid(
      {...flags, 'druid-user': 'mau', 'druid-ca-file': join(dir, 'ca.pem')},
      {MAU_DRUID_PASSWORD_FILE: join(dir, 'password')},
    )
    expect(r.client).toEqual({
      url: 'https://druid:9088',
      user: 'mau',
      password: 'druid-pw-123',
      ca: '-----BEGIN CERTIFICATE-----\n',
      insecure: false,
      timeoutMs: 30_000,
    })
    expect(r.schema).toEqual({
      datasource: 'events',
      userColumn: 'uid',
      namespaceColumn: 'ns',
      sourceColumn: 'src',
      eventsColumn: undefined,
    })
    expect(redact('login failed for druid-pw-123')).toBe('login failed for ***')
  })
})
