import { randomBytes } from 'node:crypto'
import { lstatSync, mkdirSync, readFileSync, readdirSync, renameSync, rmSync, rmdirSync, writeFileSync } from 'node:fs'
import type { Dirent } from 'node:fs'
import path from 'node:path'
import { displayPath } from './config/load-config.js'
import { HomelabError } from './errors.js'
import { compare } from './order.js'
import type { FileContent, Plan } from './render.js'

/** The part of the output a write may change: all of `apps/`, or only some app folders (`--only`). */
export interface Scope {
  /** App ids whose folders are in scope; undefined: every folder under apps/. */
  only?: ReadonlySet<string>
  /** Files not in the plan that already hold what it would write (see RenderedHomelab.kept): kept as they are, never removed. */
  kept?: ReadonlySet<string>
}

export interface PlanChanges {
  added: string[]
  changed: string[]
  removed: string[]
  unchanged: number
}

/** The folder of the output that renders write, and the only one. */
export const APPS_DIR = 'apps'
/** Temp files of an interrupted write; never in a plan, so the next write removes them. */
export const TEMP_MARK = '.homelab-tmp-'

function inScope(file: string, scope: Scope): boolean {
  if (!file.startsWith(`${APPS_DIR}/`)) return false
  if (!scope.only) return true
  const folder = file.split('/')[1] ?? ''
  return folder === 'flux' || folder === 'flux-bootstrap' || scope.only.has(folder)
}

/**
 * After a render of some apps (`--only`), which always writes the whole Flux
 * folder: the apps whose Flux Kustomization points at a folder the output
 * does not hold (added or renamed in the config, not rendered yet), and those
 * whose Kustomization this render removed while their folder stays. Flux
 * reports the first as a missing path and prunes the second.
 */
export function fluxOutOfStep(outDir: string, changes: PlanChanges, only: ReadonlySet<string>): { missing: string[]; pruned: string[] } {
  const fluxDir = path.join(outDir, APPS_DIR, 'flux')
  const hasFolder = (id: string) => lstatSync(path.join(outDir, APPS_DIR, id), { throwIfNoEntry: false })?.isDirectory() === true
  const idOf = (file: string) => /^[^.][^/]*(?=\.yaml$)/.exec(file)?.[0]
  const missing: string[] = []
  let listed: string[] = []
  try {
    listed = readdirSync(fluxDir)
  } catch {
    // no Flux folder: nothing points anywhere
  }
  for (const file of listed.sort(compare)) {
    const id = idOf(file)
    if (id && id !== 'kustomization' && !only.has(id) && !hasFolder(id)) missing.push(id)
  }
  const pruned = changes.removed
    .map((file) => (file.startsWith(`${APPS_DIR}/flux/`) ? idOf(file.slice(`${APPS_DIR}/flux/`.length)) : undefined))
    .filter((id): id is string => id !== undefined && !only.has(id) && hasFolder(id))
  return { missing, pruned }
}

/** Every file under `<out>/apps/` (paths relative to out, with `/`), sorted. */
export async function listOutputFiles(outDir: string): Promise<string[]> {
  return scanOutput(outDir).files
}

/** The files (sorted) and folders under `<out>/apps/` (paths relative to out, with `/`). */
export function scanOutput(outDir: string): { files: string[]; folders: string[] } {
  const root = path.join(outDir, APPS_DIR)
  assertOwnFolder(root)
  const files: string[] = []
  const folders: string[] = []
  try {
    walkTree(root, `${APPS_DIR}/`, (entry, isFolder) => (isFolder ? folders : files).push(entry))
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT' && files.length + folders.length === 0) return { files: [], folders: [] }
    throw error
  }
  // the default sort is compare()'s order (UTF-16 code units), without a call per comparison
  return { files: files.sort(), folders }
}

/**
 * Every entry under `dir`, at any depth, as `prefix` and its path inside
 * `dir` (with `/`), and whether it is a folder (a link is not: never
 * followed). The entries' types come with the listing: no stat per file.
 * Synchronous, as Node's asynchronous listing is a chain of one call per
 * folder, mostly waiting; and by hand, as Node's recursive readdirSync builds
 * a joined path and an object per entry, about twice the time of this walk
 * for a 1000-app output.
 */
