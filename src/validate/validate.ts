import path from 'node:path'
import type { ResolvedConfig } from '../config/types.js'
import type { Plan } from '../render.js'
import { findBootstrapProblems } from './bootstrap-apps.js'
import { CrdIndex, isCrd, loadCrdDir, toCrdEntry } from './crd-index.js'
import { collectDocuments } from './documents.js'
import type { ManifestDocument } from './documents.js'
import { findDuplicates } from './duplicates.js'
import { isSourceFinding } from './findings.js'
import type { Finding } from './findings.js'
import { checkSchemas } from './object-schemas.js'
import { findPlaintextSecrets } from './secrets.js'

export interface ValidateOptions {
  /** A kind with no schema anywhere is an error, not a warning. */
  strict?: boolean
  /** Where the user keeps CRDs; default `crds/` beside the config. */
  crdsDir?: string
}

export interface ValidationReport {
  /** Sorted by file (render order), then line. */
  findings: Finding[]
  /** Kubernetes objects checked. */
  documents: number
  /** CRD files read from the crds folder. */
  crdFiles: string[]
  /** What to do about the warnings, for people (e.g. run `homelab crds pull`). */
  hints: string[]
}

/** The folder of CRDs beside a config. */
export function crdsDirOf(config: ResolvedConfig): string {
  return path.join(config.root, 'crds')
}

/**
 * Validate a render offline: every object against its schema (CRDs rendered
 * by the apps or kept in `crds/`, else the Kubernetes built-in schemas), the
 * same object rendered twice, Secrets in plain text, `bootstrap: true` apps
 * and a `flux` section that `homelab bootstrap` would refuse. Returns findings; throws
 * only for unreadable input (a CRD file that does not parse).
 */
export async function validateRender(rendered: { config: ResolvedConfig; plan: Plan }, options: ValidateOptions = {}): Promise<ValidationReport> {
  const { config, plan } = rendered
  const documents = collectDocuments(config, plan)
  const crds = new CrdIndex()
  // CRDs the render itself installs come first: they are what the cluster will have
  for (const doc of documents) {
    const entry = isCrd(doc.object) ? toCrdEntry(doc.object, doc.file) : undefined
    if (entry) crds.add(entry)
  }
  await loadCrdDir(options.crdsDir ?? crdsDirOf(config), crds)

  const apps = new Map(config.apps.map((app) => [app.id, app]))
  const findings = [
    ...findBootstrapProblems(config, plan),
    ...(await checkSchemas(documents, crds, { strict: options.strict ?? false })),
    ...findDuplicates(documents, {
      crdScope: (group, kind) => crds.find(group, kind)?.scope,
      targetNamespace: (app) => (app === undefined ? undefined : apps.get(app)?.kustomization.targetNamespace),
    }),
    ...findPlaintextSecrets(documents, (app) => app !== undefined && apps.get(app)?.allowPlaintextSecrets === true),
  ]
  return { findings: sortFindings(findings, documents), documents: documents.length, crdFiles: crds.files, hints: hintsFor(findings) }
}

/** Findings about the config first, then by rendered file in render order, then line. */
function sortFindings(findings: Finding[], documents: readonly ManifestDocument[]): Finding[] {
  const fileOrder = new Map<string, number>()
  for (const doc of documents) if (!fileOrder.has(doc.file)) fileOrder.set(doc.file, doc.order)
  const order = (finding: Finding) => (isSourceFinding(finding) ? -1 : (fileOrder.get(finding.file) ?? 0))
  return findings
    .map((finding, i) => ({ finding, i }))
    .sort((a, b) => order(a.finding) - order(b.finding) || (a.finding.line ?? 0) - (b.finding.line ?? 0) || a.i - b.i)
    .map(({ finding }) => finding)
}

function hintsFor(findings: readonly Finding[]): string[] {
  const groups = new Set(findings.flatMap((f) => (f.rule === 'no-schema' ? [f.apiVersion.split('/').slice(0, -1).join('/')] : [])))
  // a config finding's own hint says what to change there
  const hints = [...new Set(findings.flatMap((f) => (isSourceFinding(f) && f.hint !== undefined ? [f.hint] : [])))]
  const flux = [...groups].filter((group) => group.endsWith('.toolkit.fluxcd.io'))
  if (flux.length > 0) hints.push('run homelab crds pull to put the CRDs of your Flux into crds/, so Flux kinds are checked too')
  const others = [...groups].filter((group) => group.includes('.') && !group.endsWith('.toolkit.fluxcd.io') && !group.endsWith('.k8s.io')).sort()
  if (others.length > 0) {
    hints.push(`put the CRDs of ${others.join(', ')} into crds/ beside the config (homelab crds pull --from-cluster takes every CRD of the current cluster)`)
  }
  return hints
}
