/**
 * The image without a container engine: scripts/stage-image.mjs follows the Dockerfile (npm ci, build,
 * npm prune --omit=dev, every COPY) and runs the result as user 10001 from a read-only directory.
 */
import {spawnSync} from 'node:child_process'
import {mkdtempSync, readFileSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {afterAll, describe, expect, it} from 'vitest'
import {createTestDatabase, type TestDatabase} from '../fixtures/services.js'

const databases: TestDatabase[] = []
afterAll(async () => {
  for (const db of databases) await db.drop()
})

/** Each staging gets an empty database of its own to migrate; MAU_BUILD_COMMIT as `--build-arg` would give it. */
async function stage(dockerfile: string, commit = '') {
  const db = await createTestDatabase()
  databases.push(db)
  return spawnSync('node', ['scripts/stage-image.mjs', '--dockerfile', dockerfile], {
    encoding: 'utf8',
    env: {...process.env, MAU_MYSQL_URL: db.url, MAU_BUILD_COMMIT: commit},
  })
}

describe('the Dockerfile, staged', () => {
  it('runs mau --help, --version, db migrate and count as user 10001 from a read-only copy of what it copies', async () => {
    const r = await stage('Dockerfile', '0123456789abcdef0123456789abcdef01234567')
    expect(r.stderr).toMatch(/as 10001:10001: mau count --json -> exit 0/)
    expect(r.status).toBe(0)
    const result = JSON.parse(r.stdout.trim().split('\n').at(-1)!)
    expect(result).toMatchObject({
      user: '10001:10001',
      files: ['bin', 'dist', 'migrations', 'node_modules', 'oclif.manifest.json', 'package.json', 'proto'],
      counted: {users: 0, events: 0},
    })
    expect(result.migratedTo).toBeGreaterThanOrEqual(6)
    // The build context has no .git: the commit is the build-arg's, recorded by the build stage.
    expect(result.version).toMatch(/^mau\/\d+\.\d+\.\d+ \S+ node-v\S+ commit 0123456789abcdef0123456789abcdef01234567$/)
  }, 300_000)

  it('fails when the Dockerfile forgets a COPY', async () => {
    const broken = join(mkdtempSync(join(tmpdir(), 'mau-dockerfile-')), 'Dockerfile')
    writeFileSync(broken, readFileSync('Dockerfile', 'utf8').replace('COPY migrations ./migrations\n', ''))
    const r = await stage(broken)
    expect(r.status).not.toBe(0)
    expect(r.stderr).toMatch(/mau db migrate --json exited/)
  }, 300_000)
})
