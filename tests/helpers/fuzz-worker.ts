/**
 * One fuzz worker: runs its share of the mutated homelabs through the core in
 * process (load → resolve → render → writePlan) and checks the property of
 * issue 7 on each. It runs in a worker thread so that the test can terminate
 * a case that hangs; the checks are exported for the test's CLI sample too.
 */
import { createHash } from 'node:crypto'
import { cpSync, existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs'
import path from 'node:path'
import { isMainThread, parentPort, workerData } from 'node:worker_threads'
import { parseAllDocuments } from 'yaml'
import { HomelabError, comparePlan, loadConfig, render, resolveConfig, writePlan } from '../../src/index.ts'
import type { Plan } from '../../src/index.ts'
import { templatesDirOf } from '../../src/config/paths.ts'
import { loadTemplate, openTemplateLibrary } from '../../src/templates/load-templates.ts'
import type { TemplateLibrary } from '../../src/templates/load-templates.ts'
import { TEMP_MARK } from '../../src/write-plan.ts'
import { caseRng, mutateHomelab } from './mutate.ts'
import type { HomelabFiles } from './mutate.ts'

/** Files outside `apps/` that every render must leave alone. */
export const OUTSIDE_APPS: Record<string, string> = {
  'README.md': '# manifests\n',
  'flux/flux-system/gotk-sync.yaml': 'apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: mine\n',
}

export interface WorkerInput {
  seed: number
  /** Case indices this worker runs. */
  indices: number[]
  /** The pristine homelab (config + templates) to mutate. */
  homelabDir: string
  /** A folder of its own for this worker. */
  workDir: string
  /** How many distinct successful outputs to copy out for kubectl. */
  buildQuota: number
}

export type WorkerMessage =
  | { type: 'start'; index: number; steps: string[] }
  | { type: 'done'; index: number; steps: string[]; outcome: 'ok' | 'error'; errorLine?: string; problems: string[]; ms: number; builds: string[] }
  | { type: 'finished' }

/** Every file of a homelab folder (config + templates), relative paths with `/`. */
export function readHomelab(dir: string): Map<string, string> {
  const files = new Map<string, string>()
  for (const [rel, isDir] of walk(dir)) if (!isDir) files.set(rel, readFileSync(path.join(dir, rel), 'utf8'))
  return files
}

/** Every entry under `dir`: relative path with `/` → is a folder; sorted. */
function walk(dir: string): Array<[string, boolean]> {
  if (!existsSync(dir)) return []
  return readdirSync(dir, { recursive: true, withFileTypes: true })
    .map((entry): [string, boolean] => [path.relative(dir, path.join(entry.parentPath, entry.name)).split(path.sep).join('/'), entry.isDirectory()])
    .sort(([a], [b]) => (a < b ? -1 : 1))
}

/** A folder's full state: `path` → bytes for files, `path/` → '' for folders (empty ones count). */
export function snapshot(dir: string): Map<string, string> {
  const state = new Map<string, string>()
  for (const [rel, isDir] of walk(dir)) {
    if (isDir) state.set(`${rel}/`, '')
    else state.set(rel, readFileSync(path.join(dir, rel), 'latin1'))
  }
  return new Map([...state].sort(([a], [b]) => (a < b ? -1 : 1)))
}

/** What differs between two snapshots (for messages): up to five paths. */
export function snapshotDiff(before: Map<string, string>, after: Map<string, string>): string[] {
  const keys = [...new Set([...before.keys(), ...after.keys()])].sort()
  const diff = keys.filter((key) => before.get(key) !== after.get(key))
  return diff.slice(0, 5).map((key) => (!before.has(key) ? `+${key}` : !after.has(key) ? `-${key}` : `~${key}`))
}

/** What the output folder must hold after writing `plan` into a folder that had `before`. */
export function expectedTree(plan: Plan, before: Map<string, string>): Map<string, string> {
  const expected = new Map([...before].filter(([key]) => !key.startsWith('apps/') && key !== 'apps/'))
  for (const [file, content] of plan) {
    const parts = file.split('/')
    for (let i = 1; i < parts.length; i++) expected.set(`${parts.slice(0, i).join('/')}/`, '')
    expected.set(file, typeof content === 'string' ? Buffer.from(content, 'utf8').toString('latin1') : Buffer.from(content).toString('latin1'))
  }
  return new Map([...expected].sort(([a], [b]) => (a < b ? -1 : 1)))
}

/** Problems with a successful render's output: unparsable YAML, stray temp files, a tree that is not the plan. */
export function checkSuccessTree(outDir: string, plan: Plan, before: Map<string, string>): string[] {
  const problems: string[] = []
  const after = snapshot(outDir)
  const diff = snapshotDiff(expectedTree(plan, before), after)
  if (diff.length > 0) problems.push(`the output folder is not exactly the plan: ${diff.join(', ')}`)
  for (const [file, content] of after) {
    if (file.includes(TEMP_MARK)) problems.push(`temp file left behind: ${file}`)
    if (!/\.ya?ml$/.test(file)) continue
    const docs = parseAllDocuments(Buffer.from(content, 'latin1').toString('utf8'))
    const errors = (Array.isArray(docs) ? docs : []).flatMap((doc) => doc.errors)
    if (errors.length > 0) problems.push(`${file} does not parse: ${errors[0]?.message.split('\n')[0]}`)
  }
  return problems
}

/** Problems with an error a user would see: not one clear line. */
export function checkErrorLine(line: string): string[] {
  const problems: string[] = []
  if (line.trim() === '') problems.push('empty error message')
  if (/[\n\r]/.test(line)) problems.push(`error message of several lines: ${JSON.stringify(line.slice(0, 200))}`)
  if (/[\u0000-\u0008\u000b-\u001f\u007f-\u009f]/.test(line)) problems.push(`raw control characters in the error message: ${JSON.stringify(line.slice(0, 200))}`)
  if (/\bat .*\.(ts|js):\d+/.test(line)) problems.push(`stack trace in the error message: ${JSON.stringify(line.slice(0, 200))}`)
  if (line.length > 1500) problems.push(`error message of ${line.length} characters: ${JSON.stringify(line.slice(0, 100))}…`)
  return problems
}

const prototypeKeys = Object.getOwnPropertyNames(Object.prototype).sort().join()

/** Problems if anything reached Object.prototype. */
export function checkPrototype(): string[] {
  const now = Object.getOwnPropertyNames(Object.prototype).sort().join()
  if (now !== prototypeKeys || ({} as Record<string, unknown>).polluted !== undefined) return [`Object.prototype was changed: ${now}`]
  return []
}

/**
 * Render a homelab as `renderHomelab` does, but reuse the already loaded
 * templates whose folders did not change (compiling every options schema
 * again for each of a thousand cases would dominate the run).
 */
async function renderReusing(configPath: string, pristine: TemplateLibrary, changedTemplates: ReadonlySet<string>): Promise<Plan> {
  const loaded = await loadConfig(configPath)
  const library = openTemplateLibrary(templatesDirOf(loaded))
  for (const [name, template] of pristine.templates) if (!changedTemplates.has(name)) library.templates.set(name, template)
  const { config } = await resolveConfig(loaded, library)
  return render(config, library)
}

function digest(text: string): string {
  return createHash('sha256').update(text).digest('hex').slice(0, 16)
}

/** The per-folder digests of a plan: `apps/<folder>` → digest of its files. */
function folderDigests(plan: Plan): Map<string, string> {
  const folders = new Map<string, string[]>()
  for (const [file, content] of [...plan].sort(([a], [b]) => (a < b ? -1 : 1))) {
    const folder = file.split('/').slice(0, 2).join('/')
    const list = folders.get(folder) ?? []
    list.push(file, typeof content === 'string' ? content : Buffer.from(content).toString('latin1'))
    folders.set(folder, list)
  }
  return new Map([...folders].map(([folder, parts]) => [folder, digest(parts.join('\0'))]))
}

async function runWorker(input: WorkerInput): Promise<void> {
  const port = parentPort as NonNullable<typeof parentPort>
  const original: HomelabFiles = readHomelab(input.homelabDir)
  const homelab = path.join(input.workDir, 'homelab')
  const out = path.join(input.workDir, 'out')
  const kube = path.join(input.workDir, 'kube')
  cpSync(input.homelabDir, homelab, { recursive: true })
  const configPath = path.join(homelab, 'homelab.config.yaml')

  // the pristine render: every template loaded once, and the first "previous good render"
  const pristine = openTemplateLibrary(path.join(homelab, 'templates'))
  await Promise.all(pristine.names.map((name) => loadTemplate(pristine, name).catch(() => undefined)))
  for (const [file, text] of Object.entries(OUTSIDE_APPS)) {
    mkdirSync(path.dirname(path.join(out, file)), { recursive: true })
    writeFileSync(path.join(out, file), text)
  }
  await writePlan(out, await renderReusing(configPath, pristine, new Set()))

  const seenOutputs = new Set<string>()
  const seenFolders = new Set<string>()
  let written: string[] = []
  for (const index of input.indices) {
    const mutation = mutateHomelab(original, caseRng(input.seed, index))
    for (const file of written) writeFileSync(path.join(homelab, file), original.get(file) as string)
    for (const file of mutation.changed) writeFileSync(path.join(homelab, file), mutation.files.get(file) as string)
    written = mutation.changed
    const changedTemplates = new Set(mutation.changed.filter((f) => f.startsWith('templates/')).map((f) => f.split('/')[1] as string))
    port.postMessage({ type: 'start', index, steps: mutation.steps } satisfies WorkerMessage)

    const started = performance.now()
    const before = snapshot(out)
    const problems: string[] = []
    const builds: string[] = []
    let outcome: 'ok' | 'error' = 'ok'
    let errorLine: string | undefined
    try {
      const plan = await renderReusing(configPath, pristine, changedTemplates)
      await writePlan(out, plan)
      problems.push(...checkSuccessTree(out, plan, before))
      const again = await comparePlan(out, plan)
      if (again.added.length + again.changed.length + again.removed.length > 0) problems.push('a second compare still finds differences')
      // copy the app folders no earlier case produced, for kubectl (bounded: the first distinct outputs only)
      const folders = folderDigests(plan)
      const outputDigest = digest([...folders.values()].join())
      if (!seenOutputs.has(outputDigest) && seenOutputs.size < input.buildQuota) {
        seenOutputs.add(outputDigest)
        for (const [folder, folderDigest] of folders) {
          if (seenFolders.has(folderDigest)) continue
          seenFolders.add(folderDigest)
          const target = path.join(kube, `${index}-${folder.split('/')[1]}`)
          cpSync(path.join(out, folder), target, { recursive: true })
          builds.push(target)
        }
      }
    } catch (error) {
      outcome = 'error'
      if (error instanceof HomelabError) {
        errorLine = error.oneLine
        problems.push(...checkErrorLine(errorLine))
      } else {
        problems.push(`not a HomelabError: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`)
      }
      const diff = snapshotDiff(before, snapshot(out))
      if (diff.length > 0) problems.push(`the output folder changed on error: ${diff.join(', ')}`)
    }
    problems.push(...checkPrototype())
    const ms = performance.now() - started
    port.postMessage({ type: 'done', index, steps: mutation.steps, outcome, errorLine, problems, ms, builds } satisfies WorkerMessage)
  }
  port.postMessage({ type: 'finished' } satisfies WorkerMessage)
}

if (!isMainThread && (workerData as { fuzz?: WorkerInput } | undefined)?.fuzz) {
  runWorker((workerData as { fuzz: WorkerInput }).fuzz).catch((error: unknown) => {
    // an error outside a case (setup): the test reports it
    throw error
  })
}
