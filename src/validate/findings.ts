/** What `homelab validate` reports: one finding per problem, precise enough to act on. */
import { escapeControl, formatLocation } from '../errors.js'
import type { HomelabError, SourceLocation } from '../errors.js'
import { formatPath } from '../yaml-source.js'
import { lineOf } from './documents.js'
import type { ManifestDocument } from './documents.js'

export type Severity = 'error' | 'warning'

/**
 * Which check produced a finding about a rendered object: `schema` (fails the
 * Kubernetes or CRD schema), `no-schema` (kind known to no schema), `version`
 * (a CRD version that is not served, or deprecated), `duplicate` (same object
 * twice), `plaintext-secret` (a Secret not encrypted with SOPS).
 */
export type ObjectRule = 'schema' | 'no-schema' | 'version' | 'duplicate' | 'plaintext-secret'

/**
 * Which check produced a finding about the config or a template file itself:
 * `input` (the config, the templates or crds/ did not load or render, so no
 * object was checked), `bootstrap` (a `bootstrap: true` app or a `flux`
 * section that `homelab bootstrap` refuses).
 */
export type SourceRule = 'input' | 'bootstrap'

export type FindingRule = ObjectRule | SourceRule

/** A finding about one rendered object. */
export interface ObjectFinding {
  severity: Severity
  rule: ObjectRule
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

/** A finding at a line of the config or a template, as the `error:` line of the same problem names it. */
export interface SourceFinding {
  severity: Severity
  rule: SourceRule
  /** The file as the error line shows it (`homelab.config.yaml`, `templates/web/deployment.yaml.hbs`); absent when no file is to blame. */
  file?: string
  /** 1-based line and column, where known. */
  line?: number
  column?: number
  message: string
  /** What to do about it, where the error says. */
  hint?: string
}

export type Finding = ObjectFinding | SourceFinding

/** Whether a finding is about the config or a template rather than a rendered object. */
export function isSourceFinding(finding: Finding): finding is SourceFinding {
  return finding.rule === 'input' || finding.rule === 'bootstrap'
}

/**
 * A HomelabError as a finding: its location (else `fallback`), its message on
 * one line, its hint.
 */
export function sourceFinding(error: HomelabError, rule: SourceRule, fallback?: SourceLocation): SourceFinding {
  const location = error.location ?? fallback
  const finding: SourceFinding = { severity: 'error', rule, file: location?.file, line: location?.line, column: location?.col, message: error.flatMessage, hint: error.hint }
  for (const key of ['file', 'line', 'column', 'hint'] as const) if (finding[key] === undefined) delete finding[key]
  return finding
}

/**
 * An object finding: `<file>: <kind>/<name>: <path>: <message>`; a source
 * finding: `<file>:<line>:<col>: <message>`. Warnings marked as such.
 */
export function formatFinding(finding: Finding): string {
  const severity = finding.severity === 'warning' ? 'warning: ' : ''
  if (isSourceFinding(finding)) {
    const where = escapeControl(formatLocation(finding.file === undefined ? undefined : { file: finding.file, line: finding.line, col: finding.column }))
    return `${where ? `${where}: ` : ''}${severity}${finding.message}`
  }
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
  fields: { severity: Severity; rule: ObjectRule; segments: Array<string | number>; message: string; atKey?: boolean },
): ObjectFinding {
  const finding: ObjectFinding = {
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
