/** scripts/debian-package.sh as a user who cannot install: it stops at once, naming every missing package. */
import {spawnSync} from 'node:child_process'
import {describe, expect, it} from 'vitest'

// Root would install: run it as nobody (setpriv), as the README's non-root developer.
const asUser = (args: string[]) => {
  const argv = ['bash', 'scripts/debian-package.sh', ...args]
  const [cmd, ...rest] =
    process.getuid?.() === 0 ? ['setpriv', '--reuid=65534', '--regid=65534', '--clear-groups', ...argv] : argv
  return spawnSync(cmd!, rest, {encoding: 'utf8'})
}

describe('scripts/debian-package.sh without root', () => {
  it('names every missing package in one install command, the first of alternatives, and only the missing ones', () => {
    const r = asUser([
      'no-such-package-mau=no-such-command-mau',
      'openjdk-17-jre-headless|openjdk-21-jre-headless=bash,no-such-java-mau',
      'coreutils=ls',
    ])
    expect(r.status).toBe(1)
    expect(r.stderr).toContain('no-such-command-mau no-such-java-mau needed and missing from PATH')
    expect(r.stderr).toContain(
      'Install with: sudo apt-get install no-such-package-mau openjdk-17-jre-headless   (Debian/Ubuntu)',
    )
    expect(r.stderr).not.toContain('coreutils')
  })

  it('passes when every command is there, in the one-package form too', () => {
    expect(asUser(['coreutils', 'ls', 'cat']).status).toBe(0)
    expect(asUser(['coreutils=ls,cat', 'bash=bash']).status).toBe(0)
  })
})
