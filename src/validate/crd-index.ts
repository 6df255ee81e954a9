import { readdir, readFile } from 'node:fs/promises'
import path from 'node:path'
import { displayPath } from '../config/load-config.js'
import { HomelabError } from '../errors.js'
import { parseYamlStream } from '../yaml-source.js'

export const CRD_API_VERSION = 'apiextensions.k8s.io/v1'
export const CRD_KIND = 'CustomResourceDefinition'

/** One version of a CRD. */
export interface CrdVersion {
  name: string
  served: boolean
  deprecated: boolean
  deprecationWarning?: string
  /** `schema.openAPIV3Schema`, as written. */
  schema?: unknown
}

/** A CustomResourceDefinition, reduced to what validation needs. */
export interface CrdEntry {
  /** `helmreleases.helm.toolkit.fluxcd.io` */
  name: string
  group: string
  kind: string
  scope: 'Namespaced' | 'Cluster'
  versions: CrdVersion[]
  /** The file it was read from (crds/flux.yaml, or a rendered file). */
  file: string
}

/**
 * The CRDs known to a validation run, by group and kind. First come, first
 * kept. An entry may be lazy: parsed from its YAML only when a rendered
 * object asks for it, because a cluster's CRDs run to megabytes.
 */
export class CrdIndex {
  private readonly byKind = new Map<string, CrdEntry | (() => CrdEntry | undefined)>()
  readonly files: string[] = []

  add(entry: CrdEntry): void {
    this.addLazy(entry.group, entry.kind, entry)
  }

  addLazy(group: string, kind: string, entry: CrdEntry | (() => CrdEntry | undefined)): void {
    const key = `${group}/${kind}`
    if (!this.byKind.has(key)) this.byKind.set(key, entry)
  }

  find(group: string, kind: string): CrdEntry | undefined {
    const key = `${group}/${kind}`
    const found = this.byKind.get(key)
    if (typeof found !== 'function') return found
    const entry = found()
    this.byKind.delete(key)
    if (entry) {
      // a scan that misread the group or kind: keep the entry under what it really is
      this.addLazy(entry.group, entry.kind, entry)
      if (entry.group !== group || entry.kind !== kind) return this.find(group, kind)
    }
    return entry
  }

  hasGroup(group: string): boolean {
    for (const key of this.byKind.keys()) if (key.slice(0, key.lastIndexOf('/')) === group) return true
    return false
  }

  get size(): number {
    return this.byKind.size
  }
}

/** Is this plain object a CustomResourceDefinition? */
export function isCrd(object: unknown): object is Record<string, unknown> {
  const o = object as { apiVersion?: unknown; kind?: unknown } | null
  return typeof o === 'object' && o !== null && o.apiVersion === CRD_API_VERSION && o.kind === CRD_KIND
}

/**
 * Every CRD object in a YAML stream: plain documents, and the items of a
 * `List` (what `kubectl get crd -o yaml` prints). Other kinds are skipped.
 */
export function extractCrdObjects(text: string, file: string): Array<Record<string, unknown>> {
  const { documents } = parseYamlStream(text, file)
  const out: Array<Record<string, unknown>> = []
  for (const doc of documents) {
    if (doc.contents === null) continue
    const object = doc.toJS({ maxAliasCount: 100 }) as unknown
    if (isCrd(object)) out.push(object)
    else if ((object as { kind?: unknown } | null)?.kind === 'List') {
      const items = (object as { items?: unknown }).items
      if (Array.isArray(items)) out.push(...items.filter(isCrd))
    }
  }
  return out
}

/** Reduce a CRD object to an index entry; undefined when it lacks group, kind or versions. */
export function toCrdEntry(object: Record<string, unknown>, file: string): CrdEntry | undefined {
  const spec = object.spec as Record<string, unknown> | undefined
  const names = spec?.names as { kind?: unknown } | undefined
  if (typeof spec?.group !== 'string' || typeof names?.kind !== 'string' || !Array.isArray(spec.versions)) return undefined
  const versions: CrdVersion[] = []
  for (const raw of spec.versions as Array<Record<string, unknown>>) {
    if (typeof raw?.name !== 'string') continue
    versions.push({
      name: raw.name,
      served: raw.served !== false,
      deprecated: raw.deprecated === true,
      deprecationWarning: typeof raw.deprecationWarning === 'string' ? raw.deprecationWarning : undefined,
      schema: (raw.schema as { openAPIV3Schema?: unknown } | undefined)?.openAPIV3Schema,
    })
  }
  const metadata = object.metadata as { name?: unknown } | undefined
  return {
    name: typeof metadata?.name === 'string' ? metadata.name : `${spec.group}/${names.kind}`,
    group: spec.group,
    kind: names.kind,
    scope: spec.scope === 'Cluster' ? 'Cluster' : 'Namespaced',
    versions,
    file,
  }
}

/**
 * Read every CRD from the YAML files in `dir` (the user's `crds/` beside the
 * config; sub-folders too, in name order). A missing folder is an empty index.
 * Documents are only scanned for their group and kind here; each is parsed
 * when a rendered object needs it. A file that does not parse is a
 * HomelabError at its line (for a scanned document: when it is needed).
 */
