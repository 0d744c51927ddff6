// Writes dist/build.json: which commit this build is of, for `mau --version` and mau_build_info. An image build
// has no .git in its context (.dockerignore), so MAU_BUILD_COMMIT, passed as a build-arg, comes first; else
// the HEAD of the checkout being built, marked -dirty when tracked files differ from it; else none (null).
// Only a repository whose top is this directory counts: a copy staged inside another checkout (stage-image)
// must not take that checkout's commit.
import {execFileSync} from 'node:child_process'
import {realpathSync, writeFileSync} from 'node:fs'

const git = (...args) => execFileSync('git', args, {encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore']}).trim()

function commitOfCheckout() {
  try {
    if (realpathSync(git('rev-parse', '--show-toplevel')) !== realpathSync(process.cwd())) return null
    const head = git('rev-parse', 'HEAD')
    return git('status', '--porcelain', '--untracked-files=no') === '' ? head : `${head}-dirty`
  } catch {
    return null // no git, or not a repository
  }
}

const commit = process.env.MAU_BUILD_COMMIT?.trim() || commitOfCheckout()
writeFileSync('dist/build.json', `${JSON.stringify({commit})}\n`)
console.error(`build-info: commit ${commit ?? 'unknown'}`)
