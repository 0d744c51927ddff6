/** Prometheus metrics of `mau serve`: requests by API, method and answer, their duration, and those running. */
import {Counter, Gauge, Histogram, Registry, collectDefaultMetrics} from 'prom-client'

export class ServeMetrics {
  readonly registry = new Registry()
  readonly requests = new Counter({
    name: 'mau_serve_requests_total',
    help: 'Requests answered, by API, method and answer (OK or the gRPC status name)',
    labelNames: ['api', 'method', 'code'],
    registers: [this.registry],
  })
  readonly seconds = new Histogram({
    name: 'mau_serve_request_duration_seconds',
    help: 'Time to answer a request',
    labelNames: ['api', 'method'],
    buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1, 5],
    registers: [this.registry],
  })
  readonly inFlight = new Gauge({
    name: 'mau_serve_in_flight_requests',
    help: 'Requests being answered now',
    registers: [this.registry],
  })

  constructor() {
    collectDefaultMetrics({register: this.registry})
  }

  /** Times fn and counts its answer. */
  async observe<T>(
    api: 'grpc' | 'http',
    method: string,
    fn: () => Promise<T>,
    codeOf: (error: unknown) => string,
  ): Promise<T> {
    const end = this.seconds.startTimer({api, method})
    this.inFlight.inc()
    try {
      const result = await fn()
      this.requests.inc({api, method, code: 'OK'})
      return result
    } catch (error) {
      this.requests.inc({api, method, code: codeOf(error)})
      throw error
    } finally {
      this.inFlight.dec()
      end()
    }
  }
}
