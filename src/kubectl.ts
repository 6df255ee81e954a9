/**
 * What homelab asks of kubectl during bootstrap: the commands (as argument
 * arrays), reading their answers, and the manifest stream piped to
 * `kubectl apply --server-side -f -`. Running them is src/exec.ts's job.
 */
import { parse, parseDocument } from 'yaml'
import { HomelabError } from './errors.js'
import type { Plan } from './render.js'

export const KUBECTL_CURRENT_CONTEXT = ['config', 'current-context']
export const KUBECTL_APPLY_STDIN = ['apply', '--server-side', '-f', '-']
export const KUBECTL_GET_FLUX_SOURCE = ['get', 'gitrepositories.source.toolkit.fluxcd.io', 'flux-system', '-n', 'flux-system', '-o', 'json']

/** The repository and branch the cluster's Flux syncs from (its `flux-system` GitRepository). */
export interface FluxSource {
  url: string
  branch?: string
}

/**
 * Read the answer of `kubectl get gitrepositories… flux-system`: the source,
 * or undefined when there is none (not found, or Flux's CRDs not installed).
 * Any other failure (no cluster, no permission) is an error.
 */
export function parseFluxSource(result: { exitCode: number; stdout: string; stderr: string }): FluxSource | undefined {
  if (result.exitCode !== 0) {
    if (/\(NotFound\)|not found|doesn't have a resource type|no matches for kind/i.test(result.stderr)) return undefined
    throw new HomelabError(`cannot read the flux-system GitRepository (kubectl exit ${result.exitCode})${tail(result.stderr)}`)
  }
  let object: { spec?: { url?: unknown; ref?: { branch?: unknown } } }
  try {
    object = JSON.parse(result.stdout) as typeof object
  } catch {
    throw new HomelabError('kubectl answered the flux-system GitRepository query with something that is not JSON')
  }
  const url = object.spec?.url
  if (typeof url !== 'string' || url === '') throw new HomelabError('the cluster\'s flux-system GitRepository has no spec.url')
  const branch = object.spec?.ref?.branch
  return { url, branch: typeof branch === 'string' ? branch : undefined }
}

function tail(text: string): string {
  const lines = text.trim().split('\n').filter((line) => line.trim() !== '')
  return lines.length > 0 ? `: ${lines.slice(-3).join(' | ')}` : ''
}

/** Keys of a kustomization.yaml that `kubectl apply -f -` can honour: just the resource list. */
const PLAIN_KUSTOMIZATION_KEYS = new Set(['apiVersion', 'kind', 'resources'])

/**
 * kustomize's legacy order (sigs.k8s.io/kustomize api/resid/gvk.go): kinds
 * others depend on go first, webhooks last, so that one apply of a fresh
 * cluster finds each Namespace and CRD before the objects that need it.
 */
const ORDER_FIRST = [
  'Namespace', 'ResourceQuota', 'StorageClass', 'CustomResourceDefinition', 'ServiceAccount', 'PodSecurityPolicy',
  'Role', 'ClusterRole', 'RoleBinding', 'ClusterRoleBinding', 'ConfigMap', 'Secret', 'Endpoints', 'Service',
  'LimitRange', 'PriorityClass', 'PersistentVolume', 'PersistentVolumeClaim', 'Deployment', 'StatefulSet', 'CronJob',
  'PodDisruptionBudget',
]
const ORDER_LAST = ['MutatingWebhookConfiguration', 'ValidatingWebhookConfiguration']

function kindRank(kind: string): number {
  const first = ORDER_FIRST.indexOf(kind)
  if (first >= 0) return first
  const last = ORDER_LAST.indexOf(kind)
  return last >= 0 ? ORDER_FIRST.length + 1 + last : ORDER_FIRST.length
}

/**
 * The YAML stream of one rendered folder (`apps/<id>`, `apps/flux-bootstrap`)
 * for `kubectl apply -f -`: the files its kustomization.yaml lists, in that
 * order, split into documents and ordered by kind as kustomize would.
 * Without kustomize on hand, a kustomization that does more than list files
 * (patches, generators, a namespace…) is refused rather than half applied.
 */
export function manifestStream(plan: Plan, dir: string, label: string): string {
  const kustomizationPath = [`${dir}/kustomization.yaml`, `${dir}/kustomization.yml`].find((file) => plan.has(file))
  if (!kustomizationPath) throw new HomelabError(`${label} has no kustomization.yaml in the render`)
  const kustomization = (parse(text(plan.get(kustomizationPath)!)) ?? {}) as Record<string, unknown>
  const extra = Object.keys(kustomization).filter((key) => !PLAIN_KUSTOMIZATION_KEYS.has(key))
  if (extra.length > 0) {
    throw new HomelabError(`${label}: its kustomization.yaml uses ${extra.join(', ')}, which homelab bootstrap cannot apply without kustomize`, {
      hint: 'a bootstrap app\'s kustomization.yaml may only list resource files; drop `bootstrap: true` and let Flux apply it',
    })
  }
  const resources = Array.isArray(kustomization.resources) ? kustomization.resources : []
  const documents: Array<{ kind: string; text: string }> = []
  for (const resource of resources) {
    const file = `${dir}/${String(resource).replace(/^\.\//, '')}`
    const content = plan.get(file)
    if (typeof resource !== 'string' || content === undefined) {
      throw new HomelabError(`${label}: its kustomization.yaml lists ${JSON.stringify(resource)}, which is not a file of the app`, {
        hint: 'a bootstrap app can only list its own files (no folders, URLs or other apps)',
      })
    }
    documents.push(...splitDocuments(text(content)))
  }
  if (documents.length === 0) throw new HomelabError(`${label} renders no Kubernetes objects`)
  const ordered = documents.map((doc, index) => ({ ...doc, index })).sort((a, b) => kindRank(a.kind) - kindRank(b.kind) || a.index - b.index)
  return ordered.map((doc) => doc.text).join('---\n')
}

/** Split a YAML stream at its `---` lines (a document marker at column 0 is never content); drop empty documents. */
function splitDocuments(stream: string): Array<{ kind: string; text: string }> {
  const out: Array<{ kind: string; text: string }> = []
  for (const chunk of stream.split(/^(?:---|\.\.\.)(?:[ \t]+#.*)?[ \t]*(?:\r?\n|$)/m)) {
    const doc = parseDocument(chunk)
    if (doc.contents === null) continue
    const kind = doc.get('kind')
    out.push({ kind: typeof kind === 'string' ? kind : '', text: chunk.endsWith('\n') ? chunk : `${chunk}\n` })
  }
  return out
}

function text(content: string | Uint8Array): string {
  return typeof content === 'string' ? content : Buffer.from(content).toString('utf8')
}
