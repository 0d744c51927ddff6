/** CPU accounting from /proc (Linux): a process's CPU-seconds, the machine's busy and total core time. */
import {execSync} from 'node:child_process'
import {readFileSync} from 'node:fs'

const TICKS = Number(execSync('getconf CLK_TCK').toString().trim()) || 100

/** User + system CPU-seconds a process has used so far, or undefined once it is gone. */
export function cpuSeconds(pid: number): number | undefined {
  try {
    // Fields after the command name (which may hold spaces): utime and stime are the 12th and 13th.
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8')
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ')
    return (Number(fields[11]) + Number(fields[12])) / TICKS
  } catch {
    return undefined
  }
}

/** Core-seconds of the whole machine: busy (not idle, not iowait) and total. */
export function machineCpu(): {busy: number; total: number} {
  const [, ...ticks] = readFileSync('/proc/stat', 'utf8').split('\n')[0]!.trim().split(/\s+/)
  const n = ticks.slice(0, 8).map(Number)
  const total = n.reduce((a, b) => a + b, 0)
  return {busy: (total - n[3]! - n[4]!) / TICKS, total: total / TICKS}
}

export function peakRssMb(pid: number): number | undefined {
  try {
    const m = /VmHWM:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))
    return m ? Math.round(Number(m[1]) / 1024) : undefined
  } catch {
    return undefined
  }
}
