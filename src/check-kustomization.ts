import { posix } from 'node:path'
import { LineCounter, isAlias, isMap, isScalar, isSeq, parseAllDocuments } from 'yaml'
import type { Document, YAMLMap } from 'yaml'
import { HomelabError } from './errors.js'
import type { SourceLocation } from './errors.js'
import { compare } from './order.js'
import { closestMatch } from './suggest.js'
import { cleanYamlMessage } from './yaml-source.js'

/** What an app's rendered folder holds, for checking the paths its own kustomization names. */
export interface AppFolder {
  /** Paths inside the folder (with `/`) of every file the render writes there. */
  files: ReadonlyMap<string, unknown>
  /** Files the render left out because every document rendered empty: path inside the folder → template file. */
  leftOut: ReadonlyMap<string, string>
}

/** What the rest of the render needs to know of a template's own kustomization. */
export interface OwnKustomization {
  /** Its `namespace`: kustomize moves every object there and renames Namespace objects to it. */
  namespace?: { value: string; location: SourceLocation }
}

/** What kustomize needs at a path: a file, a folder with a kustomization, or either. */
type Want = 'file' | 'folder' | 'either'

/** One local-looking path the kustomization names, with where it is written. */
interface Reference {
  /** The field, as a reader finds it: `resources`, `patches[0].path`. */
  field: string
  entry: string
  want: Want
  location: SourceLocation
}

interface ReadKustomization extends OwnKustomization {
  references: Reference[]
}

const KUSTOMIZATION_FILES = ['kustomization.yaml', 'kustomization.yml', 'Kustomization']

/**
 * Check a template's own kustomization (rendered or copied) against the
 * folder it sits in: `kubectl kustomize` fails the whole folder when it names
 * a local file or folder that is not there, which happens most easily when
 * the render leaves out a file whose documents all rendered empty. Checked:
 * `resources` (and the old `bases`), `components`, `patches[].path`,
 * `patchesJson6902[].path`, `crds`, and the `files`, `envs` and `env` of
 * `configMapGenerator` and `secretGenerator`. Remote entries and paths that
 * leave the folder are kustomize's to resolve. `file`: the template file, as
 * errors name it; `context`: which app, for messages.
 */
export function checkOwnKustomization(text: string, file: string, folder: AppFolder, context: string): OwnKustomization {
  const read = readKustomization(text, file, context)
  for (const reference of read.references) checkReference(reference, folder, file, context)
  return { namespace: read.namespace }
}

/** Parsed kustomizations by file and text: a copied one is the same for every app of its template. */
const READ = new Map<string, ReadKustomization>()
const MAX_READ = 64

function readKustomization(text: string, file: string, context: string): ReadKustomization {
  const cacheKey = `${file}\0${text}`
  const cached = READ.get(cacheKey)
  if (cached) return cached
  const lineCounter = new LineCounter()
  // kustomize reads the first document only, and lets a later duplicate key win: so do we
  const parsed = parseAllDocuments(text, { lineCounter, uniqueKeys: false, prettyErrors: false, logLevel: 'error' })
  const doc = Array.isArray(parsed) ? parsed[0] : undefined
  const at = (offset: number): SourceLocation => ({ file, ...lineCounter.linePos(offset) })
  const error = doc?.errors[0]
  if (error) {
    throw new HomelabError(`${cleanYamlMessage(error.message)} (${context})`, { location: at(error.pos[0]), hint: 'kubectl kustomize cannot read the kustomization: the folder would not build' })
  }
  const root = doc ? resolved(doc.contents, doc) : null
  if (!doc || !isMap(root)) {
    const what = root === null || (isScalar(root) && root.value === null) ? 'is empty' : 'is not a mapping'
    throw new HomelabError(`the kustomization ${what}: kubectl kustomize cannot build the folder (${context})`, { location: { file } })
  }
  const read: ReadKustomization = { references: [] }
  const add = (field: string, node: unknown, want: Want, strip?: (entry: string) => string) => {
    if (!isScalar(node) || typeof node.value !== 'string') return
    read.references.push({ field, entry: strip ? strip(node.value) : node.value, want, location: at(node.range?.[0] ?? 0) })
  }
  const list = (node: unknown): unknown[] => {
    const value = resolved(node, doc)
    return isSeq(value) ? value.items.map((item) => resolved(item, doc)) : []
  }
  const field = (map: unknown, key: string): unknown => (isMap(map) ? resolved(lastValue(map, key), doc) : undefined)

  for (const key of ['resources', 'bases']) for (const item of list(field(root, key))) add(key, item, 'either')
  for (const item of list(field(root, 'components'))) add('components', item, 'folder')
  for (const item of list(field(root, 'crds'))) add('crds', item, 'file')
  for (const key of ['patches', 'patchesJson6902']) {
    list(field(root, key)).forEach((patch, i) => add(`${key}[${i}].path`, field(patch, 'path'), 'file'))
  }
  for (const key of ['configMapGenerator', 'secretGenerator']) {
    list(field(root, key)).forEach((generator, i) => {
      // `files` entries are `path` or `key=path`
      for (const item of list(field(generator, 'files'))) add(`${key}[${i}].files`, item, 'file', (entry) => entry.slice(entry.indexOf('=') + 1))
      for (const item of list(field(generator, 'envs'))) add(`${key}[${i}].envs`, item, 'file')
      add(`${key}[${i}].env`, field(generator, 'env'), 'file')
    })
  }
  const namespace = field(root, 'namespace')
  if (isScalar(namespace) && typeof namespace.value === 'string' && namespace.value !== '') {
    read.namespace = { value: namespace.value, location: at(namespace.range?.[0] ?? 0) }
  }
  if (READ.size >= MAX_READ) READ.clear()
  READ.set(cacheKey, read)
  return read
}