function walkTree(dir: string, prefix: string, visit: (entry: string, isFolder: boolean) => void): void {
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const inside = prefix + entry.name
    if (entry.isDirectory()) {
      visit(inside, true)
      walkTree(`${dir}/${entry.name}`, `${inside}/`, visit)
    } else {
      visit(inside, false)
    }
  }
}

/**
 * `<out>/apps` must be a folder itself, or not there yet. Through a symbolic
 * link, removing what the plan does not hold would delete files wherever the
 * link points; app folders that are links are replaced, never followed.
 */
function assertOwnFolder(root: string): void {
  const out = path.dirname(root)
  const outStat = lstatSync(out, { throwIfNoEntry: false })
  if (outStat && !outStat.isDirectory() && !outStat.isSymbolicLink()) {
    throw new HomelabError(`${displayPath(out)} is not a folder: the output folder holds apps/ and what Flux keeps beside it`, { hint: 'pass a folder as --out' })
  }
  let stat
  try {
    stat = lstatSync(root, { throwIfNoEntry: false })
  } catch (error) {
    // a link to something that is not a folder: the listing below reports it
    if ((error as NodeJS.ErrnoException).code === 'ENOTDIR') throw new HomelabError(`${displayPath(out)} is not a folder`, { hint: 'pass a folder as --out' })
    throw error
  }
  if (!stat || stat.isDirectory()) return
  const what = stat.isSymbolicLink() ? 'a symbolic link' : 'not a folder'
  throw new HomelabError(`${displayPath(root)} is ${what}: homelab writes apps/ as a folder of its own, and removes what is not rendered there`, {
    hint: stat.isSymbolicLink() ? 'to write elsewhere, pass that folder\'s parent as --out instead of linking apps/' : 'move it away, or render with another --out',
  })
}

/**
 * How many files and folders `<out>/apps/` holds, at any depth (a link or
 * anything else that is not a folder counts as a file): the listing without
 * its paths, for a caller that knows which must be there.
 */
export function countOutput(outDir: string): { files: number; folders: number } {
  let files = 0
  let folders = 0
  try {
    walkTree(path.join(outDir, APPS_DIR), '', (_, isFolder) => (isFolder ? folders++ : files++))
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT' && files + folders === 0) return { files: 0, folders: 0 }
    throw error
  }
  return { files, folders }
}

/** Whether a folder of the listing holds no file, at any depth: what a write killed between removing files and removing their folders leaves. */
export function hasEmptyFolder(scanned: { files: readonly string[]; folders: readonly string[] }): boolean {
  const holding = new Set<string>()
  for (const file of scanned.files) {
    for (let end = file.lastIndexOf('/'); end > 0; end = file.lastIndexOf('/', end - 1)) {
      const dir = file.slice(0, end)
      if (holding.has(dir)) break
      holding.add(dir)
    }
  }
  return scanned.folders.some((folder) => !holding.has(folder))
}

/**
 * Read a small file, or undefined when it is not there. Synchronous on
 * purpose: for thousands of small files it is several times faster than
 * promise-based reads, and a render has nothing else to do meanwhile.
 */
export function readIfExists(file: string): Buffer | undefined {
  try {
    return readFileSync(file)
  } catch {
    return undefined
  }
}

function toBuffer(content: FileContent): Buffer {
  return typeof content === 'string' ? Buffer.from(content, 'utf8') : Buffer.from(content.buffer, content.byteOffset, content.byteLength)
}

/** What writing `plan` into `outDir` would change, without changing anything. */
export async function comparePlan(outDir: string, plan: Plan, scope: Scope = {}): Promise<PlanChanges> {
  return compareScanned(outDir, plan, scope).changes
}

/**
 * comparePlan, and whether `apps/` holds a folder without any file: what a
 * write killed between removing files and removing their folders leaves.
 */
