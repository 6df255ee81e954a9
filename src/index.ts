/**
 * The core of homelab: load + validate → resolve → render → plan, and the
 * writers around it. No printing and no process exits here: the CLI does that.
 */
import { loadConfig } from './config/load-config.js'
import { resolveConfig } from './config/resolve-config.js'
import type { ResolvedConfig } from './config/types.js'
import { HomelabError } from './errors.js'
import { render } from './render.js'
import type { Plan } from './render.js'
import type { TemplateLibrary } from './templates/load-templates.js'

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
}

/**
 * Everything up to the plan, in memory: read and check the config, load the
 * templates it uses, render. Any error is thrown before anything is written.
 */
export async function renderHomelab(configPath: string, options: { only?: readonly string[] } = {}): Promise<RenderedHomelab> {
  const loaded = await loadConfig(configPath)
  const { config, library } = await resolveConfig(loaded)
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
  const plan = render(config, library, { only })
  return { config, library, plan }
}
