/**
 * What a render would change in an output folder (or a checked-out manifest
 * repository): a unified diff per file and what that means per app, above
 * all which apps Flux would prune. Reads only; writes nothing.
 */
import path from 'node:path'
import { createTwoFilesPatch, FILE_HEADERS_ONLY } from 'diff'
import { parseAllDocuments } from 'yaml'
import { FLUX_APPS_DIR, FLUX_BOOTSTRAP_DIR } from './flux-objects.js'
import { compare } from './order.js'
import type { FileContent, Plan } from './render.js'
import { comparePlan, listOutputFiles, readIfExists } from './write-plan.js'

export type Change = 'added' | 'changed' | 'removed'

/** One file that differs, with its unified diff (`--- a/<file>` / `+++ b/<file>`). */
export interface FileDiff {
  file: string
  change: Change
  patch: string
}

/** One app whose folder or Flux Kustomization differs. */
export interface AppDiff {
  id: string
  change: Change
  /** Its files that differ: under `apps/<id>/`, and `apps/flux/<id>.yaml`. */
  files: string[]
  /** Its Flux Kustomization goes away with pruning on: Flux deletes every object the app had applied. */
  prune: boolean
  /** Its Flux Kustomization goes away but prune is off: its objects stay in the cluster, unmanaged. */
  orphaned: boolean
  /** Added app that looks like a removed one under a new id (same file names): an id change is a delete + create. */
  replaces?: string
  /** Removed app that looks renamed to this added one. */
  replacedBy?: string
}

export interface PlanDiff {
  files: FileDiff[]
  apps: AppDiff[]
  unchanged: number
}

const TEXT = new TextDecoder('utf-8', { fatal: true })

/** Content as text, or undefined when it is binary (a NUL byte or invalid UTF-8). */
function asText(content: FileContent | Buffer): string | undefined {
  if (typeof content === 'string') return content
  if (content.includes(0)) return undefined
  try {
    return TEXT.decode(content)
  } catch {
    return undefined
  }
}

/** A git-style unified diff of one file; `undefined` content: the file does not exist on that side. */
export function filePatch(file: string, before: FileContent | Buffer | undefined, after: FileContent | Buffer | undefined): string {
  const oldName = before === undefined ? '/dev/null' : `a/${file}`
  const newName = after === undefined ? '/dev/null' : `b/${file}`
  const oldText = before === undefined ? '' : asText(before)
  const newText = after === undefined ? '' : asText(after)
  if (oldText === undefined || newText === undefined) return `Binary files ${oldName} and ${newName} differ\n`
  return createTwoFilesPatch(oldName, newName, oldText, newText, undefined, undefined, { context: 3, headerOptions: FILE_HEADERS_ONLY })
}

/** The app a file belongs to: `apps/<id>/…` or its Flux Kustomization `apps/flux/<id>.yaml`. */
function appOf(file: string): string | undefined {
  if (file.startsWith(`${FLUX_BOOTSTRAP_DIR}/`)) return undefined
  if (file.startsWith(`${FLUX_APPS_DIR}/`)) {
    const name = file.slice(FLUX_APPS_DIR.length + 1)
    return /^kustomization\.ya?ml$/.test(name) || name.includes('/') ? undefined : name.replace(/\.ya?ml$/, '')
  }
  return file.split('/')[1]
}

/** App ids with a folder among `files`. */
function appFolders(files: Iterable<string>): Map<string, string[]> {
  const apps = new Map<string, string[]>()
  for (const file of files) {
    const [root, id, ...rest] = file.split('/')
    if (root !== 'apps' || !id || rest.length === 0 || `apps/${id}` === FLUX_APPS_DIR || `apps/${id}` === FLUX_BOOTSTRAP_DIR) continue
    apps.set(id, [...(apps.get(id) ?? []), rest.join('/')])
  }
  return apps
}

