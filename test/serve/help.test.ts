/** `mau serve --help` names what the server answers: every gRPC service it registers and every HTTP path. */
import {readFileSync} from 'node:fs'
import {describe, expect, it} from 'vitest'
import {GATEWAY_PATHS} from '../../src/serve/gateway.js'
import {SERVICES} from '../../src/serve/grpc.js'

const serve = JSON.parse(readFileSync('oclif.manifest.json', 'utf8')).commands.serve as {
  summary: string
  description: string
  examples: unknown[]
}

describe('mau serve --help', () => {
  it('names every gRPC service it registers', () => {
    for (const service of SERVICES) expect(serve.description).toContain(`${service}/`)
  })

  it("names every HTTP path it answers, mau's own and the platform's", () => {
    for (const path of ['/v1/mau?', '/v1/mau/months?', ...GATEWAY_PATHS, '/metrics', '/healthz', '/readyz'])
      expect(serve.description).toContain(path)
  })

  it("shows the platform's paths in its examples", () => {
    const examples = JSON.stringify(serve.examples)
    for (const path of GATEWAY_PATHS) expect(examples).toContain(path)
    expect(examples).toContain('InsightsService')
  })
})
