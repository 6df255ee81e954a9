import type { ManifestObject } from './check-manifests.js'
import { findRefFieldProblem } from './kustomize-refs.js'
import { readPlainYaml } from './yaml-quick.js'

/**
 * The quick path of the manifest check: plain block YAML, what templates
 * render, read in one pass by the quick reader (yaml-quick.ts) without a
 * parse tree. Returns the file's objects only when the reader is sure of the
 * file and every document is an object with apiVersion, kind and
 * metadata.name whose name-reference fields kubectl kustomize can walk
 * (kustomize-refs.ts); undefined otherwise, and the file goes through the full
 * check, which accepts it or finds the error with its line and column.
 * tests/manifest-scan.test.ts holds it to the full check on thousands of
 * mutated files.
 */
export function scanManifest(text: string, file: string): ManifestObject[] | undefined {
  const documents = readPlainYaml(text, { structureOnly: true })
  if (!documents) return undefined
  const objects: ManifestObject[] = []
  for (const { value, line } of documents) {
    const { apiVersion, kind, metadata } = value
    const fields = metadata !== null && typeof metadata === 'object' && !Array.isArray(metadata) ? (metadata as Record<string, unknown>) : {}
    const { name, namespace } = fields
    if (!isNonEmptyString(apiVersion) || !isNonEmptyString(kind) || !isNonEmptyString(name)) return undefined
    if (namespace !== undefined && namespace !== null && typeof namespace !== 'string') return undefined
    if (findRefFieldProblem(value)) return undefined
    objects.push({ id: [apiVersion, kind, namespace ?? '', name].join('/'), apiVersion, kind, name, location: { file, line, col: 1 } })
  }
  return objects
}

function isNonEmptyString(value: unknown): value is string {
  return typeof value === 'string' && value !== ''
}
