import type { ErrorObject } from 'ajv'
import { pointerToPath } from '../config/schema-check.js'
import type { CrdEntry, CrdIndex } from './crd-index.js'
import { crdValidator } from './crd-schemas.js'
import type { ManifestDocument } from './documents.js'
import { findingAt } from './findings.js'
import type { Finding } from './findings.js'
import { builtinValidator } from './kubernetes-schemas.js'
import type { SchemaValidator } from './kubernetes-schemas.js'
import { describeSchemaErrors, valueAt } from './schema-errors.js'
import { isSopsEncrypted } from './secrets.js'

export interface SchemaCheckOptions {
  /** A kind with no schema anywhere is an error instead of a warning. */
  strict: boolean
}

/**
 * Check every document against its schema: a CRD of `crds` (by group and
 * kind, then version) first, else the Kubernetes built-in schemas. The
 * validators of the kinds present are loaded once, in parallel.
 */
export async function checkSchemas(documents: readonly ManifestDocument[], crds: CrdIndex, options: SchemaCheckOptions): Promise<Finding[]> {
  const builtins = new Map<string, SchemaValidator | undefined>()
  const wanted = [...new Set(documents.filter((doc) => !crds.find(doc.group, doc.kind)).map((doc) => `${doc.apiVersion} ${doc.kind}`))]
  await Promise.all(
    wanted.map(async (key) => {
      const [apiVersion = '', kind = ''] = key.split(' ')
      builtins.set(key, await builtinValidator(apiVersion, kind))
    }),
  )
  const findings: Finding[] = []
  for (const doc of documents) {
    const crd = crds.find(doc.group, doc.kind)
    findings.push(...(crd ? checkCustomResource(doc, crd, options) : checkBuiltin(doc, builtins.get(`${doc.apiVersion} ${doc.kind}`), crds, options)))
  }
  return findings
}

function checkBuiltin(doc: ManifestDocument, validate: SchemaValidator | undefined, crds: CrdIndex, options: SchemaCheckOptions): Finding[] {
  if (validate) return problemsOf(doc, validate)
  const where = crds.hasGroup(doc.group) ? `no CRD of kind ${doc.kind} among the CRDs of ${doc.group} in crds/` : 'no CRD for it in crds/'
  const builtinGroup = doc.group === '' || !doc.group.includes('.') || doc.group.endsWith('.k8s.io')
  const message = builtinGroup
    ? `no schema for ${doc.apiVersion} ${doc.kind}: the Kubernetes API schemas have no such kind, and ${where}`
    : `no schema for ${doc.apiVersion} ${doc.kind}: ${where}`
  return [findingAt(doc, { severity: options.strict ? 'error' : 'warning', rule: 'no-schema', segments: ['apiVersion'], message })]
}

function checkCustomResource(doc: ManifestDocument, crd: CrdEntry, options: SchemaCheckOptions): Finding[] {
  const served = crd.versions.filter((v) => v.served).map((v) => `${crd.group}/${v.name}`)
  const version = crd.versions.find((v) => v.name === doc.version)
  if (!version || !version.served) {
    const what = version ? 'is no longer served by' : 'is not a version of'
    const message = `${doc.apiVersion} ${what} the CRD ${crd.name} (${crd.file}); use ${served.join(' or ') || 'a served version'}`
    return [findingAt(doc, { severity: 'error', rule: 'version', segments: ['apiVersion'], message })]
  }
  const findings: Finding[] = []
  if (version.deprecated) {
    const message = version.deprecationWarning ?? `${doc.apiVersion} ${doc.kind} is deprecated; use ${served.filter((v) => v !== doc.apiVersion).join(' or ')}`
    findings.push(findingAt(doc, { severity: 'warning', rule: 'version', segments: ['apiVersion'], message }))
  }
  const compiled = crdValidator(version)
  if ('error' in compiled) {
    const message = `the schema of ${doc.apiVersion} ${doc.kind} in ${crd.file} could not be compiled (${compiled.error}): not checked`
    findings.push(findingAt(doc, { severity: options.strict ? 'error' : 'warning', rule: 'no-schema', segments: ['apiVersion'], message }))
    return findings
  }
  findings.push(...problemsOf(doc, compiled.validate))
  return findings
}

/** Run a validator on the object as Flux applies it (SOPS block removed) and describe what fails. */
function problemsOf(doc: ManifestDocument, validate: SchemaValidator): Finding[] {
  const encrypted = isSopsEncrypted(doc)
  const object = encrypted ? withoutSops(doc.object) : doc.object
  let errors: ErrorObject[] = validate(object)
  // SOPS ciphertext (ENC[…]) stands where the decrypted value will be: its form says nothing
  if (encrypted) errors = errors.filter((e) => !String(valueAt(object, pointerToPath(e.instancePath)) ?? '').startsWith('ENC['))
  const showValues = !(doc.group === '' && doc.kind === 'Secret')
  return describeSchemaErrors(errors, object, { showValues }).map((problem) =>
    findingAt(doc, { severity: 'error', rule: 'schema', segments: problem.segments, message: problem.message, atKey: problem.atKey }),
  )
}

function withoutSops(object: Record<string, unknown>): Record<string, unknown> {
  const { sops: _sops, ...rest } = object
  return rest
}