function compareScanned(outDir: string, plan: Plan, scope: Scope): { changes: PlanChanges; emptyFolders: boolean; folders: Set<string> } {
  const scanned = scanOutput(outDir)
  const emptyFolders = hasEmptyFolder(scanned)
  // every file listed is under apps/: only --only leaves some out of scope
  const existing = scope.only ? scanned.files.filter((file) => inScope(file, scope)) : scanned.files
  const existingSet = new Set(existing)
  const added: string[] = []
  const changed: string[] = []
  let unchanged = 0
  const planned = [...plan.keys()].filter((file) => inScope(file, scope)).sort(compare)
  // one by one, synchronously: small reads, and nothing else to do meanwhile (see readIfExists)
  for (const file of planned) {
    if (!existingSet.has(file)) {
      added.push(file)
      continue
    }
    const current = readIfExists(path.join(outDir, file))
    if (current && current.equals(toBuffer(plan.get(file) as FileContent))) unchanged++
    else changed.push(file)
  }
  const kept = scope.kept ?? new Set<string>()
  for (const file of kept) if (existingSet.has(file) && (!scope.only || inScope(file, scope))) unchanged++
  const removed = existing.filter((file) => !plan.has(file) && !kept.has(file))
  return { changes: { added: added.sort(compare), changed: changed.sort(compare), removed, unchanged }, emptyFolders, folders: new Set(scanned.folders) }
}

/**
 * Make `<out>/apps/` hold exactly the plan (within scope): write the files
 * whose bytes differ, each atomically (temp file in the same folder, then
 * rename), and remove the files the plan does not have. Nothing outside
 * `<out>/apps/` is touched.
 *
 * Removals, writes and the pruning of empty folders are synchronous, one
 * after another: creating a file is work in the kernel, which Node's thread
 * pool does not make cheaper, and its hand-offs cost more than they hide. A
 * loop wrote a 1000-app render's 6,753 new files in about 0.42 s, where 64
 * at once took 0.8 s (2-core VM, docs/benchmark.md).
 */
export async function writePlan(outDir: string, plan: Plan, scope: Scope = {}): Promise<PlanChanges> {
  const { changes, emptyFolders, folders: existing } = compareScanned(outDir, plan, scope)
  const toWrite = [...changes.added, ...changes.changed]
  // removals first: a file the plan drops may stand where a planned folder goes
  for (const file of changes.removed) rmSync(path.join(outDir, file), { force: true, recursive: true })
  const pruned = changes.removed.length > 0 || emptyFolders
  if (pruned) removeEmptyFolders(path.join(outDir, APPS_DIR))
  // folders the listing found stand as they were, unless empty ones were just removed
  const folders = [...new Set(toWrite.map((file) => path.posix.dirname(file)))].filter((folder) => pruned || !existing.has(folder))
  for (const folder of folders) mkdirSync(path.join(outDir, folder), { recursive: true })
  for (const file of toWrite) writeAtomic(path.join(outDir, file), toBuffer(plan.get(file) as FileContent), existing.has(file))
  return changes
}

/** Temp names of this process: one random part, then a count. */
let tempCount = 0
const tempBase = randomBytes(6).toString('hex')

/** Write `file` by a temp file and a rename; `isFolder`: the listing found a folder where the file goes, which must make way. */
function writeAtomic(file: string, content: Buffer, isFolder: boolean): void {
  const temp = path.join(path.dirname(file), `.${path.basename(file)}${TEMP_MARK}${tempBase}-${tempCount++}`)
  try {
    // anything else there (a file, a link) the rename replaces
    if (isFolder) rmSync(file, { recursive: true, force: true })
    writeFileSync(temp, content)
    renameSync(temp, file)
  } catch (error) {
    rmSync(temp, { force: true })
    throw error
  }
}

/** Remove every folder under `dir` that holds no file, at any depth; whether `dir` itself is now empty (and removed). */
function removeEmptyFolders(dir: string): boolean {
  let entries: Dirent[] = []
  try {
    entries = readdirSync(dir, { withFileTypes: true })
  } catch {
    // gone already
  }
  let empty = true
  for (const entry of entries) {
    if (entry.isDirectory() && removeEmptyFolders(path.join(dir, entry.name))) continue
    empty = false
  }
  if (empty) {
    try {
      rmdirSync(dir)
    } catch {
      // something appeared meanwhile, or it is gone: either way not ours to remove
    }
  }
  return empty
}
