/**
 * Checks of rendered Kubernetes manifests, kept apart from the tests so that each can be shown to fail:
 * the Kubernetes schemas (kubernetes-models: types, enums, required fields), unknown fields (TypeScript's
 * excess-property check against the same models' types), the restricted Pod Security Standard, the
 * image every container runs, and the files its settings name.
 */
import {execFileSync} from 'node:child_process'
import {readdirSync, readFileSync} from 'node:fs'
import {basename, dirname, join} from 'node:path'
import ts from 'typescript'
import {parse, parseAllDocuments} from 'yaml'

export type K8sObject = {
  apiVersion: string
  kind: string
  metadata: {name: string; namespace?: string; labels?: Record<string, string>}
  spec?: Record<string, unknown>
} & Record<string, unknown>

export function render(dir: string): K8sObject[] {
  const text = execFileSync('kubectl', ['kustomize', dir], {encoding: 'utf8'})
  return parseAllDocuments(text).map((d) => d.toJSON() as K8sObject)
}

/** Where kubernetes-models keeps an apiVersion's classes and types. */
function modelModule(apiVersion: string): string {
  const [group, version] = apiVersion.includes('/') ? apiVersion.split('/') : ['', apiVersion]
  if (group === 'monitoring.coreos.com') return `@kubernetes-models/prometheus-operator/${group}/${version}`
  return group ? `kubernetes-models/${group}/${version}` : `kubernetes-models/${version}`
}

/** kubernetes-models' validation: every error it finds, as "Kind/name: message". */
export async function schemaErrors(objects: K8sObject[]): Promise<string[]> {
  const errors: string[] = []
  for (const o of objects) {
    const models = (await import(modelModule(o.apiVersion))) as Record<string, new (x: unknown) => {validate(): void}>
    const Model = models[o.kind]
    if (!Model) {
      errors.push(`${o.kind}/${o.metadata.name}: no schema for ${o.apiVersion} ${o.kind}`)
      continue
    }
    try {
      new Model(o).validate()
    } catch (error) {
      errors.push(`${o.kind}/${o.metadata.name}: ${(error as Error).message}`)
    }
  }
  return errors
}

/** Fields the Kubernetes types do not have (a misspelling, a field at the wrong depth), found by type-checking each object. */
export function unknownFields(objects: K8sObject[]): string[] {
  const lines = objects.map(
    (o, i) =>
      `import type {I${o.kind} as T${i}} from '${modelModule(o.apiVersion)}/${o.kind}'\nexport const o${i}: T${i} = ${JSON.stringify(o, null, 1)}\n`,
  )
  const file = `${process.cwd()}/.cache/manifests-check.ts`
  const source = lines.join('\n')
  const options: ts.CompilerOptions = {
    strict: true,
    noEmit: true,
    module: ts.ModuleKind.NodeNext,
    moduleResolution: ts.ModuleResolutionKind.NodeNext,
    target: ts.ScriptTarget.ES2022,
    skipLibCheck: true,
    types: [],
  }
  const host = ts.createCompilerHost(options)
  const read = host.readFile.bind(host)
  host.readFile = (name) => (name === file ? source : read(name))
  host.fileExists = (
    (exists) => (name: string) =>
      name === file || exists(name)
  )(host.fileExists.bind(host))
  const program = ts.createProgram([file], options, host)
  return ts
    .getPreEmitDiagnostics(program)
    .filter((d) => d.file?.fileName === file)
    .map((d) => {
      const at = d.file!.getLineAndCharacterOfPosition(d.start ?? 0)
      const index = source.slice(0, d.start).split(/\nexport const o/).length - 2
      const o = objects[Math.max(0, index)]!
      return `${o.kind}/${o.metadata.name} (line ${at.line + 1}): ${ts.flattenDiagnosticMessageText(d.messageText, ' ')}`
    })
}

export interface Container {
  name: string
  args?: string[]
  env?: {name: string; value?: string}[]
  volumeMounts?: {name: string; mountPath: string}[]
  securityContext?: Record<string, unknown> & {capabilities?: {drop?: string[]}; seccompProfile?: {type?: string}}
  resources?: {requests?: Record<string, string>; limits?: Record<string, string>}
}
export interface PodSpec {
  volumes?: {name: string; secret?: {secretName: string}}[]
  securityContext?: Record<string, unknown> & {seccompProfile?: {type?: string}}
  automountServiceAccountToken?: boolean
  containers: Container[]
  initContainers?: Container[]
}

export function podSpecs(objects: K8sObject[]): {owner: string; spec: PodSpec}[] {
  const out: {owner: string; spec: PodSpec}[] = []
  for (const o of objects) {
    const spec = o.spec as {template?: {spec: PodSpec}; jobTemplate?: {spec: {template: {spec: PodSpec}}}} | undefined
    const pod = spec?.template?.spec ?? spec?.jobTemplate?.spec.template.spec
    if (pod) out.push({owner: `${o.kind}/${o.metadata.name}`, spec: pod})
  }
  return out
}

