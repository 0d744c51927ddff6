/** The Kustomize output, as a cluster that enforces the restricted Pod Security Standard would receive it. */
import {describe, expect, it} from 'vitest'
import {ROLE_NAMES, roleOf} from '../../src/core/roles.js'
import {type Container, type PodSpec, podSpecs, render, restrictedViolations, schemaErrors, unknownFields, type K8sObject} from './manifests.js'

const production = render('deploy/overlays/production')
const base = render('deploy/base')
const byName = (objects: K8sObject[], kind: string, name: string) => objects.find((o) => o.kind === kind && o.metadata.name === name)!
const clone = <T>(x: T): T => JSON.parse(JSON.stringify(x))

describe('deploy/overlays/production', () => {
  it('renders every workload, with its namespace, image and replicas', () => {
    const kinds = production.map((o) => `${o.kind}/${o.metadata.name}`).sort()
    expect(kinds).toEqual([
      'ConfigMap/mau-config', 'ConfigMap/mau-dashboard', 'CronJob/mau-double-write-check', 'CronJob/mau-partitions-rotate', 'CronJob/mau-report-send', 'CronJob/mau-verify-migration',
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

/** The secret behind a container's MySQL password file, and its MySQL user. */
const mysqlOf = (pod: PodSpec, c: Container) => {
  const env = (n: string) => c.env?.find((e) => e.name === n)?.value
  const file = env('MAU_MYSQL_PASSWORD_FILE') ?? '/var/run/secrets/mau/password'
  const mount = c.volumeMounts?.find((m) => file.startsWith(`${m.mountPath}/`))
  return {user: env('MAU_MYSQL_USER'), secret: pod.volumes?.find((v) => v.name === mount?.name)?.secret?.secretName}
}
/** The command a container runs: its arguments before the first flag. */
const commandOf = (c: Container) => {
  const args = c.args ?? []
  const firstFlag = args.findIndex((a) => a.startsWith('-'))
  return (firstFlag < 0 ? args : args.slice(0, firstFlag)).join(' ')
}

describe('least privilege in deploy/', () => {
  it('runs every container as the MySQL user of the least role its command needs, with that role\'s Secret', () => {
    const seen: string[] = []
    for (const {owner, spec: pod} of podSpecs(production)) {
      for (const c of [...(pod.initContainers ?? []), ...pod.containers]) {
        const role = roleOf(commandOf(c))
        expect([owner, c.name, role]).not.toContain(undefined)
        expect([owner, c.name, mysqlOf(pod, c)]).toEqual([owner, c.name, {user: `mau_${role}`, secret: `mau-mysql-${role}`}])
        seen.push(`${c.name}:${role}`)
      }
    }
    expect(seen.sort()).toEqual(['consume:consumer', 'migrate:operator', 'report:reporter', 'rotate:operator', 'serve:server', 'verify:auditor', 'verify:auditor'])
    expect(byName(production, 'ConfigMap', 'mau-config').data).toMatchObject({MAU_MYSQL_URL: expect.not.stringMatching(/\/\/[^/]*@/)})
  })

  it('mounts the TLS material in every container and the Kafka password only where Kafka is reached, each file it names', () => {
    const config = byName(production, 'ConfigMap', 'mau-config').data as Record<string, string>
    expect(config).toMatchObject({MAU_MYSQL_SSL_MODE: 'VERIFY_IDENTITY', MAU_KAFKA_SECURITY_PROTOCOL: 'SASL_SSL', MAU_KAFKA_SASL_MECHANISM: 'SCRAM-SHA-512'})
    const files = Object.entries(config).filter(([k]) => /_(CA|CA_FILE|PASSWORD_FILE)$/.test(k) && k.startsWith('MAU_KAFKA') || k === 'MAU_MYSQL_SSL_CA').map(([, v]) => v)
    expect(files).toHaveLength(3)
    const kafka: string[] = []
    for (const {owner, spec: pod} of podSpecs(production)) {
      for (const c of [...(pod.initContainers ?? []), ...pod.containers]) {
        const mounts = (c as {volumeMounts?: {name: string; mountPath: string}[]}).volumeMounts ?? []
        const mounted = (path: string) => mounts.some((m) => path.startsWith(`${m.mountPath}/`))
        expect([owner, c.name, files.filter((f) => f.includes('mau-tls')).every(mounted)]).toEqual([owner, c.name, true])
        if (files.filter((f) => f.includes('mau-kafka')).every(mounted)) kafka.push(c.name)
      }
    }
    expect(kafka.sort()).toEqual(['consume', 'verify', 'verify'])
  })

  const setup = render('deploy/setup')

  it('sets the database up with a Job: migrate, then every role\'s user with its own password, as an administrator', async () => {
    expect(setup.map((o) => `${o.kind}/${o.metadata.name}`)).toEqual(['Job/mau-db-setup'])
    const pod = podSpecs(setup)[0]!.spec
    const steps = [...(pod.initContainers ?? []), ...pod.containers]
    expect(steps.map((c) => c.args?.slice(0, 6).join(' '))).toEqual(['db migrate --json', ...ROLE_NAMES.map((r) => `db grants --role ${r} --user mau_${r}`)])
    for (const c of steps) expect(mysqlOf(pod, c)).toEqual({user: 'mau_admin', secret: 'mau-mysql-admin'})
    for (const [i, r] of ROLE_NAMES.entries()) {
      const c = steps[i + 1]!
      const file = c.env?.find((e) => e.name === 'MAU_GRANTS_PASSWORD_FILE')?.value
      const mount = c.volumeMounts?.find((m) => file?.startsWith(`${m.mountPath}/`))
      expect(pod.volumes?.find((v) => v.name === mount?.name)?.secret?.secretName).toBe(`mau-mysql-${r}`)
    }
    expect(await schemaErrors(setup)).toEqual([])
    expect(unknownFields(setup)).toEqual([])
    expect(restrictedViolations(setup)).toEqual([])
  })
})
