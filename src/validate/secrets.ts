import type { ManifestDocument } from './documents.js'
import { findingAt } from './findings.js'
import type { Finding } from './findings.js'

/** Does the object carry a SOPS metadata block (Flux decrypts it before applying)? */
export function isSopsEncrypted(doc: ManifestDocument): boolean {
  const sops = doc.object.sops
  return typeof sops === 'object' && sops !== null && !Array.isArray(sops)
}

/**
 * A core `Secret` whose `data` or `stringData` holds values and that is not
 * encrypted with SOPS would put the secret in plain text into the manifest
 * repository: an error, unless the app sets `allowPlaintextSecrets: true`.
 * The messages name the fields and count the values; they never show a value.
 */
export function findPlaintextSecrets(documents: readonly ManifestDocument[], allowsPlaintext: (app: string | undefined) => boolean): Finding[] {
  const findings: Finding[] = []
  for (const doc of documents) {
    if (doc.group !== '' || doc.kind !== 'Secret' || isSopsEncrypted(doc) || allowsPlaintext(doc.app)) continue
    for (const field of ['data', 'stringData'] as const) {
      const values = doc.object[field]
      if (typeof values !== 'object' || values === null || Array.isArray(values)) continue
      const count = Object.keys(values).length
      if (count === 0) continue
      const optOut = doc.app === undefined ? '' : `, or set allowPlaintextSecrets: true on app "${doc.app}"`
      findings.push(
        findingAt(doc, {
          severity: 'error',
          rule: 'plaintext-secret',
          segments: [field],
          atKey: true,
          message: `${count === 1 ? '1 value is' : `${count} values are`} not encrypted: encrypt the file with SOPS (a sops: block)${optOut}`,
        }),
      )
    }
  }
  return findings
}