/** Every way a pod breaks the restricted Pod Security Standard, or misses what we ask of every container. */
export function restrictedViolations(objects: K8sObject[], user = 10001): string[] {
  const v: string[] = []
  for (const {owner, spec} of podSpecs(objects)) {
    const pod = spec.securityContext ?? {}
    if (pod.runAsNonRoot !== true) v.push(`${owner}: pod runAsNonRoot is not true`)
    if (pod.runAsUser !== user || pod.runAsGroup !== user || pod.fsGroup !== user)
      v.push(`${owner}: pod runAsUser/runAsGroup/fsGroup are not ${user}`)
    if (pod.seccompProfile?.type !== 'RuntimeDefault') v.push(`${owner}: pod seccompProfile is not RuntimeDefault`)
    if (spec.automountServiceAccountToken !== false) v.push(`${owner}: the service account token is mounted`)
    for (const c of [...(spec.initContainers ?? []), ...spec.containers]) {
      const sc = c.securityContext ?? {}
      const where = `${owner} container ${c.name}`
      if (sc.allowPrivilegeEscalation !== false) v.push(`${where}: allowPrivilegeEscalation is not false`)
      if (JSON.stringify(sc.capabilities?.drop) !== '["ALL"]') v.push(`${where}: capabilities do not drop ALL`)
      if (sc.readOnlyRootFilesystem !== true) v.push(`${where}: the root filesystem is writable`)
      if (sc.runAsNonRoot === false || (sc.runAsUser !== undefined && sc.runAsUser !== user))
        v.push(`${where}: runs as another user`)
      if (sc.seccompProfile && sc.seccompProfile.type !== 'RuntimeDefault')
        v.push(`${where}: seccompProfile is not RuntimeDefault`)
      for (const r of ['cpu', 'memory']) {
        if (!c.resources?.requests?.[r] || !c.resources?.limits?.[r]) v.push(`${where}: no ${r} request and limit`)
      }
    }
  }
  return v
}

/** Every kustomization under root (a Kustomization or a Component), as its directory and kind. */
export function kustomizations(root = 'deploy'): {dir: string; kind: string}[] {
  const found: {dir: string; kind: string}[] = []
  for (const entry of readdirSync(root, {recursive: true, encoding: 'utf8'}).sort()) {
    if (basename(entry) !== 'kustomization.yaml') continue
    const doc = parse(readFileSync(join(root, entry), 'utf8')) as {kind?: string}
    found.push({dir: join(root, dirname(entry)), kind: doc.kind ?? 'Kustomization'})
  }
  return found
}

type EnvFrom = {configMapRef?: {name: string}}
const containersOf = (spec: PodSpec) =>
  [...(spec.initContainers ?? []), ...spec.containers] as (Container & {image?: string; envFrom?: EnvFrom[]})[]

/** The image of every container, as "Kind/name container: image". */
export function images(objects: K8sObject[]): string[] {
  return podSpecs(objects).flatMap(({owner, spec}) =>
    containersOf(spec).map((c) => `${owner} container ${c.name}: ${c.image}`),
  )
}

/**
 * Every file a container's environment names (a value that is an absolute path) that no volume of its pod
 * puts there: a setting a container sets itself wins over the ConfigMaps it reads. A ConfigMap may come
 * in several versions (the base's, an overlay's): each is checked, as the container may run with any.
 */
export function unmountedFiles(objects: K8sObject[], configMaps: K8sObject[]): string[] {
  const v: string[] = []
  for (const {owner, spec} of podSpecs(objects)) {
    for (const c of containersOf(spec)) {
      const own = new Map((c.env ?? []).map((e) => [e.name, e.value]))
      const settings: [string, string | undefined, string][] = [...own].map(([k, value]) => [k, value, 'its env'])
      for (const ref of c.envFrom ?? []) {
        const name = ref.configMapRef?.name
        if (!name) continue
        const versions = configMaps.filter((o) => o.kind === 'ConfigMap' && o.metadata.name === name)
        if (versions.length === 0)
          v.push(`${owner} container ${c.name}: reads ConfigMap ${name}, which no kustomization under deploy/ makes`)
        for (const cm of versions) {
          for (const [k, value] of Object.entries((cm.data ?? {}) as Record<string, string>))
            if (!own.has(k)) settings.push([k, value, `ConfigMap ${name}`])
        }
      }
      for (const [k, path, from] of settings) {
        if (!path?.startsWith('/')) continue
        const mount = c.volumeMounts?.find((m) => path.startsWith(`${m.mountPath}/`))
        const volume = spec.volumes?.find((vol) => vol.name === mount?.name)
        if (!mount || !volume)
          v.push(`${owner} container ${c.name}: ${k} (${from}) names ${path}, which is not mounted`)
      }
    }
  }
  return [...new Set(v)]
}
