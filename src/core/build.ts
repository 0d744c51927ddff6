/** Which build is running, for `mau_build_info`: the package version, and the commit the image was built from. */
import {readFileSync} from 'node:fs'

const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as {version: string}

export const BUILD = {version: pkg.version, commit: process.env.MAU_BUILD_COMMIT || 'unknown'} as const
