// `oclif manifest` lists commands in the order their modules finished loading, which varies from run to run;
// the file is tracked, so it is written with commands sorted by id, the same bytes on every build.
import {readFileSync, writeFileSync} from 'node:fs'

const manifest = JSON.parse(readFileSync('oclif.manifest.json', 'utf8'))
manifest.commands = Object.fromEntries(
  Object.entries(manifest.commands).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)),
)
writeFileSync('oclif.manifest.json', `${JSON.stringify(manifest, null, 2)}\n`)
