/**
 * The core of homelab: load + validate → resolve → render → plan, and the
 * writers around it. No printing and no process exits here: the CLI does that.
 */
import { loadConfig } from './config/load-config.js'
import { resolveConfig } from './config/resolve-config.js'
import type { ResolvedConfig } from './config/types.js'
import { HomelabError } from './errors.js'
import { render } from './render.js'
import type { FileContent, Plan } from './render.js'
import type { RenderCache } from './render-cache.js'
import type { Template, TemplateLibrary } from './templates/load-templates.js'

export { loadConfig, parseConfig, displayPath } from './config/load-config.js'
export { resolveConfig } from './config/resolve-config.js'
export { render } from './render.js'
export { comparePlan, writePlan, listOutputFiles } from './write-plan.js'
export { HomelabError } from './errors.js'
export type { Plan, FileContent } from './render.js'
export type { ResolvedConfig, ResolvedApp } from './config/types.js'
export type { PlanChanges, Scope } from './write-plan.js'

export interface RenderedHomelab {
  config: ResolvedConfig
  library: TemplateLibrary
  plan: Plan
  /** The render memo of the output folder, when one was asked for: save it once the output is written. */
  cache?: RenderCache
  /**
   * Files of the output folder (paths like the plan's) that already hold what
   * a render would write, known from the render memo: not in the plan, kept
   * as they are (apps not rendered again, Flux files rendered to the same bytes).
   */
  kept: Set<string>
}

export interface RenderHomelabOptions {
  /** Render only these app ids (the Flux folders are always generated). */
  only?: readonly string[]
  /** The memo of the output folder the plan is for: apps whose inputs did not change since they were rendered there are kept, not rendered. */
  cache?: RenderCache
  /** Called as each step ends, with its name (for DEBUG=homelab's timings). */
  onStep?: (step: string) => void
}

/**
 * Everything up to the plan, in memory: read and check the config, load the
 * templates it uses, render. Any error is thrown before anything is written.
 */
export async function renderHomelab(configPath: string, options: RenderHomelabOptions = {}): Promise<RenderedHomelab> {
  const { cache, onStep } = options
  const loaded = await loadConfig(configPath)
  onStep?.('read and checked the config')
  const { config, library } = await resolveConfig(loaded)
  onStep?.('resolved apps, templates and options')
  let only: Set<string> | undefined
  if (options.only) {
    only = new Set(options.only)
    const known = new Set(config.apps.map((app) => app.id))
    for (const id of only) {
      if (!known.has(id)) {
        throw new HomelabError(`--only names "${id}", which is not an enabled app of ${config.file}`, {
          hint: `apps: ${[...known].join(', ')}`,
        })
      }
    }
  }
  const targets = only ? config.apps.filter((app) => only.has(app.id)) : config.apps
  await cache?.begin(config, library)
  const keys = new Map<string, string>()
  const reused = new Map<string, string[]>()
  if (cache) {
    for (const app of targets) {
      const key = cache.key(app, library.templates.get(app.template) as Template)
      keys.set(app.id, key)
      const files = cache.reuse(app, key)
      if (files) reused.set(app.id, files)
    }
  }
  onStep?.(`kept apps as rendered before (${reused.size})`)
  const kept = new Set<string>()
  const keepFlux = cache && ((file: string, inputs: string) => {
    if (!cache.keepFluxFile(file, inputs)) return false
    kept.add(file)
    return true
  })
  const rendered = render(config, library, { only: new Set(targets.filter((app) => !reused.has(app.id)).map((app) => app.id)), keepFlux })
  onStep?.(`rendered apps (${targets.length - reused.size}) and the Flux folders (${kept.size} Kustomizations kept)`)

  // one folder's files together, apps in config order, then the Flux folders
  const byFolder = new Map<string, Array<[string, FileContent]>>()
  for (const [file, content] of rendered) {
    const folder = file.split('/', 2)[1] as string
    let files = byFolder.get(folder)
    if (!files) byFolder.set(folder, (files = []))
    files.push([file.slice(`apps/${folder}/`.length), content])
  }
  const plan: Plan = new Map()
  for (const app of targets) {
    const same = reused.get(app.id)
    if (same) {
      for (const file of same) kept.add(`apps/${app.id}/${file}`)
      continue
    }
    const files = byFolder.get(app.id) ?? []
    for (const [file, content] of files) plan.set(`apps/${app.id}/${file}`, content)
    if (cache) cache.record(app, keys.get(app.id) as string, files)
  }
  const generated = ['flux', 'flux-bootstrap'].flatMap((folder) => (byFolder.get(folder) ?? []).map(([file, content]): [string, FileContent] => [`apps/${folder}/${file}`, content]))
  const keptGenerated = cache?.keepGenerated(generated)
  for (const [file, content] of generated) {
    if (keptGenerated?.has(file)) kept.add(file)
    else plan.set(file, content)
  }
  if (cache) onStep?.(`kept other Flux files as written before (${keptGenerated?.size ?? 0})`)
  return { config, library, plan, cache, kept }
}
