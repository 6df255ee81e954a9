/**
 * The fields kubectl kustomize (and Flux's kustomize-controller) walks in
 * every object it builds, to update references by name (a Deployment's
 * `volumes[].configMap.name`, an Ingress's `tls[].secretName`): its
 * built-in name-reference field list. It walks them whether or not the build
 * holds anything to rename, and fails the whole build when a field on the
 * way is a scalar where it expects a mapping or a list ("expected sequence or
 * mapping node"), or the field itself is a mapping without `name`. A
 * template that renders `annotations:` with its entries lost to a missing
 * space renders a string there: valid YAML, and a folder kubectl cannot
 * build. This module finds those fields in an object's data. The list is
 * kustomize v5.7's, the one in kubectl 1.35 (later versions add HTTPRoute's
 * backendRefs).
 * tests/kustomize-refs.test.ts checks every path below against the real
 * kubectl.
 */

/** Pod spec fields that name a ConfigMap, a Secret, a ServiceAccount, a PVC or a PriorityClass. */
const POD_CONFIG_REFS = [
  'volumes/configMap/name',
  'containers/env/valueFrom/configMapKeyRef/name',
  'initContainers/env/valueFrom/configMapKeyRef/name',
  'containers/envFrom/configMapRef/name',
  'initContainers/envFrom/configMapRef/name',
  'volumes/projected/sources/configMap/name',
  'volumes/secret/secretName',
  'containers/env/valueFrom/secretKeyRef/name',
  'initContainers/env/valueFrom/secretKeyRef/name',
  'containers/envFrom/secretRef/name',
  'initContainers/envFrom/secretRef/name',
  'imagePullSecrets/name',
  'volumes/projected/sources/secret/name',
]
const POD_OTHER_REFS = ['serviceAccountName', 'volumes/persistentVolumeClaim/claimName', 'priorityClassName']

const under = (prefix: string, paths: readonly string[]) => paths.map((p) => `${prefix}/${p}`)

/**
 * Referring kinds and the fields kustomize walks in them. A selector is
 * `Kind`, or `group/version Kind` / `group/* Kind` when kustomize only
 * looks at that group ("" is the core group).
 */
const FIELDS: ReadonlyArray<readonly [string, readonly string[]]> = [
  ['/v1 Pod', under('spec', POD_CONFIG_REFS)],
  ['Pod', under('spec', POD_OTHER_REFS)],
  ['PodTemplate', under('template/spec', POD_CONFIG_REFS)],
  ['Deployment', under('spec/template/spec', [...POD_CONFIG_REFS, ...POD_OTHER_REFS])],
  ['ReplicaSet', under('spec/template/spec', POD_CONFIG_REFS)],
  ['DaemonSet', under('spec/template/spec', [...POD_CONFIG_REFS, ...POD_OTHER_REFS])],
  ['StatefulSet', [...under('spec/template/spec', [...POD_CONFIG_REFS, ...POD_OTHER_REFS]), 'spec/volumeClaimTemplates/spec/storageClassName']],
  ['apps/* StatefulSet', ['spec/serviceName']],
  ['Job', under('spec/template/spec', [...POD_CONFIG_REFS, ...POD_OTHER_REFS])],
  ['CronJob', under('spec/jobTemplate/spec/template/spec', [...POD_CONFIG_REFS, ...POD_OTHER_REFS])],
  ['ReplicationController', under('spec/template/spec', POD_OTHER_REFS)],
  ['HorizontalPodAutoscaler', ['spec/scaleTargetRef/name']],
  ['Node', ['spec/configSource/configMap']],
  ['Role', ['rules/resourceNames']],
  ['ClusterRole', ['rules/resourceNames']],
  [
    'Ingress',
    [
      'metadata/annotations/nginx.ingress.kubernetes.io\\/fastcgi-params-configmap',
      'metadata/annotations/ingress.kubernetes.io\\/auth-secret',
      'metadata/annotations/nginx.ingress.kubernetes.io\\/auth-secret',
      'metadata/annotations/nginx.ingress.kubernetes.io\\/auth-tls-secret',
      'spec/tls/secretName',
      'spec/rules/http/paths/backend/serviceName',
      'spec/backend/serviceName',
      'spec/rules/http/paths/backend/service/name',
      'spec/defaultBackend/service/name',
      'spec/ingressClassName',
    ],
  ],
  ['ServiceAccount', ['imagePullSecrets/name']],
  ['StorageClass', ['parameters/secretName', 'parameters/adminSecretName', 'parameters/userSecretName', 'parameters/secretRef']],
  ['serving.knative.dev/v1 Service', ['spec/template/spec/containers/env/valueFrom/secretKeyRef/name']],
  ['PersistentVolume', ['spec/azureFile/secretName', 'spec/storageClassName']],
  ['PersistentVolumeClaim', ['spec/volumeName', 'spec/storageClassName']],
  ['apiregistration.k8s.io/* APIService', ['spec/service/name']],
  ['admissionregistration.k8s.io/* ValidatingWebhookConfiguration', ['webhooks/clientConfig/service']],
  ['admissionregistration.k8s.io/* MutatingWebhookConfiguration', ['webhooks/clientConfig/service']],
  ['rbac.authorization.k8s.io/* RoleBinding', ['roleRef/name', 'subjects']],
  ['rbac.authorization.k8s.io/* ClusterRoleBinding', ['roleRef/name', 'subjects']],
]

