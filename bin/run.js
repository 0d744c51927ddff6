#!/usr/bin/env node
import {flush, run} from '@oclif/core'
import {fail} from '../dist/core/exit.js'

// Not oclif's execute(): every failure, unknown commands and parse errors included, leaves through
// one renderer, as a JSON document with --json and as "Error: ..." otherwise.
try {
  await run(process.argv.slice(2), import.meta.url)
  await flush()
} catch (error) {
  await flush()
  fail(error, process.argv.slice(2))
}