export async function loadCrdDir(dir: string, index = new CrdIndex()): Promise<CrdIndex> {
  let entries: string[]
  try {
    entries = await readdir(dir, { recursive: true })
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return index
    throw error
  }
  const files = entries
    .filter((entry) => /\.ya?ml$/.test(entry))
    .map((entry) => entry.split(path.sep).join('/'))
    .sort()
  const texts = await Promise.all(files.map((file) => readFile(path.join(dir, file), 'utf8').catch(() => undefined)))
  files.forEach((file, i) => {
    const text = texts[i]
    if (text === undefined) return // a folder named *.yaml, or unreadable: nothing to index
    const shown = displayPath(path.join(dir, file))
    index.files.push(shown)
    for (const chunk of splitDocuments(text) ?? [{ text, line: 0 }]) {
      const scanned = scanCrd(chunk.text)
      if (scanned === 'other') continue
      if (scanned) index.addLazy(scanned.group, scanned.kind, () => parseChunk(chunk, shown)[0])
      else for (const entry of parseChunk(chunk, shown)) index.add(entry)
    }
  })
  return index
}

/** The CRD entries of one piece of a file, with errors placed at their line in the whole file. */
function parseChunk(chunk: { text: string; line: number }, file: string): CrdEntry[] {
  let objects: Array<Record<string, unknown>>
  try {
    objects = extractCrdObjects(chunk.text, file)
  } catch (error) {
    const location = error instanceof HomelabError ? error.location : undefined
    if (!location || location.line === undefined || chunk.line === 0) throw error
    throw new HomelabError(error instanceof Error ? error.message : String(error), { location: { ...location, line: location.line + chunk.line } })
  }
  return objects.map((object) => {
    const entry = toCrdEntry(object, file)
    if (!entry) throw new HomelabError('a CustomResourceDefinition without spec.group, spec.names.kind or spec.versions', { location: { file } })
    return entry
  })
}

/**
 * Split a YAML stream at its `---` lines, each piece with the 0-based line it
 * starts at. Undefined when the text uses what a line split cannot follow
 * (directives, `...`, content on a `---` line): then it is parsed whole.
 */
function splitDocuments(text: string): Array<{ text: string; line: number }> | undefined {
  if (/^(?:%|\.\.\.)/m.test(text) || /^---[ \t]*[^\s#]/m.test(text)) return undefined
  const chunks: Array<{ text: string; line: number }> = []
  const lines = text.split('\n')
  let start = 0
  lines.forEach((line, i) => {
    if (!/^---[ \t]*(?:#.*)?$/.test(line)) return
    chunks.push({ text: lines.slice(start, i).join('\n'), line: start })
    start = i + 1
  })
  chunks.push({ text: lines.slice(start).join('\n'), line: start })
  return chunks
}

/**
 * Group and kind of a CRD document read off its lines, in the layout every
 * CRD generator and `crds pull` write (top-level keys at column 0, two-space
 * indentation). 'other' for a document that is not a CRD; undefined when the
 * lines do not say for sure, and the document must be parsed.
 */
function scanCrd(text: string): { group: string; kind: string } | 'other' | undefined {
  const lines = text.split('\n')
  if (lines.every((line) => /^\s*(?:#.*)?$/.test(line))) return 'other'
  const top = (key: string) => scalarOf(lines.find((line) => line.startsWith(`${key}:`))?.slice(key.length + 1))
  const kind = top('kind')
  const apiVersion = top('apiVersion')
  if (kind === undefined || apiVersion === undefined) return undefined
  if (kind !== CRD_KIND) return kind === 'List' ? undefined : 'other'
  if (apiVersion !== CRD_API_VERSION) return 'other'
  const specAt = lines.findIndex((line) => /^spec:[ \t]*(?:#.*)?$/.test(line))
  if (specAt === -1) return undefined
  let end = lines.findIndex((line, i) => i > specAt && /^[^\s#]/.test(line))
  if (end === -1) end = lines.length
  const spec = lines.slice(specAt + 1, end)
  const group = scalarOf(spec.find((line) => line.startsWith('  group:'))?.slice('  group:'.length))
  const namesAt = spec.findIndex((line) => /^ {2}names:[ \t]*(?:#.*)?$/.test(line))
  let names: string[] = []
  if (namesAt !== -1) {
    const after = spec.slice(namesAt + 1)
    const stop = after.findIndex((line) => /^ {0,2}[^\s#]/.test(line))
    names = stop === -1 ? after : after.slice(0, stop)
  }
  const crdKind = scalarOf(names.find((line) => line.startsWith('    kind:'))?.slice('    kind:'.length))
  return group && crdKind ? { group, kind: crdKind } : undefined
}

/** A plain or quoted one-line scalar; undefined for anything else (flow collections, anchors, tags, block scalars). */
function scalarOf(raw: string | undefined): string | undefined {
  if (raw === undefined) return undefined
  const value = raw.replace(/[ \t]+#.*$/, '').trim()
  const quoted = /^(["'])([^"'\\]*)\1$/.exec(value)
  if (quoted) return quoted[2]
  return /^[A-Za-z0-9][\w./-]*$/.test(value) ? value : undefined
}
