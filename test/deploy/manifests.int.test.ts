/** The Kustomize output, as a cluster that enforces the restricted Pod Security Standard would receive it. */
import {describe, expect, it} from 'vitest'
import {ROLE_NAMES, roleOf} from '../../src/core/roles.js'
import {parse} from 'yaml'
import {readFileSync} from 'node:fs'
import {
  type Container,
  images,
  kustomizations,
  type PodSpec,
  podSpecs,
  render,
  restrictedViolations,
  schemaErrors,
  unknownFields,
  unmountedFiles,
  type K8sObject,
} from './manifests.js'

const production = render('deploy/overlays/production')
const base = render('deploy/base')
const byName = (objects: K8sObject[], kind: string, name: string) =>
  objects.find((o) => o.kind === kind && o.metadata.name === name)!
const clone = <T>(x: T): T => JSON.parse(JSON.stringify(x))

describe('deploy/overlays/production', () => {
  it('renders every workload, with its namespace, image and replicas', () => {
    const kinds = production.map((o) => `${o.kind}/${o.metadata.name}`).sort()
    expect(kinds).toEqual([
      'ConfigMap/mau-config',
      'ConfigMap/mau-dashboard',
      'ConfigMap/mau-kafka-config',
      'CronJob/mau-double-write-check',
      'CronJob/mau-partitions-rotate',
      'CronJob/mau-report-send',
      'CronJob/mau-verify-migration',
      'Deployment/mau-consume',
      'Deployment/mau-serve',
      'Namespace/mau',
      'PodDisruptionBudget/mau-consume',
      'PodDisruptionBudget/mau-serve',
      'PodMonitor/mau',
      'PrometheusRule/mau',
      'Service/mau-serve',
      'ServiceAccount/mau',
    ])
    expect(production.filter((o) => o.kind !== 'Namespace').every((o) => o.metadata.namespace === 'mau')).toBe(true)
    expect(JSON.stringify(production)).not.toContain(':latest')
    expect((byName(production, 'Deployment', 'mau-consume').spec as {replicas: number}).replicas).toBe(3)
    expect(byName(production, 'Namespace', 'mau').metadata.labels?.['pod-security.kubernetes.io/enforce']).toBe(
      'restricted',
    )
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
    const pod = (
      broken.spec as {
        template: {
          spec: {
            securityContext: Record<string, unknown>
            initContainers: {securityContext?: unknown; resources?: unknown}[]
          }
        }
      }
    ).template.spec
    pod.securityContext.runAsUsr = 10001
    expect(unknownFields([broken]).join('\n')).toMatch(
      /Deployment\/mau-consume .*may only specify known properties, and '"runAsUsr"' does not exist/,
    )
    const wrongType = clone(byName(production, 'Service', 'mau-serve'))
    ;(wrongType.spec as {ports: {port: unknown}[]}).ports[0]!.port = 'ninety'
    expect((await schemaErrors([wrongType])).join('\n')).toMatch(/Service\/mau-serve/)
    delete pod.initContainers[0]!.securityContext
    delete pod.initContainers[0]!.resources
    expect(restrictedViolations([broken])).toEqual(
      expect.arrayContaining([
        'Deployment/mau-consume container migrate: allowPrivilegeEscalation is not false',
        'Deployment/mau-consume container migrate: capabilities do not drop ALL',
        'Deployment/mau-consume container migrate: no memory request and limit',
      ]),
    )
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
  it("runs every container as the MySQL user of the least role its command needs, with that role's Secret", () => {
    const seen: string[] = []
    for (const {owner, spec: pod} of podSpecs(production)) {
      for (const c of [...(pod.initContainers ?? []), ...pod.containers]) {
        const role = roleOf(commandOf(c))
        expect([owner, c.name, role]).not.toContain(undefined)
        expect([owner, c.name, mysqlOf(pod, c)]).toEqual([
          owner,
          c.name,
          {user: `mau_${role}`, secret: `mau-mysql-${role}`},
        ])
        seen.push(`${c.name}:${role}`)
      }
    }
    expect(seen.sort()).toEqual([
      'consume:consumer',
      'migrate:operator',
      'report:reporter',
      'rotate:operator',
      'serve:server',
      'verify:auditor',
      'verify:auditor',
    ])
    expect(byName(production, 'ConfigMap', 'mau-config').data).toMatchObject({
      MAU_MYSQL_URL: expect.not.stringMatching(/\/\/[^/]*@/),
    })
  })

  it('verifies TLS everywhere in production, and gives the Kafka settings and password only to the containers that reach Kafka', () => {
    const config = byName(production, 'ConfigMap', 'mau-config').data as Record<string, string>
    const kafkaConfig = byName(production, 'ConfigMap', 'mau-kafka-config').data as Record<string, string>
    expect(config).toMatchObject({
      MAU_MYSQL_SSL_MODE: 'VERIFY_IDENTITY',
      MAU_MYSQL_SSL_CA: '/var/run/secrets/mau-tls/mysql-ca.pem',
    })
    expect(kafkaConfig).toMatchObject({
      MAU_KAFKA_SECURITY_PROTOCOL: 'SASL_SSL',
      MAU_KAFKA_SASL_MECHANISM: 'SCRAM-SHA-512',
      MAU_KAFKA_SASL_PASSWORD_FILE: '/var/run/secrets/mau-kafka/password',
    })
    expect(Object.keys(config).filter((k) => k.startsWith('MAU_KAFKA_'))).toEqual([])
    const readers: string[] = []
    const holders: string[] = []
    for (const {spec: pod} of podSpecs(production)) {
      for (const c of [...(pod.initContainers ?? []), ...pod.containers] as (Container & {
        envFrom?: {configMapRef?: {name: string}}[]
      })[]) {
        if (c.envFrom?.some((r) => r.configMapRef?.name === 'mau-kafka-config')) readers.push(c.name)
        const secrets = (c.volumeMounts ?? []).map(
          (m) => pod.volumes?.find((v) => v.name === m.name)?.secret?.secretName,
        )
        if (secrets.includes('mau-kafka')) holders.push(c.name)
      }
    }
    expect(readers.sort()).toEqual(['consume', 'verify', 'verify'])
    expect(holders.sort()).toEqual(readers.sort())
  })

  const setup = render('deploy/setup')

  it("sets the database up with a Job: migrate, then every role's user with its own password, as an administrator", async () => {
    expect(setup.map((o) => `${o.kind}/${o.metadata.name}`)).toEqual(['Job/mau-db-setup'])
    const pod = podSpecs(setup)[0]!.spec
    const steps = [...(pod.initContainers ?? []), ...pod.containers]
    expect(steps.map((c) => c.args?.slice(0, 6).join(' '))).toEqual([
      'db migrate --json',
      ...ROLE_NAMES.map((r) => `db grants --role ${r} --user mau_${r}`),
    ])
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

/** Every kustomization under deploy/, rendered as `kubectl apply -k` would send it. */
const all = kustomizations().map((k) => ({...k, objects: k.kind === 'Component' ? [] : render(k.dir)}))
const configMaps = all.flatMap((k) => k.objects.filter((o) => o.kind === 'ConfigMap'))
const release = (
  parse(readFileSync('deploy/components/release/kustomization.yaml', 'utf8')) as {
    images: {name: string; newName: string; newTag: string}[]
  }
).images

describe('every kustomization under deploy/', () => {
  it('is found: the workloads, the set-up, the monitoring, the production overlay and the release component', () => {
    expect(all.map((k) => `${k.dir} ${k.kind}`)).toEqual(
      expect.arrayContaining([
        'deploy/base Kustomization',
        'deploy/components/release Component',
        'deploy/monitoring Kustomization',
        'deploy/overlays/production Kustomization',
        'deploy/setup Kustomization',
      ]),
    )
  })

  it("runs every container, the set-up's included, on the one image components/release names", () => {
    expect(release).toHaveLength(1)
    const image = `${release[0]!.newName}:${release[0]!.newTag}`
    expect(image).toMatch(/^[^:]+\/[^:]+:\d+\.\d+\.\d+$/)
    const seen = all.flatMap((k) => images(k.objects))
    expect(seen.filter((line) => !line.endsWith(`: ${image}`))).toEqual([])
    expect(seen.filter((line) => line.startsWith('Job/mau-db-setup'))).toHaveLength(ROLE_NAMES.length + 1)
    // No other kustomization may name an image: the component is the one place.
    for (const k of all.filter((x) => x.dir !== 'deploy/components/release')) {
      expect([
        k.dir,
        (parse(readFileSync(`${k.dir}/kustomization.yaml`, 'utf8')) as {images?: unknown}).images,
      ]).toEqual([k.dir, undefined])
    }
  })

  it.each(all.filter((k) => k.kind === 'Kustomization').map((k) => [k.dir, k] as const))(
    '%s: every container mounts every file its settings name, in every version of its ConfigMaps',
    (_dir, k) => {
      expect(unmountedFiles(k.objects, configMaps)).toEqual([])
    },
  )

  it("sets the database up in the production overlay's namespace", () => {
    expect(render('deploy/setup').map((o) => o.metadata.namespace)).toEqual([
      byName(production, 'Namespace', 'mau').metadata.name,
    ])
  })

  it('the file check catches the set-up without the TLS Secret, and lets a container set a file of its own instead', () => {
    const job = clone(render('deploy/setup').find((o) => o.kind === 'Job')!)
    const pod = podSpecs([job])[0]!.spec
    for (const c of [...(pod.initContainers ?? []), ...pod.containers])
      c.volumeMounts = c.volumeMounts?.filter((m) => m.name !== 'tls')
    const missing = unmountedFiles([job], configMaps)
    expect(missing).toContain(
      'Job/mau-db-setup container migrate: MAU_MYSQL_SSL_CA (ConfigMap mau-config) names /var/run/secrets/mau-tls/mysql-ca.pem, which is not mounted',
    )
    expect(missing).toHaveLength(ROLE_NAMES.length + 1)
    // Its MySQL password file is its own (the administrator's), not mau-config's: so is the CA, once it sets one.
    expect(missing.join('\n')).not.toMatch(/MAU_MYSQL_PASSWORD_FILE/)
    for (const c of [...(pod.initContainers ?? []), ...pod.containers])
      c.env = [...(c.env ?? []), {name: 'MAU_MYSQL_SSL_CA', value: ''}]
    expect(unmountedFiles([job], configMaps)).toEqual([])
    const serve = clone(byName(production, 'Deployment', 'mau-serve'))
    const c = podSpecs([serve])[0]!.spec.containers[0]! as Container & {envFrom: {configMapRef: {name: string}}[]}
    c.envFrom.push({configMapRef: {name: 'mau-kafka-config'}})
    expect(unmountedFiles([serve], configMaps)).toEqual([
      'Deployment/mau-serve container serve: MAU_KAFKA_SASL_PASSWORD_FILE (ConfigMap mau-kafka-config) names /var/run/secrets/mau-kafka/password, which is not mounted',
    ])
  })
})
