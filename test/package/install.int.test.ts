/**
 * The package as an operator gets it: a clean clone of the committed HEAD packed (prepack builds dist/),
 * the tarball installed into a prefix of its own as README.md says (npm install -g, then npm ci in the
 * installed package: npm honours a package's npm-shrinkwrap.json only for registry installs, not from a
 * tarball), and the installed `mau` run from outside the checkout.
 */
import {spawnSync} from 'node:child_process'
import {existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, realpathSync, rmSync, symlinkSync} from 'node:fs'
import {dirname, join} from 'node:path'
import {afterAll, beforeAll, describe, expect, it} from 'vitest'
import {createTestDatabase, LATEST_VERSION, type TestDatabase} from '../fixtures/services.js'

interface LockEntry {
  version?: string
  dev?: boolean
  optional?: boolean
  devOptional?: boolean
}

const STEP_TIMEOUT_MS = 240_000
const root = process.cwd()
const shrinkwrap = JSON.parse(readFileSync(join(root, 'npm-shrinkwrap.json'), 'utf8')) as {
  packages: Record<string, LockEntry>
}
const version = (JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as {version: string}).version
const databases: TestDatabase[] = []
let work = ''
let prefix = ''
let installed = ''
let tarball = ''
let head = ''

/**
 * This Node first on PATH (the installed bin's shebang is `env node`). An enclosing `npm test` or npx passes
 * its own project, prefixes and command to children as npm_* variables: of those, only where packages come
 * from is kept. No MAU_ settings.
 */
function env(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const kept = Object.entries(process.env).filter(
    ([k]) =>
      !/^(npm_|INIT_CWD$|MAU_)/i.test(k) ||
      /^npm_config_(registry|cafile|proxy|https_proxy|noproxy|strict_ssl|cache|userconfig)$/i.test(k),
  )
  return {...Object.fromEntries(kept), PATH: `${dirname(process.execPath)}:${process.env.PATH ?? ''}`, ...extra}
}

function run(
  command: string,
  args: string[],
  cwd: string,
  extra: Record<string, string> = {},
): {code: number | null; stdout: string; stderr: string} {
  const r = spawnSync(command, args, {
    cwd,
    encoding: 'utf8',
    env: env(extra),
    timeout: STEP_TIMEOUT_MS,
    maxBuffer: 64 * 1024 * 1024,
  })
  return {code: r.status, stdout: r.stdout ?? '', stderr: `${r.stderr ?? ''}${r.error ? `\n${r.error.message}` : ''}`}
}

function must(command: string, args: string[], cwd: string): string {
  const r = run(command, args, cwd)
  if (r.code !== 0) throw new Error(`${command} ${args.join(' ')} exited ${r.code}:\n${r.stdout}\n${r.stderr}`)
  return r.stdout
}

beforeAll(() => {
  mkdirSync(join(root, '.cache'), {recursive: true})
  // Real path: .cache may be a symlink, and npm ci under a symlinked prefix takes the package for a link to itself.
  work = realpathSync(mkdtempSync(join(root, '.cache', 'package-')))
  const clone = join(work, 'clone')
  prefix = join(work, 'prefix')
  installed = join(prefix, 'lib', 'node_modules', 'mau')
  head = must('git', ['rev-parse', 'HEAD'], root).trim()
  must('git', ['clone', '--quiet', '--no-checkout', root, clone], work)
  must('git', ['checkout', '--quiet', head], clone)
  // The clone's build needs the devDependencies (tsc, oclif): the checkout's, rather than a second npm ci.
  symlinkSync(realpathSync(join(root, 'node_modules')), join(clone, 'node_modules'))
  must('npm', ['pack', '--pack-destination', work], clone)
  tarball = join(
    work,
    readdirSync(work).find((f) => f.endsWith('.tgz'))!,
  )
  must('npm', ['install', '--global', '--prefix', prefix, '--no-audit', '--no-fund', '--prefer-offline', tarball], work)
  must('npm', ['ci', '--omit=dev', '--no-audit', '--no-fund', '--prefer-offline', '--prefix', installed], work)
}, 4 * STEP_TIMEOUT_MS)

afterAll(async () => {
  for (const db of databases) await db.drop()
  if (work) rmSync(work, {recursive: true, force: true})
})

describe('the package', () => {
  it('holds what runs and is documented, and none of the sources', () => {
    const top = new Set(
      must('tar', ['tzf', tarball], work)
        .trim()
        .split('\n')
        .map((p) => p.split('/')[1]),
    )
    expect([...top].sort()).toEqual([
      'CHANGELOG.md',
      'LICENSE',
      'README.md',
      'bin',
      'dist',
      'migrations',
      'npm-shrinkwrap.json',
      'oclif.manifest.json',
      'package.json',
      'proto',
    ])
    expect(readFileSync(join(installed, 'LICENSE'), 'utf8')).toMatch(/Apache License\s+Version 2\.0, January 2004/)
    expect(existsSync(join(installed, 'dist', 'build.json'))).toBe(true)
  })

  it('installed, mau --version names the version and the commit it was packed from', () => {
    const r = run(join(prefix, 'bin', 'mau'), ['--version'], work)
    expect(r.stderr).toBe('')
    expect(r.code).toBe(0)
    expect(r.stdout.trim()).toMatch(
      new RegExp(`^mau/${version.replaceAll('.', '\\.')} \\S+ node-v\\S+ commit ${head}$`),
    )
  })

  it('installed, mau db migrate brings a fresh database to the latest schema', async () => {
    const db = await createTestDatabase()
    databases.push(db)
    const r = run(join(prefix, 'bin', 'mau'), ['db', 'migrate', '--json'], work, {MAU_MYSQL_URL: db.url})
    expect(r.stderr).not.toMatch(/ERR_MODULE_NOT_FOUND|Error:/)
    expect(r.code).toBe(0)
    expect(JSON.parse(r.stdout)).toMatchObject({version: LATEST_VERSION, latest: LATEST_VERSION})
  })

  it('installed, runs the dependency tree of npm-shrinkwrap.json, the one the tests ran', () => {
    const actual = JSON.parse(readFileSync(join(installed, 'node_modules', '.package-lock.json'), 'utf8')) as {
      packages: Record<string, LockEntry>
    }
    for (const [path, entry] of Object.entries(actual.packages)) {
      expect.soft(shrinkwrap.packages[path]?.version, path).toBe(entry.version)
      expect.soft(shrinkwrap.packages[path]?.dev, `${path} is a devDependency`).toBeFalsy()
    }
    // Every runtime package is there, but another platform's native build.
    const missing = Object.entries(shrinkwrap.packages).filter(
      ([path, e]) =>
        path && !e.dev && !e.optional && !e.devOptional && !existsSync(join(installed, path, 'package.json')),
    )
    expect(missing.map(([path]) => path)).toEqual([])
    const mysql2 = JSON.parse(readFileSync(join(installed, 'node_modules', 'mysql2', 'package.json'), 'utf8')) as {
      version: string
    }
    expect(mysql2.version).toBe(shrinkwrap.packages['node_modules/mysql2']!.version)
  })
})
