import {spawnSync} from 'node:child_process'

/** Runs the built CLI (npm test builds first) as an operator would. */
export function mau(args: string[], env: Record<string, string> = {}): {code: number | null; stdout: string; stderr: string} {
  const r = spawnSync('node', ['bin/run.js', ...args], {encoding: 'utf8', env: {...process.env, ...env}})
  return {code: r.status, stdout: r.stdout, stderr: r.stderr}
}
