import {describe, expect, it} from 'vitest'
import {versionLine} from '../../src/core/version.js'

describe('versionLine', () => {
  it('follows the user agent with the commit when the build knows it, and adds nothing when not', () => {
    expect(versionLine('mau/0.2.0 linux-x64 node-v22.15.0', '3f2a9c1')).toBe(
      'mau/0.2.0 linux-x64 node-v22.15.0 commit 3f2a9c1',
    )
    expect(versionLine('mau/0.2.0 linux-x64 node-v22.15.0', 'unknown')).toBe('mau/0.2.0 linux-x64 node-v22.15.0')
  })
})
