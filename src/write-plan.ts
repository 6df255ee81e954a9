import { randomBytes } from 'node:crypto'
import { lstat, mkdir, readdir, readFile, rename, rm, rmdir, writeFile } from 'node:fs/promises'
import path from 'node:path'
import { compare } from './flux-objects.js'
import type { FileContent, Plan } from './render.js'

/** The part of the output a write may change: all of `apps/`, or only some app folders (`--only`). */
export interface Scope {
  /** App ids whose folders are in scope; undefined: every folder under apps/. */
  only?: ReadonlySet<string>
}

export interface PlanChanges {
  added: string[]
  changed: string[]
  removed: string[]
  unchanged: number
}

const APPS = 'apps'
/** Temp files of an interrupted write; never in a plan, so the next write removes them. */
export const TEMP_MARK = '.homelab-tmp-'
/** Files read or written at once. */
const CONCURRENCY = 64

function inScope(file: string, scope: Scope): boolean {
  if (!file.startsWith(`${APPS}/`)) return false
  if (!scope.only) return true
  const folder = file.split('/')[1] ?? ''
  return folder === 'flux' || folder === 'flux-bootstrap' || scope.only.has(folder)
}

/** Every file under `<out>/apps/` (paths relative to out, with `/`), sorted. */
export async function listOutputFiles(outDir: string): Promise<string[]> {
  const root = path.join(outDir, APPS)
  let entries: string[]
  try {
    entries = await readdir(root, { recursive: true })
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return []
    throw error
  }
  const files: string[] = []
  await mapConcurrent(entries, async (entry) => {
    const stat = await lstat(path.join(root, entry))
    if (!stat.isDirectory()) files.push(`${APPS}/${entry.split(path.sep).join('/')}`)
  })
  return files.sort(compare)
}

function toBuffer(content: FileContent): Buffer {
  return typeof content === 'string' ? Buffer.from(content, 'utf8') : Buffer.from(content.buffer, content.byteOffset, content.byteLength)
}

/** What writing `plan` into `outDir` would change, without changing anything. */
export async function comparePlan(outDir: string, plan: Plan, scope: Scope = {}): Promise<PlanChanges> {
  const existing = (await listOutputFiles(outDir)).filter((file) => inScope(file, scope))
  const existingSet = new Set(existing)
  const added: string[] = []
  const changed: string[] = []
  let unchanged = 0
  const planned = [...plan.keys()].filter((file) => inScope(file, scope)).sort(compare)
  await mapConcurrent(planned, async (file) => {
    if (!existingSet.has(file)) {
      added.push(file)
      return
    }
    const current = await readFile(path.join(outDir, file)).catch(() => undefined)
    if (current && current.equals(toBuffer(plan.get(file) as FileContent))) unchanged++
    else changed.push(file)
  })
  const removed = existing.filter((file) => !plan.has(file))
  return { added: added.sort(compare), changed: changed.sort(compare), removed, unchanged }
}

/**
 * Make `<out>/apps/` hold exactly the plan (within scope): write the files
 * whose bytes differ, each atomically (temp file in the same folder, then
 * rename), and remove the files the plan does not have. Nothing outside
 * `<out>/apps/` is touched.
 */
export async function writePlan(outDir: string, plan: Plan, scope: Scope = {}): Promise<PlanChanges> {
  const changes = await comparePlan(outDir, plan, scope)
  const toWrite = [...changes.added, ...changes.changed]
  // removals first: a file the plan drops may stand where a planned folder goes
  await mapConcurrent(changes.removed, (file) => rm(path.join(outDir, file), { force: true, recursive: true }))
  if (changes.removed.length > 0) await removeEmptyFolders(path.join(outDir, APPS))
  const folders = [...new Set(toWrite.map((file) => path.dirname(path.join(outDir, file))))]
  await mapConcurrent(folders, (folder) => mkdir(folder, { recursive: true }).then(() => undefined))
  await mapConcurrent(toWrite, (file) => writeAtomic(path.join(outDir, file), toBuffer(plan.get(file) as FileContent)))
  return changes
}

async function writeAtomic(file: string, content: Buffer): Promise<void> {
  const temp = path.join(path.dirname(file), `.${path.basename(file)}${TEMP_MARK}${randomBytes(6).toString('hex')}`)
  try {
    // a folder (or anything else) where a file should be: make way
    const stat = await lstat(file).catch(() => undefined)
    if (stat && !stat.isFile()) await rm(file, { recursive: true, force: true })
    await writeFile(temp, content)
    await rename(temp, file)
  } catch (error) {
    await rm(temp, { force: true })
    throw error
  }
}

async function removeEmptyFolders(dir: string): Promise<boolean> {
  const entries = await readdir(dir, { withFileTypes: true }).catch(() => [])
  let empty = true
  for (const entry of entries) {
    if (entry.isDirectory() && (await removeEmptyFolders(path.join(dir, entry.name)))) continue
    empty = false
  }
  if (empty) await rmdir(dir).catch(() => undefined)
  return empty
}

/** Run `fn` over `items` with at most CONCURRENCY at once. */
export async function mapConcurrent<T>(items: readonly T[], fn: (item: T) => Promise<unknown>): Promise<void> {
  let next = 0
  const worker = async () => {
    while (next < items.length) {
      const item = items[next++] as T
      await fn(item)
    }
  }
  await Promise.all(Array.from({ length: Math.min(CONCURRENCY, items.length) }, worker))
}
