/**
 * `homelab publish`, the CI render-and-push job: render → shallow clone of the
 * manifest repository → sync `apps/` exactly as `render` does → commit → push,
 * redoing sync/commit/push on a fresh head when the push loses a race.
 * No printing here: progress goes to a callback, the CLI prints.
 */
import path from 'node:path'
import { HomelabError } from './errors.js'
import { renderInputPaths } from './config/paths.js'
import { ManifestClone, readIdentity, readSourceHead, readUncommitted, remoteKind } from './git.js'
import { displayPath, renderHomelab } from './index.js'
import { redact, registerSecret } from './redact.js'
import type { Plan } from './render.js'
import { comparePlan, writePlan } from './write-plan.js'
import type { PlanChanges } from './write-plan.js'

/** Pushes tried before giving up when other publishes keep landing first. */
export const MAX_ATTEMPTS = 3

export interface PublishOptions {
  /** homelab.config.yaml */
  configPath: string
  /** Manifest repository URL or local path (relative to the working directory); default flux.repository. */
  repo?: string
  /** Default flux.branch. */
  branch?: string
  /**
   * Commit message; default the source repository's HEAD subject and `Source: <sha>`
   * (`Source: <sha> with uncommitted changes` when the render read uncommitted files).
   */
  message?: string
  /** Clone and compare, commit nothing. */
  dryRun?: boolean
  /** Publish a render without apps (Flux then prunes every app). */
  allowEmpty?: boolean
  /** Keep the temp clone (reported through a `workdir` event) for inspection. */
  keepWorkDir?: boolean
  /** Where HOMELAB_GIT_TOKEN and GIT_AUTHOR_NAME/EMAIL are read; default process.env. */
  env?: NodeJS.ProcessEnv
  onProgress?: (event: PublishEvent) => void
}

/** An app this publish takes out of the repository. `pruned`: Flux reconciled it, so Flux deletes its objects. */
export interface RemovedApp {
  id: string
  pruned: boolean
}

export type PublishEvent =
  | { kind: 'rendered'; apps: number; files: number; ms: number }
  /** The render read files that differ from the source repository's HEAD (as shown to the user; `count` in all). */
  | { kind: 'uncommitted'; files: string[]; count: number }
  | { kind: 'cloned'; repository: string; branch: string; ms: number }
  | { kind: 'workdir'; dir: string }
  | { kind: 'synced'; attempt: number; changes: PlanChanges; removedApps: RemovedApp[]; ms: number }
  | { kind: 'committed'; sha: string; subject: string; ms: number }
  | { kind: 'pushed'; branch: string; ms: number }
  | { kind: 'retry'; attempt: number; maxAttempts: number }

export interface PublishResult {
  /** The repository as shown to people (no credentials). */
  repository: string
  branch: string
  apps: number
  /** What the last sync changed in `apps/`. */
  changes: PlanChanges
  removedApps: RemovedApp[]
  /** 'pushed': a new commit landed; 'up-to-date': the repository already held this render; 'dry-run': nothing committed. */
  outcome: 'pushed' | 'up-to-date' | 'dry-run'
  /** The commit pushed. */
  commit?: string
  attempts: number
}

/** Resolve the repository address: local paths become absolute (the clone runs in a temp folder). */
export function resolveRepository(repo: string, base: string): string {
  if (remoteKind(repo) !== 'local' || /^file:\/\//i.test(repo)) return repo
  return path.resolve(base, repo)
}

/**
 * The apps a sync takes out: folders `apps/<id>/` the plan no longer has, and
 * Flux Kustomizations `apps/flux/<id>.yaml` it drops (Flux prunes those apps).
 */
export function removedApps(changes: PlanChanges, plan: Plan): RemovedApp[] {
  const planned = new Set([...plan.keys()].map((file) => file.split('/')[1]))
  const result = new Map<string, RemovedApp>()
  for (const file of changes.removed) {
    const [, folder = '', name = ''] = file.split('/')
    const kustomization = /^apps\/flux\/([^/]+)\.yaml$/.exec(file)
    if (kustomization && kustomization[1] !== 'kustomization') {
      result.set(kustomization[1] as string, { id: kustomization[1] as string, pruned: true })
    } else if (folder !== 'flux' && folder !== 'flux-bootstrap' && name !== '' && !planned.has(folder) && !result.has(folder)) {
      result.set(folder, { id: folder, pruned: false })
    }
  }
  return [...result.values()].sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0))
}

/** How many uncommitted files the warning names. */
const SHOWN_UNCOMMITTED = 5

/**
 * The commit message: `--message`, else HEAD's subject and `Source: <sha>`,
 * which says `with uncommitted changes` when the render did not come from
 * that commit alone (the `Source: <sha>` prefix stays, for tools that read it).
 */
