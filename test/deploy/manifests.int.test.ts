/** The Kustomize output, as a cluster that enforces the restricted Pod Security Standard would receive it. */
import {describe, expect, it} from 'vitest'
import {render, restrictedViolations, schemaErrors, unknownFields, type K8sObject} from './manifests.js'

const production = render('deploy/overlays/production')
const base = render('deploy/base')
const byName = (objects: K8sObject[], kind: string, name: string) => objects.find((o) => o.kind === kind && o.metadata.name === name)!
const clone = <T>(x: T): T => JSON.parse(JSON.stringify(x))

describe('deploy/overlays/production', () => {
  it('renders every workload, with its namespace, image and replicas', () => {
    const kinds = production.map((o) => `${o.kind}/${o.metadata.name}`).sort()
    expect(kinds).toEqual([
      'ConfigMap/mau-config', 'ConfigMap/mau-dashboard', 'CronJob/mau-partitions-rotate', 'CronJob/mau-report-send', 'CronJob/mau-verify-migration',
      'Deployment/mau-consume', 'Deployment/mau-serve', 'Namespace/mau', 'PodDisruptionBudget/mau-consume', 'PodDisruptionBudget/mau-serve',
      'PodMonitor/mau', 'PrometheusRule/mau', 'Service/mau-serve', 'ServiceAccount/mau',
    ])
    expect(production.filter((o) => o.kind !== 'Namespace').every((o) => o.metadata.namespace === 'mau')).toBe(true)
    expect(JSON.stringify(production)).not.toContain(':latest')
    expect((byName(production, 'Deployment', 'mau-consume').spec as {replicas: number}).replicas).toBe(3)
    expect(byName(production, 'Namespace', 'mau').metadata.labels?.['pod-security.kubernetes.io/enforce']).toBe('restricted')
  })

  it('is valid against the Kubernetes and Prometheus Operator schemas, with no unknown field', async () => {
    expect(await schemaErrors(production)).toEqual([])
    expect(unknownFields(production)).toEqual([])
  })

  it('meets the restricted Pod Security Standard in every container, init containers included', () => {
    expect(restrictedViolations(production)).toEqual([])
    expect(restrictedViolations(base)).toEqual([])
  })
})

describe('the checks themselves', () => {
  it('catch a misspelled field, a wrong type, and a container without its securityContext', async () => {
    const broken = clone(byName(production, 'Deployment', 'mau-consume'))
    const pod = (broken.spec as {template: {spec: {securityContext: Record<string, unknown>; initContainers: {securityContext?: unknown; resources?: unknown}[]}}}).template.spec
    pod.securityContext.runAsUsr = 10001
    expect(unknownFields([broken]).join('\n')).toMatch(/Deployment\/mau-consume .*may only specify known properties, and '"runAsUsr"' does not exist/)
    const wrongType = clone(byName(production, 'Service', 'mau-serve'))
    ;(wrongType.spec as {ports: {port: unknown}[]}).ports[0]!.port = 'ninety'
    expect((await schemaErrors([wrongType])).join('\n')).toMatch(/Service\/mau-serve/)
    delete pod.initContainers[0]!.securityContext
    delete pod.initContainers[0]!.resources
    expect(restrictedViolations([broken])).toEqual(expect.arrayContaining([
      'Deployment/mau-consume container migrate: allowPrivilegeEscalation is not false',
      'Deployment/mau-consume container migrate: capabilities do not drop ALL',
      'Deployment/mau-consume container migrate: no memory request and limit',
    ]))
  })
})