/** A path split at `/` but not at `\/`. */
function segments(path: string): string[] {
  return path.split(/(?<!\\)\//).map((s) => s.replace(/\\\//g, '/'))
}

/** One step of the paths of one kind: the fields below it, and whether a path ends here. */
interface Step {
  next: Map<string, Step>
  leaf: boolean
}

interface Selector {
  group?: string
  version?: string
  paths: string[][]
}

const BY_KIND = new Map<string, Selector[]>()
for (const [selector, paths] of FIELDS) {
  const [gv, kind] = selector.includes(' ') ? (selector.split(' ') as [string, string]) : [undefined, selector]
  const [group, version] = gv === undefined ? [] : gv.split('/')
  const list = BY_KIND.get(kind) ?? []
  list.push({ group, version: version === '*' ? undefined : version, paths: paths.map(segments) })
  BY_KIND.set(kind, list)
}

/** Every referring kind (with its group and version, when kustomize looks only at those) and path, as listed above. */
export function refFieldList(): Array<{ group?: string; version?: string; kind: string; path: string[] }> {
  return [...BY_KIND].flatMap(([kind, selectors]) => selectors.flatMap(({ group, version, paths }) => paths.map((path) => ({ group, version, kind, path }))))
}

const TRIES = new Map<string, Step | null>()
const MAX_TRIES = 256

/** The paths kustomize walks in an object of this apiVersion and kind, as a tree; null when none. */
function stepsFor(apiVersion: string, kind: string): Step | null {
  const selectors = BY_KIND.get(kind)
  if (!selectors) return null
  const cacheKey = `${apiVersion} ${kind}`
  const cached = TRIES.get(cacheKey)
  if (cached !== undefined) return cached
  if (TRIES.size >= MAX_TRIES) TRIES.clear() // only hostile input has this many apiVersions
  const slash = apiVersion.lastIndexOf('/')
  const [group, version] = slash === -1 ? ['', apiVersion] : [apiVersion.slice(0, slash), apiVersion.slice(slash + 1)]
  let root: Step | null = null
  for (const selector of selectors) {
    if (selector.group !== undefined && selector.group !== group) continue
    if (selector.version !== undefined && selector.version !== version) continue
    for (const path of selector.paths) {
      root ??= { next: new Map(), leaf: false }
      let step = root
      for (const name of path) {
        let child = step.next.get(name)
        if (!child) step.next.set(name, (child = { next: new Map(), leaf: false }))
        step = child
      }
      step.leaf = true
    }
  }
  TRIES.set(cacheKey, root)
  return root
}

/** A field kubectl kustomize cannot walk: where it is (keys and list indices) and what is wrong. */
export interface RefFieldProblem {
  path: Array<string | number>
  /** Ends a sentence: "is a string, where kubectl kustomize expects a mapping or a list". */
  problem: string
}

function describe(value: unknown): string {
  if (Array.isArray(value)) return 'a list'
  if (typeof value === 'object' && value !== null) return 'a mapping'
  if (typeof value === 'string') return value === '' ? 'an empty string' : 'a string'
  if (typeof value === 'symbol') return 'a block of text'
  return `the ${typeof value} ${String(value)}`
}

const isMapping = (value: unknown): value is Record<string, unknown> => typeof value === 'object' && value !== null && !Array.isArray(value)

/** Whether kubectl kustomize walks any field of objects of this apiVersion and kind. */
export function hasRefFields(apiVersion: string, kind: string): boolean {
  return stepsFor(apiVersion, kind) !== null
}

/**
 * The first field of `object` (plain data, as a YAML reader builds it) that
 * kubectl kustomize cannot walk for name references, or undefined. Missing
 * and null fields are fine, as they are to kustomize; lists are walked
 * element by element.
 */
export function findRefFieldProblem(object: Record<string, unknown>): RefFieldProblem | undefined {
  const { apiVersion, kind } = object
  if (typeof apiVersion !== 'string' || typeof kind !== 'string') return undefined
  const root = stepsFor(apiVersion, kind)
  return root ? walk(object, root) : undefined
}

/** Walks `value` along `step`'s fields. A problem's path is built on the way back, so a sound object allocates nothing. */
function walk(value: unknown, step: Step): RefFieldProblem | undefined {
  if (value === null || value === undefined) return undefined
  if (Array.isArray(value)) {
    for (let i = 0; i < value.length; i++) {
      const problem = walk(value[i], step)
      if (problem) return prefixed(i, problem)
    }
    return undefined
  }
  if (typeof value !== 'object') return { path: [], problem: `is ${describe(value)}, where kubectl kustomize expects a mapping or a list` }
  const fields = value as Record<string, unknown>
  for (const [name, child] of step.next) {
    const field = fields[name]
    if (field === undefined || !Object.hasOwn(fields, name)) continue
    const problem = child.leaf ? checkReference(field, name === 'subjects', false) : walk(field, child)
    if (problem) return prefixed(name, problem)
  }
  return undefined
}

function prefixed(step: string | number, problem: RefFieldProblem): RefFieldProblem {
  problem.path.unshift(step)
  return problem
}

/** The field that holds a name: a scalar, a mapping with `name`, or a list of those; RoleBinding subjects: a list of mappings. */
function checkReference(value: unknown, subjects: boolean, inList: boolean): RefFieldProblem | undefined {
  if (value === null || value === undefined) return undefined
  if (Array.isArray(value)) {
    if (inList) return { path: [], problem: 'is a list inside the list of names, which kubectl kustomize cannot read' }
    for (let i = 0; i < value.length; i++) {
      const element: unknown = value[i]
      if (subjects && element !== null && !isMapping(element)) {
        return { path: [i], problem: `is ${describe(element)}, where kubectl kustomize expects a subject (a mapping with kind and name)` }
      }
      const problem = checkReference(element, subjects, true)
      if (problem) return prefixed(i, problem)
    }
    return undefined
  }
  if (isMapping(value) && !Object.hasOwn(value, 'name')) {
    return { path: [], problem: 'is a mapping without name, which kubectl kustomize rejects here' }
  }
  return undefined
}
