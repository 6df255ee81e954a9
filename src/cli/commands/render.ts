import { existsSync } from 'node:fs'
import path from 'node:path'
import { INPUT_FOLDERS } from '../../config/paths.js'
import { RenderCache, renderInputs } from '../../render-cache.js'
import { comparePlan, fluxOutOfStep, writePlan } from '../../write-plan.js'
import type { PlanChanges } from '../../write-plan.js'
import { HomelabError } from '../../errors.js'
import { ExitCode } from '../exit-code.js'
import { UsageError, handleError } from '../handle-error.js'
import type { GlobalOptions } from '../index.js'
import { debugEnabled, debugNote, dim, formatDuration, green, info, plural, stepTimer, warn } from '../output.js'

export interface RenderOptions extends GlobalOptions {
  out: string
  only?: string
  check?: boolean
  watch?: boolean
}

/** Split `--only a,b` (cac may hand over an array), each id once; no id at all is a usage error. */
export function parseIdList(value: unknown): string[] | undefined {
  if (value === undefined || value === true) return undefined
  const parts = (Array.isArray(value) ? value : [value]).flatMap((v) => String(v).split(','))
  const ids = [...new Set(parts.map((id) => id.trim()).filter(Boolean))]
  if (ids.length === 0) throw new UsageError('--only needs one or more app ids, comma-separated')
  return ids
}

/** `homelab render`: write the plan into the output folder, or with --check compare only. DEBUG=homelab times its steps. */
export async function renderCommand(options: RenderOptions): Promise<void> {
  checkOutsideInputs(path.resolve(String(options.out)), String(options.config))
  if (options.watch) return watchRender(options)
  const step = debugEnabled() ? stepTimer() : undefined
  try {
    await renderOnce(options, step)
  } finally {
    if (step) debugNote(`render steps: ${step.line()}`)
  }
}

async function renderOnce(options: RenderOptions, step?: (name: string) => void): Promise<void> {
  const started = performance.now()
  const only = parseIdList(options.only)
  const outDir = path.resolve(String(options.out))
  const shownOut = displayDir(outDir)
  const configPath = String(options.config)
  // the same inputs as a render that left the folder as it still is: nothing to render, nothing to change
  const inputs = only ? undefined : await renderInputs(configPath)
  step?.('hashed the inputs')
  const memo = RenderCache.open(outDir)
  step?.('read the memo')
  const unchanged = inputs && memo?.unchangedRender(inputs)
  step?.(unchanged ? 'checked that the folder is as the last render left it' : 'looked for a render with the same inputs')
  if (unchanged) {
    debugNote(`render memo: same inputs as the render that left ${shownOut} as it is, and its ${unchanged.files} files as recorded`)
    if (options.check) printUpToDate(shownOut, unchanged.apps, started)
    else printRendered(shownOut, unchanged.apps, { written: 0, removed: 0, unchanged: unchanged.files }, started)
    return
  }
  // loaded here, not at start-up: the answer above needs none of the rendering code
  const { renderHomelab } = await import('../../index.js')
  step?.('loaded the rendering code')
  const { config, plan, cache, kept } = await renderHomelab(configPath, { only, cache: memo, onStep: step })
  const scope = { only: only ? new Set(only) : undefined, kept }
  const appCount = only ? only.length : config.apps.length
  // the folder now holds exactly this plan: remember its inputs, unless they changed while it rendered
  const recordRun = async () => {
    if (cache && inputs !== undefined && (await renderInputs(configPath)) === inputs) cache.recordRun(inputs, appCount, plan)
  }

  if (options.check) {
    const missing = !existsSync(outDir)
    const changes = await comparePlan(outDir, plan, scope)
    step?.('compared with the folder')
    const differing = changes.added.length + changes.changed.length + changes.removed.length
    if (differing === 0) await recordRun()
    // nothing was written: every recorded file can keep its status
    await cache?.save({ partial: only !== undefined, differs: new Set([...changes.added, ...changes.changed]), written: new Set() })
    step?.('stored the memo')
    if (differing === 0) return printUpToDate(shownOut, appCount, started)
    printChanges(changes)
    info(`✖ ${shownOut} is out of date: ${plural(differing, 'file')} would change; run homelab render`)
    // a misspelt --out looks like a folder never rendered: say which it is
    if (missing) warnMissingFolder(shownOut)
    process.exitCode = ExitCode.Differences
    return
  }

  const changes = await writePlan(outDir, plan, scope)
  step?.('wrote the folder')
  if (scope.only) warnFluxOutOfStep(outDir, changes, scope.only)
  await recordRun()
  await cache?.save({ partial: only !== undefined, written: new Set([...changes.added, ...changes.changed]) })
  step?.('stored the memo')
  printRendered(shownOut, appCount, { written: changes.added.length + changes.changed.length, removed: changes.removed.length, unchanged: changes.unchanged }, started)
}

