/**
 * The previous release, taken from this repository's history and built once into .cache (the next runs
 * reuse it), for the tests of an upgrade and a rollback: mau 0.1.0, the commit a1fb25c, schema 8. It
 * builds with this checkout's node_modules (the same dependencies, less two codecs it does not import).
 */
import {execFileSync, spawn, type ChildProcess} from 'node:child_process'
import {existsSync, mkdirSync, realpathSync, renameSync, rmSync, symlinkSync} from 'node:fs'
import {resolve} from 'node:path'

export const PREVIOUS = {commit: 'a1fb25c', version: '0.1.0', schema: 8}

/** The built previous version's folder (bin/run.js, dist/, migrations/): built if .cache does not hold it yet. */
export function previousVersion(): string {
  const dir = resolve('.cache', `previous-${PREVIOUS.commit}`)
  if (existsSync(`${dir}/oclif.manifest.json`)) return dir
  // Built beside, then renamed: a run that stops half-way, or two runs at once, never leave a half-built one.
  const building = `${dir}.${process.pid}`
  rmSync(building, {recursive: true, force: true})
  mkdirSync(building, {recursive: true})
  try {
    const tar = execFileSync('git', ['archive', '--format=tar', PREVIOUS.commit], {maxBuffer: 512 * 1024 * 1024})
    execFileSync('tar', ['-x', '-C', building], {input: tar})
    symlinkSync(realpathSync('node_modules'), `${building}/node_modules`)
    const bin = realpathSync('node_modules/.bin')
    execFileSync(process.execPath, [`${bin}/tsc`, '-p', 'tsconfig.build.json'], {cwd: building, stdio: 'pipe'})
    execFileSync(process.execPath, [`${bin}/oclif`, 'manifest'], {cwd: building, stdio: 'pipe'})
    if (existsSync(`${dir}/oclif.manifest.json`)) rmSync(building, {recursive: true, force: true})
    else renameSync(building, dir)
  } catch (error) {
    rmSync(building, {recursive: true, force: true})
    throw new Error(
      `could not build mau ${PREVIOUS.version} (${PREVIOUS.commit}) from git history: ${(error as Error).message}`,
    )
  }
  return dir
}

/** A CLI at `dir` (this checkout's: '.') run to its end. */
export function mauAt(
  dir: string,
  args: string[],
  env: Record<string, string> = {},
): Promise<{code: number | null; stdout: string; stderr: string}> {
  return new Promise((done) => {
    const child = spawn(process.execPath, [`${dir}/bin/run.js`, ...args], {env: {...process.env, ...env}})
    let stdout = ''
    let stderr = ''
    child.stdout.on('data', (d) => (stdout += d))
    child.stderr.on('data', (d) => (stderr += d))
    child.on('close', (code) => done({code, stdout, stderr}))
  })
}

/** A long-running CLI at `dir` (a consumer): its stderr so far, and a wait for a line of it. */
export function startAt(
  dir: string,
  args: string[],
  env: Record<string, string>,
): {child: ChildProcess; stderr: () => string; logged: (text: string, ms?: number) => Promise<void>} {
  const child = spawn(process.execPath, [`${dir}/bin/run.js`, ...args], {env: {...process.env, ...env}})
  let stderr = ''
  child.stderr.on('data', (d) => (stderr += d))
  child.stdout.resume()
  const logged = async (text: string, ms = 60_000) => {
    for (const end = Date.now() + ms; !stderr.includes(text);) {
      if (child.exitCode !== null || Date.now() > end)
        throw new Error(`no "${text}" from ${args.join(' ')} (exit ${child.exitCode}): ${stderr.slice(-2000)}`)
      await new Promise((r) => setTimeout(r, 50))
    }
  }
  return {child, stderr: () => stderr, logged}
}
