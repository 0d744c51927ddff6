/**
 * Which build is running, for `mau --version` and `mau_build_info`: the package version, and the commit the
 * build recorded in dist/build.json (scripts/build-info.mjs); MAU_BUILD_COMMIT in the environment overrides it.
 */
import {readFileSync} from 'node:fs'

const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as {version: string}

/** The commit the build recorded; none when run from the sources (tsx) or built without git or a build-arg. */
function recordedCommit(): string | undefined {
  try {
    const info = JSON.parse(readFileSync(new URL('../build.json', import.meta.url), 'utf8')) as {commit?: string | null}
    return info.commit ?? undefined
  } catch {
    return undefined
  }
}

export const BUILD = {
  version: pkg.version,
  commit: process.env.MAU_BUILD_COMMIT || recordedCommit() || 'unknown',
} as const
