import { existsSync } from 'node:fs'
import path from 'node:path'
import { diffPlan } from '../../diff.js'
import type { AppDiff, PlanDiff } from '../../diff.js'
import { renderHomelab } from '../../index.js'
import type { Plan } from '../../index.js'
import { ExitCode } from '../exit-code.js'
import { UsageError } from '../handle-error.js'
import type { GlobalOptions } from '../index.js'
import { dim, formatDuration, green, info, plural, red, yellow } from '../output.js'
import { displayDir, warnMissingFolder } from './render.js'

export interface DiffOptions extends GlobalOptions {
  out?: string
  /** A URL or path; `true` (bare `--repo`): the config's flux.repository. */
  repo?: string | boolean
}

const DEFAULT_OUT = 'manifests'

/** `homelab diff`: what a render would change in the output folder or the manifest repository. Writes nothing. */
export async function diffCommand(options: DiffOptions): Promise<void> {
  if (options.out !== undefined && options.repo !== undefined) throw new UsageError('--out and --repo cannot be combined: diff compares with one of them')
  const started = performance.now()
  const { config, plan } = await renderHomelab(String(options.config))

  let result: PlanDiff
  let target: string
  let missing = false
  if (options.repo !== undefined) {
    const url = options.repo === true ? config.flux.repository : String(options.repo)
    target = url
    result = await diffRepository(url, config.flux.branch, plan)
  } else {
    const outDir = path.resolve(options.out ?? DEFAULT_OUT)
    target = displayDir(outDir)
    missing = !existsSync(outDir)
    result = await diffPlan(outDir, plan)
  }

  const took = dim(`(${formatDuration(performance.now() - started)})`)
  if (result.files.length === 0) {
    info(`${green('✔')} no differences: ${target} is what a render gives (${plural(config.apps.length, 'app')}) ${took}`)
    return
  }
  printDiff(result)
  info(`✖ ${plural(result.files.length, 'file')} of ${target} would change ${took}`)
  // a misspelt --out looks like a first render: say which it is
  if (missing) warnMissingFolder(target)
  process.exitCode = ExitCode.Differences
}

/** Clone the manifest repository shallow into a temp folder, diff against it, remove the clone. */
async function diffRepository(remote: string, branch: string, plan: Plan): Promise<PlanDiff> {
  const { ManifestClone, remoteKind } = await import('../../git.js')
  // git runs in the clone's temp folder: a relative path must be made absolute here
  const source = remoteKind(remote) === 'local' && !/^[a-z][a-z0-9+.-]*:/i.test(remote) ? path.resolve(remote) : remote
  const clone = await ManifestClone.open(source, branch, { token: process.env.HOMELAB_GIT_TOKEN })
  try {
    return await diffPlan(clone.dir, plan)
  } finally {
    await clone.dispose()
  }
}

function printDiff(result: PlanDiff): void {
  for (const { patch } of result.files) info(colorPatch(patch).trimEnd())
  info()
  const count = (change: AppDiff['change']) => result.apps.filter((app) => app.change === change).length
  info(`apps: ${count('added')} added, ${count('changed')} changed, ${count('removed')} removed`)
  for (const app of result.apps) info(`  ${describeApp(app)}`)
}

/** One line per app; the consequence in the cluster is what matters most. */
function describeApp(app: AppDiff): string {
  const prune = red(`Flux will prune every object of ${app.id}`)
  const orphan = yellow(`Flux stops reconciling ${app.id}; prune is off, so its objects stay in the cluster`)
  switch (app.change) {
    case 'added':
      return `${green('+')} ${app.id}: added${app.replaces ? ` (replaces ${app.replaces}? an id change is a delete + create)` : ''}`
    case 'removed': {
      const renamed = app.replacedBy ? `; ${app.replacedBy} is created from scratch (an id change is a delete + create)` : ''
      const effect = app.prune ? prune : app.orphaned ? orphan : `not reconciled by Flux, so its objects stay in the cluster (delete them with kubectl delete -k while apps/${app.id} still exists)`
      return `${red('-')} ${app.id}: removed: ${effect}${renamed}`
    }
    case 'changed': {
      const effect = app.prune ? `: its Flux Kustomization is removed: ${prune}` : app.orphaned ? `: ${orphan}` : ''
      return `${yellow('~')} ${app.id}: ${plural(app.files.length, 'file')} changed${effect}`
    }
  }
}

function colorPatch(patch: string): string {
  return patch
    .split('\n')
    .map((line, i) => {
      // the two file headers; a removed `---` (YAML document separator) line further down is content
      if (i < 2 && /^(---|\+\+\+) /.test(line)) return line
      if (line.startsWith('+')) return green(line)
      if (line.startsWith('-')) return red(line)
      if (line.startsWith('@@')) return dim(line)
      return line
    })
    .join('\n')
}
