/** What `homelab validate` reports: one finding per problem, precise enough to act on. */
import { formatPath } from '../yaml-source.js'
import { lineOf } from './documents.js'
import type { ManifestDocument } from './documents.js'

export type Severity = 'error' | 'warning'

/**
 * Which check produced a finding: `schema` (fails the Kubernetes or CRD
 * schema), `no-schema` (kind known to no schema), `version` (a CRD version
 * that is not served, or deprecated), `duplicate` (same object twice),
 * `plaintext-secret` (a Secret not encrypted with SOPS).
 */
export type FindingRule = 'schema' | 'no-schema' | 'version' | 'duplicate' | 'plaintext-secret'

export interface Finding {
  severity: Severity
  rule: FindingRule
  /** The rendered file, relative to the output folder: `apps/whoami/deployment.yaml`. */
  file: string
  /** 1-based line of the offending node in the rendered file, where known. */
  line?: number
  /** The app that rendered the file; absent for the generated Flux folders. */
  app?: string
  apiVersion: string
  kind: string
  name: string
  namespace?: string
  /** Where inside the object: `spec.replicas`, `spec.template.spec.containers[0].image`. */
  path: string
  message: string
}

/** `<file>: <kind>/<name>: <path>: <message>`, warnings marked as such. */
export function formatFinding(finding: Finding): string {
  const severity = finding.severity === 'warning' ? 'warning: ' : ''
  return `${finding.file}: ${finding.kind}/${finding.name}: ${finding.path}: ${severity}${finding.message}`
}

/** Count errors and warnings. */
export function countFindings(findings: readonly Finding[]): { errors: number; warnings: number } {
  let errors = 0
  for (const finding of findings) if (finding.severity === 'error') errors++
  return { errors, warnings: findings.length - errors }
}

/** A finding about one rendered object, with its line looked up from `segments`. */
export function findingAt(
  doc: ManifestDocument,
  fields: { severity: Severity; rule: FindingRule; segments: Array<string | number>; message: string; atKey?: boolean },
): Finding {
  const finding: Finding = {
    severity: fields.severity,
    rule: fields.rule,
    file: doc.file,
    line: lineOf(doc, fields.segments, { key: fields.atKey }),
    app: doc.app,
    apiVersion: doc.apiVersion,
    kind: doc.kind,
    name: doc.name,
    namespace: doc.namespace,
    path: formatPath(fields.segments) || '(object)',
    message: fields.message,
  }
  if (finding.app === undefined) delete finding.app
  if (finding.namespace === undefined) delete finding.namespace
  return finding
}