function resolved(node: unknown, doc: Document): unknown {
  return isAlias(node) ? node.resolve(doc) : node
}

function lastValue(map: YAMLMap, key: string): unknown {
  for (let i = map.items.length - 1; i >= 0; i--) {
    const pair = map.items[i]
    if (pair && isScalar(pair.key) && pair.key.value === key) return pair.value
  }
  return undefined
}

/** Fetched by kustomize rather than read from the folder: a URL, or a git address. */
const REMOTE = /:\/\/|^git@|^git::/
/** Maybe remote, when nothing local has the name: `github.com/org/repo//path`, `…?ref=v1`. */
const HOST_OR_QUERY = /^[^/]*\.[^/]*\/.|\?/

function checkReference(reference: Reference, folder: AppFolder, file: string, context: string): void {
  const { field, entry, want, location } = reference
  if (REMOTE.test(entry) || posix.isAbsolute(entry)) return
  const path = posix.normalize(entry).replace(/\/+$/, '')
  if (path === '..' || path.startsWith('../')) return
  if (path === '.') return
  const fail = (problem: string, hint?: string) => {
    throw new HomelabError(`${field} names "${entry}", ${problem} (${context}): kubectl kustomize cannot build the folder`, { location, hint })
  }
  const isFile = folder.files.has(path)
  const isFolder = !isFile && [...folder.files.keys()].some((name) => name.startsWith(`${path}/`))
  if (isFile) {
    if (want === 'folder') fail('a file, where kustomize expects a folder with a kustomization.yaml')
    return
  }
  if (isFolder) {
    if (want === 'file') fail('a folder, where kustomize expects a file')
    if (!KUSTOMIZATION_FILES.some((name) => folder.files.has(`${path}/${name}`))) fail('a folder without a kustomization.yaml')
    return
  }
  const leftOutFrom = folder.leftOut.get(path)
  if (leftOutFrom !== undefined) {
    const sameCondition = file.endsWith('.hbs') ? 'put the entry in the same {{#if}} as the file' : 'make the kustomization a template (kustomization.yaml.hbs) and put the entry in the same {{#if}} as the file'
    fail(`which the render left out: every document of ${leftOutFrom} rendered empty`, `${sameCondition}, or drop the entry`)
  }
  if (HOST_OR_QUERY.test(entry)) return
  const near = closestMatch(path, folder.files.keys())
  fail('which is not in the template', near === undefined ? `the folder holds ${listed([...folder.files.keys()])}` : `did you mean "${near}"?`)
}

function listed(files: string[]): string {
  const shown = files.sort(compare).slice(0, 10)
  return files.length > shown.length ? `${shown.join(', ')} and ${files.length - shown.length} more` : shown.join(', ')
}
