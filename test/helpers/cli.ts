import {spawn, spawnSync} from 'node:child_process'

/** Runs the built CLI (npm test builds first) as an operator would. */
export function mau(
  args: string[],
  env: Record<string, string> = {},
): {code: number | null; stdout: string; stderr: string} {
  const r = spawnSync('node', ['bin/run.js', ...args], {encoding: 'utf8', env: {...process.env, ...env}})
  return {code: r.status, stdout: r.stdout, stderr: r.stderr}
}

/** The same, without blocking this process: needed when the CLI talks to a server the test runs. */
export function mauAsync(
  args: string[],
  env: Record<string, string> = {},
): Promise<{code: number | null; stdout: string; stderr: string}> {
  return new Promise((resolve) => {
    const child = spawn('node', ['bin/run.js', ...args], {env: {...process.env, ...env}})
    let stdout = ''
    let stderr = ''
    child.stdout.on('data', (d) => (stdout += d))
    child.stderr.on('data', (d) => (stderr += d))
    child.on('close', (code) => resolve({code, stdout, stderr}))
  })
}

/**
 * The CLI with its clock set to `instant` (UTC, "2026-12-01 01:30:00"), by Debian's libfaketime: the process
 * reads that time at start and its clock runs on from there. MySQL keeps the real time.
 */
export function mauAt(
  instant: string,
  args: string[],
  env: Record<string, string> = {},
): Promise<{code: number | null; stdout: string; stderr: string}> {
  return new Promise((resolve, reject) => {
    const child = spawn('faketime', [instant, 'node', 'bin/run.js', ...args], {
      env: {...process.env, TZ: 'UTC', ...env},
    })
    let stdout = ''
    let stderr = ''
    child.stdout.on('data', (d) => (stdout += d))
    child.stderr.on('data', (d) => (stderr += d))
    child.on('error', (error) =>
      reject(
        new Error(`faketime (Debian's faketime package, scripts/services.sh start installs it): ${error.message}`),
      ),
    )
    child.on('close', (code) => resolve({code, stdout, stderr}))
  })
}