/**
 * Whether deleting this Flux Kustomization deletes what it applied: Flux
 * garbage-collects on deletion when `deletionPolicy` says Delete or
 * WaitForTermination, never with Orphan, and otherwise (MirrorPrune, the
 * default) when `prune` is on. Unreadable YAML counts as pruning: better a
 * false alarm than a silent deletion.
 */
export function prunesOnDelete(kustomizationYaml: string): boolean {
  for (const doc of parseAllDocuments(kustomizationYaml)) {
    if (doc.errors.length > 0) return true
    const object = doc.toJS() as { kind?: unknown; spec?: { prune?: unknown; deletionPolicy?: unknown } } | null
    if (object?.kind !== 'Kustomization') continue
    const policy = object.spec?.deletionPolicy
    if (policy === 'Delete' || policy === 'WaitForTermination') return true
    if (policy === 'Orphan') return false
    return object.spec?.prune !== false
  }
  return true
}

/**
 * Compare `plan` with the output folder `outDir` (a render's target or a
 * checkout of the manifest repository): which files differ and how, and what
 * that does to each app. Nothing is written.
 */
export async function diffPlan(outDir: string, plan: Plan): Promise<PlanDiff> {
  const changes = await comparePlan(outDir, plan)
  const existing = await listOutputFiles(outDir)

  const entries: Array<{ file: string; change: Change }> = [
    ...changes.added.map((file) => ({ file, change: 'added' as const })),
    ...changes.changed.map((file) => ({ file, change: 'changed' as const })),
    ...changes.removed.map((file) => ({ file, change: 'removed' as const })),
  ].sort((a, b) => compare(a.file, b.file))
  // the files as they are now, one by one (see readIfExists)
  const before = new Map<string, Buffer>()
  for (const { file, change } of entries) {
    const content = change === 'added' ? undefined : readIfExists(path.join(outDir, file))
    if (content) before.set(file, content)
  }
  const files = entries.map(({ file, change }) => ({ file, change, patch: filePatch(file, before.get(file), plan.get(file)) }))

  const oldApps = appFolders(existing)
  const newApps = appFolders(plan.keys())
  const byApp = new Map<string, string[]>()
  for (const { file } of files) {
    const id = appOf(file)
    if (id !== undefined && (oldApps.has(id) || newApps.has(id))) byApp.set(id, [...(byApp.get(id) ?? []), file])
  }

  const apps: AppDiff[] = []
  for (const [id, appFiles] of [...byApp].sort(([a], [b]) => compare(a, b))) {
    const change: Change = !oldApps.has(id) ? 'added' : !newApps.has(id) ? 'removed' : 'changed'
    const fluxFile = `${FLUX_APPS_DIR}/${id}.yaml`
    const losesFlux = before.has(fluxFile) && !plan.has(fluxFile)
    const prune = losesFlux && prunesOnDelete((before.get(fluxFile) as Buffer).toString('utf8'))
    apps.push({ id, change, files: appFiles, prune, orphaned: losesFlux && !prune })
  }
  pairRenames(apps, oldApps, newApps)
  return { files, apps, unchanged: changes.unchanged }
}

/**
 * Mark an added app and a removed app with the same file names as a likely id
 * change, when the match is one to one: Flux sees two unrelated objects, so it
 * deletes the old app's objects and creates the new one's from scratch.
 */
function pairRenames(apps: AppDiff[], oldApps: Map<string, string[]>, newApps: Map<string, string[]>): void {
  const shape = (files: string[] | undefined) => [...(files ?? [])].sort(compare).join('\n')
  const added = apps.filter((app) => app.change === 'added')
  const removed = apps.filter((app) => app.change === 'removed')
  for (const app of added) {
    const candidates = removed.filter((old) => shape(oldApps.get(old.id)) === shape(newApps.get(app.id)))
    if (candidates.length !== 1) continue
    const old = candidates[0] as AppDiff
    const rivals = added.filter((other) => shape(newApps.get(other.id)) === shape(oldApps.get(old.id)))
    if (rivals.length !== 1) continue
    app.replaces = old.id
    old.replacedBy = app.id
  }
}
