#!/usr/bin/env node
// Node 22.15 or later (zstd is in its zlib): on an older one, say so plainly instead of failing on an import.
const [major, minor] = process.versions.node.split('.').map(Number)
if (major < 22 || (major === 22 && minor < 15)) {
  process.stderr.write(`Error: mau needs Node 22.15 or later; this is Node ${process.versions.node}.\nCode: UNSUPPORTED_NODE\nTry: Install Node 22, or run it through the project's scripts (source scripts/node.sh fetches one).\n`)
  process.exit(2)
}

const {flush, run} = await import('@oclif/core')
const {fail} = await import('../dist/core/exit.js')

// Not oclif's execute(): every failure, unknown commands and parse errors included, leaves through
// one renderer, as a JSON document with --json and as "Error: ..." otherwise.
try {
  await run(process.argv.slice(2), import.meta.url)
  await flush()
} catch (error) {
  await flush()
  fail(error, process.argv.slice(2))
}
