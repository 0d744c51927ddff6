/**
 * oclif's init hook. `mau --version` and the root help print oclif's user agent ("mau/0.2.0 linux-x64
 * node-v22.15.0"); the commit the build records (core/build.ts) follows it when known.
 */
import type {Hook} from '@oclif/core'
import {BUILD} from './build.js'

export const versionLine = (userAgent: string, commit: string): string =>
  commit === 'unknown' ? userAgent : `${userAgent} commit ${commit}`

const hook: Hook<'init'> = async function (opts) {
  // Typed read-only, but oclif reads it only after the init hooks have run.
  const config = opts.config as {userAgent: string}
  config.userAgent = versionLine(config.userAgent, BUILD.commit)
}

export default hook