async function commitMessage(options: PublishOptions, sourceDir: string, uncommitted: boolean, env: NodeJS.ProcessEnv): Promise<string> {
  if (options.message !== undefined && options.message.trim() !== '') return options.message
  const head = await readSourceHead(sourceDir, env)
  return head ? `${head.subject}\n\nSource: ${head.sha}${uncommitted ? ' with uncommitted changes' : ''}` : 'Render the homelab'
}

function checkNotEmpty(apps: Array<{ flux: boolean }>, configFile: string, allowEmpty: boolean): void {
  if (allowEmpty || apps.some((app) => app.flux)) return
  throw new HomelabError(`${configFile} has no app for Flux to reconcile: publishing it would make Flux prune every app of the cluster`, {
    hint: 'add an app, or pass --allow-empty if the cluster really should be emptied',
  })
}

const since = (start: number) => performance.now() - start
const pause = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms))

/**
 * Fetch the branch after a lost race. Pauses spread racing publishes apart; a
 * head still at `base` means the winning push was not visible yet (it held the
 * ref's lock), so look again rather than spend a try on a push that must fail.
 */
async function refetch(clone: ManifestClone, base: string, attempt: number): Promise<void> {
  for (let look = 0; look < 5; look++) {
    await pause(100 * (attempt + look) + Math.random() * 400)
    if ((await clone.resetToRemote()) !== base) return
  }
}

/**
 * Render the homelab and push the result to the manifest repository. Nothing
 * is cloned or pushed when the render fails; nothing is committed when the
 * repository already holds the render or with `dryRun`. Never forces a push.
 */
export async function publishHomelab(options: PublishOptions): Promise<PublishResult> {
  const env = options.env ?? process.env
  const emit = options.onProgress ?? (() => {})
  const token = env.HOMELAB_GIT_TOKEN || undefined
  registerSecret(token)

  let started = performance.now()
  const { config, plan } = await renderHomelab(options.configPath)
  emit({ kind: 'rendered', apps: config.apps.length, files: plan.size, ms: since(started) })
  checkNotEmpty(config.apps, config.file, Boolean(options.allowEmpty))

  const repository = options.repo !== undefined ? resolveRepository(options.repo, process.cwd()) : resolveRepository(config.flux.repository, config.root)
  const branch = options.branch ?? config.flux.branch
  // a publish run by hand from a working tree with edits pushes them too: say so, and never claim HEAD alone made the render
  const uncommitted = (await readUncommitted(config.root, renderInputPaths(options.configPath), env)) ?? []
  if (uncommitted.length > 0) {
    emit({ kind: 'uncommitted', files: uncommitted.slice(0, SHOWN_UNCOMMITTED).map((file) => displayPath(file)), count: uncommitted.length })
  }
  const message = await commitMessage(options, config.root, uncommitted.length > 0, env)
  const author = await readIdentity(config.root, env)
  const shown = redact(repository)

  started = performance.now()
  const clone = await ManifestClone.open(repository, branch, { token, env })
  try {
    emit({ kind: 'cloned', repository: shown, branch, ms: since(started) })
    if (options.keepWorkDir) emit({ kind: 'workdir', dir: clone.workDir })
    const result = { repository: shown, branch, apps: config.apps.length }
    for (let attempt = 1; ; attempt++) {
      started = performance.now()
      const changes = options.dryRun ? await comparePlan(clone.dir, plan) : await writePlan(clone.dir, plan)
      const removed = removedApps(changes, plan)
      emit({ kind: 'synced', attempt, changes, removedApps: removed, ms: since(started) })
      if (options.dryRun) return { ...result, changes, removedApps: removed, outcome: 'dry-run', attempts: attempt }

      if ((await clone.stage('apps')).length === 0) return { ...result, changes, removedApps: removed, outcome: 'up-to-date', attempts: attempt }
      const base = await clone.head()
      started = performance.now()
      const sha = await clone.commit(message, author)
      emit({ kind: 'committed', sha, subject: message.split('\n')[0] ?? '', ms: since(started) })

      started = performance.now()
      if ((await clone.push()) === 'pushed') {
        emit({ kind: 'pushed', branch, ms: since(started) })
        return { ...result, changes, removedApps: removed, outcome: 'pushed', commit: sha, attempts: attempt }
      }
      if (attempt >= MAX_ATTEMPTS) {
        throw new HomelabError(`the push to ${shown} (branch ${branch}) was rejected ${MAX_ATTEMPTS} times: the branch kept moving on`, {
          hint: 'other pushes keep landing first; run homelab publish again (it never forces a push)',
        })
      }
      emit({ kind: 'retry', attempt: attempt + 1, maxAttempts: MAX_ATTEMPTS })
      await refetch(clone, base, attempt)
    }
  } finally {
    if (!options.keepWorkDir) await clone.dispose()
  }
}
