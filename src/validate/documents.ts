import { posix } from 'node:path'
import { parse } from 'yaml'
import type { ResolvedConfig } from '../config/types.js'
import type { Plan } from '../render.js'
import { locate, parseYamlStream } from '../yaml-source.js'
import type { YamlPath, YamlSource } from '../yaml-source.js'

/** One Kubernetes object of the render, as Flux (through kustomize) would apply it. */
export interface ManifestDocument {
  /** Position in the render: findings are sorted by it. */
  order: number
  /** Plan path: `apps/whoami/deployment.yaml`. */
  file: string
  /** The app whose folder holds the file; undefined for the generated `apps/flux*` folders. */
  app?: string
  apiVersion: string
  /** API group: '' for the core group (`v1`). */
  group: string
  version: string
  kind: string
  name: string
  namespace?: string
  object: Record<string, unknown>
  /** The parsed document with positions, to point at a line. */
  source: YamlSource
}

const KUSTOMIZATION_FILES = ['kustomization.yaml', 'kustomization.yml', 'Kustomization']

/**
 * Every object the render would have Flux apply: the files listed in the
 * `resources` of each `apps/<folder>/kustomization.yaml` (following listed
 * sub-folders with their own kustomization). Files that are not resources
 * (kustomization.yaml itself, generator inputs) are not Kubernetes objects
 * and are left out.
 */
export function collectDocuments(config: ResolvedConfig, plan: Plan): ManifestDocument[] {
  const appIds = new Set(config.apps.map((app) => app.id))
  const files = new Set<string>()
  const folders = [...new Set([...plan.keys()].map((file) => file.split('/').slice(0, 2).join('/')))].sort()
  for (const folder of folders) collectResources(plan, folder, files, new Set())
  const documents: ManifestDocument[] = []
  for (const file of [...plan.keys()].filter((f) => files.has(f))) {
    const folder = file.split('/')[1] ?? ''
    const app = appIds.has(folder) ? folder : undefined
    documents.push(...parseManifests(textOf(plan.get(file)), file, app, documents.length))
  }
  return documents
}

/** The resources of the kustomization in `folder`, added to `out`. */
function collectResources(plan: Plan, folder: string, out: Set<string>, seen: Set<string>): void {
  if (seen.has(folder)) return
  seen.add(folder)
  const kustomization = KUSTOMIZATION_FILES.map((name) => `${folder}/${name}`).find((file) => plan.has(file))
  if (!kustomization) return
  let data: unknown
  try {
    data = parse(textOf(plan.get(kustomization)))
  } catch {
    return // not our concern here: kustomize reports it
  }
  const resources = (data as { resources?: unknown } | null)?.resources
  if (!Array.isArray(resources)) return
  for (const entry of resources) {
    if (typeof entry !== 'string' || /^[a-z]+:\/\//i.test(entry)) continue
    const target = posix.normalize(posix.join(folder, entry)).replace(/\/$/, '')
    if (plan.has(target)) out.add(target)
    else collectResources(plan, target, out, seen)
  }
}

function textOf(content: string | Uint8Array | undefined): string {
  if (content === undefined) return ''
  return typeof content === 'string' ? content : Buffer.from(content).toString('utf8')
}

/** The non-empty documents of one rendered file (the render already checked their shape). */
export function parseManifests(text: string, file: string, app: string | undefined, firstOrder = 0): ManifestDocument[] {
  const { documents, lineCounter } = parseYamlStream(text, file)
  const out: ManifestDocument[] = []
  for (const doc of documents) {
    if (doc.contents === null) continue
    const object = doc.toJS({ maxAliasCount: 100 }) as Record<string, unknown>
    if (!object || typeof object !== 'object' || Array.isArray(object)) continue
    const apiVersion = String(object.apiVersion ?? '')
    const slash = apiVersion.lastIndexOf('/')
    const metadata = (object.metadata ?? {}) as Record<string, unknown>
    out.push({
      order: firstOrder + out.length,
      file,
      app,
      apiVersion,
      group: slash === -1 ? '' : apiVersion.slice(0, slash),
      version: apiVersion.slice(slash + 1),
      kind: String(object.kind ?? ''),
      name: String(metadata.name ?? ''),
      namespace: typeof metadata.namespace === 'string' ? metadata.namespace : undefined,
      object,
      source: { file, doc, lineCounter },
    })
  }
  return out
}

/** The 1-based line of the node at `path` in the document (its nearest existing parent if missing). */
export function lineOf(doc: ManifestDocument, path: YamlPath, options: { key?: boolean } = {}): number | undefined {
  return locate(doc.source, path, options).line
}
