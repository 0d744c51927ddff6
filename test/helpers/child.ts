import type {ChildProcess} from 'node:child_process'

/**
 * Resolves when the child has exited, also when it already had: an 'exit' listener attached after the
 * event is never called, which hung a test whenever a short command ended before the test killed it.
 */
export function exited(child: ChildProcess): Promise<{code: number | null; signal: NodeJS.Signals | null}> {
  if (child.exitCode !== null || child.signalCode !== null)
    return Promise.resolve({code: child.exitCode, signal: child.signalCode})
  return new Promise((resolve) => child.once('exit', (code, signal) => resolve({code, signal})))
}
