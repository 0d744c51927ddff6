#!/usr/bin/env node
// Builds the image without a container engine: follows the Dockerfile's instructions (FROM, WORKDIR, COPY,
// RUN, ENV, ARG, USER, ENTRYPOINT) with a directory per stage, then runs the final stage's entrypoint as its
// numeric USER from a read-only copy, as a container would: `mau --help`, `--version`, `db migrate`, `count`.
// A file the Dockerfile forgets to COPY, or a runtime dependency left in devDependencies, fails here.
//   node scripts/stage-image.mjs [--dockerfile Dockerfile]   (MAU_MYSQL_URL: an empty database to migrate;
//   MAU_BUILD_COMMIT, as --build-arg would pass it)
import {execFileSync, spawnSync} from 'node:child_process'
import {
  chmodSync,
  cpSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  readdirSync,
  rmSync,
  statSync,
} from 'node:fs'
import {basename, dirname, join, resolve} from 'node:path'
import {parseArgs} from 'node:util'

const {values: args} = parseArgs({options: {dockerfile: {type: 'string', default: 'Dockerfile'}}})
const context = process.cwd()
const say = (m) => console.error(`[stage-image] ${m}`)

/** Instructions with their arguments; continuation lines joined, comments dropped. */
function instructions(text) {
  return text
    .replace(/\\\n/g, ' ')
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l && !l.startsWith('#'))
    .map((l) => {
      const [op, ...rest] = l.split(/\s+/)
      return {op: op.toUpperCase(), rest: rest.join(' ')}
    })
}

const json = (s) => (s.startsWith('[') ? JSON.parse(s) : ['/bin/sh', '-c', s])
const steps = instructions(readFileSync(args.dockerfile, 'utf8'))
const work = join(context, '.cache', 'image')
rmSync(work, {recursive: true, force: true})
mkdirSync(work, {recursive: true})
const stages = new Map()
let stage = null

for (const {op, rest} of steps) {
  if (op === 'FROM') {
    const [, name] = rest.split(/\s+AS\s+/i)
    stage = {
      name: name ?? `stage${stages.size}`,
      root: mkdtempSync(join(work, 'stage-')),
      workdir: '/',
      env: {},
      user: '0',
      entrypoint: [],
      cmd: [],
      ran: [],
    }
    stages.set(stage.name, stage)
    say(`FROM ${rest}`)
  } else if (op === 'WORKDIR') {
    stage.workdir = resolve(stage.workdir, rest)
    mkdirSync(join(stage.root, stage.workdir), {recursive: true})
  } else if (op === 'ARG') {
    const [k, v = ''] = rest.split('=')
    stage.env[k] = process.env[k] ?? v
  } else if (op === 'ENV') {
    const [k, v] = rest.split('=')
    stage.env[k] = v.replace(/^\$(\w+)$/, (_, name) => stage.env[name] ?? '')
  } else if (op === 'COPY') {
    const parts = rest.split(/\s+/)
    const from = parts[0].startsWith('--from=') ? stages.get(parts.shift().slice('--from='.length)) : null
    const rawDest = parts.pop()
    const dest = resolve(stage.workdir, rawDest)
    for (const src of parts) {
      const origin = from ? join(from.root, resolve(from.workdir, src)) : join(context, src)
      if (!existsSync(origin))
        throw new Error(`COPY ${src}: not found in ${from ? `stage ${from.name}` : 'the build context'}`)
      // As Docker does: a directory's contents go into the destination; a file goes into it when it ends in "/".
      const intoDir = statSync(origin).isFile() && (rawDest.endsWith('/') || parts.length > 1)
      const target = intoDir ? join(stage.root, dest, basename(src)) : join(stage.root, dest)
      mkdirSync(intoDir ? join(stage.root, dest) : dirname(target), {recursive: true})
      cpSync(origin, target, {recursive: true})
    }
  } else if (op === 'RUN') {
    say(`RUN ${rest}`)
    execFileSync('/bin/sh', ['-c', rest], {
      cwd: join(stage.root, stage.workdir),
      stdio: ['ignore', 'inherit', 'inherit'],
      env: {...process.env, ...stage.env},
    })
  } else if (op === 'USER') {
    stage.user = rest
  } else if (op === 'ENTRYPOINT') {
    stage.entrypoint = json(rest)
  } else if (op === 'CMD') {
    stage.cmd = json(rest)
  } else {
    throw new Error(`stage-image does not know ${op}`)
  }
}

// The final stage as the container sees it: read-only, run by its numeric user with no home.
const image = stage
const [uid, gid = uid] = image.user.split(':')
if (!/^\d+$/.test(uid) || uid === '0')
  throw new Error(`USER ${image.user}: expected a numeric, non-root user (runAsNonRoot cannot check a name)`)
execFileSync('chmod', ['-R', 'a-w,a+rX', image.root])
chmodSync(image.root, 0o555)
const entry = image.entrypoint.map((a) =>
  a.startsWith('/') && existsSync(join(image.root, a)) ? join(image.root, a) : a,
)
const run = (cmd) => {
  const r = spawnSync(
    'setpriv',
    [
      `--reuid=${uid}`,
      `--regid=${gid}`,
      '--clear-groups',
      ...entry.map((a) => (a === 'node' ? process.execPath : a)),
      ...cmd,
    ],
    {
      cwd: join(image.root, image.workdir),
      encoding: 'utf8',
      env: {PATH: process.env.PATH, HOME: '/nonexistent', ...image.env, MAU_MYSQL_URL: process.env.MAU_MYSQL_URL ?? ''},
    },
  )
  say(`as ${uid}:${gid}: mau ${cmd.join(' ')} -> exit ${r.status}`)
  if (r.status !== 0) throw new Error(`mau ${cmd.join(' ')} exited ${r.status}:\n${r.stdout}\n${r.stderr}`)
  return r.stdout
}
const help = run(['--help'])
if (!/USAGE/.test(help) || !/serve/.test(help)) throw new Error(`mau --help does not list the commands:\n${help}`)
const version = run(['--version']).trim()
const migrated = JSON.parse(run(['db', 'migrate', '--json']))
const counted = JSON.parse(run(['count', '--json']))
console.log(
  JSON.stringify({
    root: image.root,
    user: image.user,
    node: process.version,
    files: readdirSync(join(image.root, image.workdir)).sort(),
    version,
    migratedTo: migrated.version,
    counted: counted.total,
  }),
)
