import type { ManifestDocument } from './documents.js'
import { findingAt } from './findings.js'
import type { Finding } from './findings.js'

/** Built-in kinds that live outside namespaces: their identity ignores metadata.namespace. */
const CLUSTER_SCOPED_BUILTINS = new Set([
  '/Namespace', '/Node', '/PersistentVolume', '/ComponentStatus',
  'rbac.authorization.k8s.io/ClusterRole', 'rbac.authorization.k8s.io/ClusterRoleBinding',
  'storage.k8s.io/StorageClass', 'storage.k8s.io/CSIDriver', 'storage.k8s.io/CSINode', 'storage.k8s.io/VolumeAttachment',
  'scheduling.k8s.io/PriorityClass', 'node.k8s.io/RuntimeClass', 'networking.k8s.io/IngressClass',
  'apiextensions.k8s.io/CustomResourceDefinition', 'apiregistration.k8s.io/APIService',
  'admissionregistration.k8s.io/ValidatingWebhookConfiguration', 'admissionregistration.k8s.io/MutatingWebhookConfiguration',
  'admissionregistration.k8s.io/ValidatingAdmissionPolicy', 'admissionregistration.k8s.io/ValidatingAdmissionPolicyBinding',
  'certificates.k8s.io/CertificateSigningRequest', 'flowcontrol.apiserver.k8s.io/FlowSchema',
  'flowcontrol.apiserver.k8s.io/PriorityLevelConfiguration',
])

export interface IdentityContext {
  /** Scope from the CRD for custom kinds; undefined when unknown. */
  crdScope(group: string, kind: string): 'Namespaced' | 'Cluster' | undefined
  /** The `targetNamespace` Flux forces onto every object of an app, if any. */
  targetNamespace(app: string | undefined): string | undefined
}

/** group, kind, namespace and name: what the API server knows an object by. */
export function objectIdentity(doc: ManifestDocument, context: IdentityContext): { key: string; shown: string } {
  const scope = context.crdScope(doc.group, doc.kind) ?? (CLUSTER_SCOPED_BUILTINS.has(`${doc.group}/${doc.kind}`) ? 'Cluster' : 'Namespaced')
  const namespace = scope === 'Cluster' ? '' : (context.targetNamespace(doc.app) ?? doc.namespace ?? '')
  const kind = doc.group ? `${doc.kind}.${doc.group}` : doc.kind
  return {
    key: [doc.group, doc.kind, namespace, doc.name].join('\u0000'),
    shown: `${kind} ${namespace ? `${namespace}/` : ''}${doc.name}`,
  }
}

/**
 * The same object rendered twice: two apps (Flux would have two
 * Kustomizations fight over it, and pruning one deletes the other's object),
 * or twice in one app (kustomize refuses to build). One error per extra copy,
 * naming both apps and files.
 */
export function findDuplicates(documents: readonly ManifestDocument[], context: IdentityContext): Finding[] {
  const first = new Map<string, ManifestDocument>()
  const findings: Finding[] = []
  for (const doc of documents) {
    const { key, shown } = objectIdentity(doc, context)
    const earlier = first.get(key)
    if (!earlier) {
      first.set(key, doc)
      continue
    }
    const where = (d: ManifestDocument) => `${d.app === undefined ? 'the generated Flux objects' : `app "${d.app}"`} (${d.file})`
    const message =
      earlier.app === doc.app
        ? `${shown} is rendered twice by ${where(earlier)} and ${doc.file}: kustomize will refuse to build the folder`
        : `${shown} is rendered by both ${where(earlier)} and ${where(doc)}: each Flux Kustomization would overwrite it, and pruning one deletes it`
    findings.push(findingAt(doc, { severity: 'error', rule: 'duplicate', segments: ['metadata', 'name'], message }))
  }
  return findings
}
