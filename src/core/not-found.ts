/**
 * oclif's command_not_found hook. At a terminal, @oclif/plugin-not-found asks "Did you mean ...?" and runs
 * the answer; for scripts and --json there is nobody to ask, so the nearest command becomes a suggestion
 * in an ordinary error (exit 2, code UNKNOWN_COMMAND) that core/exit.ts renders like any other.
 */
import {type Hook, toConfiguredId} from '@oclif/core'
import notFound from '@oclif/plugin-not-found'
import levenshtein from 'fast-levenshtein'
import {ExitCode, MauError} from './errors.js'
import {wantsJson} from './exit.js'

/** The visible command nearest to what was typed, by edit distance. */
export function nearest(typed: string, ids: string[]): string | undefined {
  return ids.map((id) => ({id, distance: levenshtein.get(typed, id)})).sort((a, b) => a.distance - b.distance)[0]?.id
}

const hook: Hook<'command_not_found'> = async function (opts) {
  const typed = toConfiguredId(opts.id, opts.config)
  if (process.stdin.isTTY && process.stderr.isTTY && !wantsJson(opts.argv ?? [])) {
    try {
      return await notFound.call(this, opts)
    } catch {
      // Declined or timed out: fall through to the same error a script gets.
    }
  }
  const ids = opts.config.commands.filter((c) => !c.hidden).map((c) => c.id)
  const guess = nearest(opts.id, ids)
  throw new MauError(`"${typed}" is not a ${opts.config.bin} command.`, {
    exit: ExitCode.CONFIG,
    code: 'UNKNOWN_COMMAND',
    suggestions: [
      ...(guess ? [`Did you mean "${opts.config.bin} ${toConfiguredId(guess, opts.config)}"?`] : []),
      `Run "${opts.config.bin} help" for a list of commands.`,
    ],
  })
}

export default hook