/** `render --watch`: render now and after every change; an error is printed and the watch goes on; Ctrl-C ends it with 0. */
async function watchRender(options: RenderOptions): Promise<void> {
  if (options.check) throw new UsageError('--watch and --check cannot be combined')
  const { watchHomelab, WATCHED_FOLDERS } = await import('../../watch.js')
  const controller = new AbortController()
  const stop = () => controller.abort()
  process.once('SIGINT', stop)
  process.once('SIGTERM', stop)
  const besideConfig = path.dirname(String(options.config))
  const watched = [String(options.config), ...WATCHED_FOLDERS.map((name) => `${path.join(besideConfig, name)}/`)]
  info(dim(`watching ${watched.join(', ')} (Ctrl-C to stop)`))
  try {
    await watchHomelab({
      configPath: String(options.config),
      run: () => renderCommand({ ...options, watch: false }),
      onError: handleError,
      signal: controller.signal,
    })
  } finally {
    process.off('SIGINT', stop)
    process.off('SIGTERM', stop)
  }
  // errors along the way were printed when they happened; stopping the watch is a success
  process.exitCode = ExitCode.Success
}

/**
 * The output folder must not sit among the inputs: inside templates/ its
 * apps/ became a template (or broke the one it landed in) for every later
 * render, and a watch would render again on its own writes.
 */
function checkOutsideInputs(outDir: string, configPath: string): void {
  const root = path.dirname(path.resolve(configPath))
  for (const name of INPUT_FOLDERS) {
    const inputs = path.join(root, name)
    const relative = path.relative(inputs, outDir)
    if (relative === '' || (!relative.startsWith('..') && !path.isAbsolute(relative))) {
      throw new HomelabError(`the output folder ${displayDir(outDir)} is inside ${displayDir(inputs)}, which the render reads`, {
        hint: 'pass --out a folder outside templates/ and crds/ (the default is manifests/)',
      })
    }
  }
}

/** `--only` writes the whole Flux folder from the config: say where it and the app folders now disagree. */
function warnFluxOutOfStep(outDir: string, changes: PlanChanges, only: ReadonlySet<string>): void {
  const { missing, pruned } = fluxOutOfStep(outDir, changes, only)
  const list = (ids: string[]) => ids.slice(0, 5).join(', ') + (ids.length > 5 ? ` and ${ids.length - 5} more` : '')
  if (missing.length > 0) warn(`apps/flux/ now lists ${list(missing)}, whose folders are not rendered yet: Flux reports their path as missing until homelab render (without --only)`)
  if (pruned.length > 0) warn(`apps/flux/ no longer lists ${list(pruned)}: Flux prunes them, though their folders stay until homelab render (without --only)`)
}

function printUpToDate(shownOut: string, apps: number, started: number): void {
  info(`${green('✔')} ${shownOut} is up to date (${plural(apps, 'app')}, ${formatDuration(performance.now() - started)})`)
}

function printRendered(shownOut: string, apps: number, files: { written: number; removed: number; unchanged: number }, started: number): void {
  info(
    `${green('✔')} rendered ${plural(apps, 'app')} into ${shownOut}: ${files.written} written, ${files.removed} removed, ` +
      `${files.unchanged} unchanged ${dim(`(${formatDuration(performance.now() - started)})`)}`,
  )
}

function printChanges(changes: PlanChanges): void {
  // one write: thousands of lines one by one cost a system call each
  const lines = [...changes.added.map((file) => `  + ${file}`), ...changes.changed.map((file) => `  ~ ${file}`), ...changes.removed.map((file) => `  - ${file}`)]
  if (lines.length > 0) info(lines.join('\n'))
}

/** Every file is new to a folder that is not there: a misspelt --out, or a first render. */
export function warnMissingFolder(shownDir: string): void {
  warn(`${shownDir} does not exist yet: every file would be new`)
}

export function displayDir(dir: string): string {
  const relative = path.relative(process.cwd(), dir)
  return relative && !relative.startsWith('..') && !path.isAbsolute(relative) ? `${relative}/` : `${dir}/`
}
