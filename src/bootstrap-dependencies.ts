/**
 * Which `dependsOn` a `bootstrap: true` app cannot have. Bootstrap applies
 * the bootstrap apps with kubectl before Flux exists; an app they depend on
 * that is not among them would only arrive later, through Flux.
 */
import type { ResolvedConfig } from './config/types.js'
import { HomelabError } from './errors.js'
import type { Locate } from './flux-provider.js'

/**
 * A HomelabError, at the app's `dependsOn`, for each app a bootstrap app
 * depends on that is not a bootstrap app itself, in config order. Bootstrap
 * throws the first; validate reports them all.
 */
export function bootstrapDependencyProblems(config: Pick<ResolvedConfig, 'apps'>, locate?: Locate): HomelabError[] {
  const bootstrapApps = config.apps.filter((app) => app.bootstrap)
  const bootstrapIds = new Set(bootstrapApps.map((app) => app.id))
  const problems: HomelabError[] = []
  for (const app of bootstrapApps) {
    for (const outside of app.dependsOn.filter((id) => !bootstrapIds.has(id))) {
      problems.push(
        new HomelabError(`app "${app.id}" has bootstrap: true but depends on "${outside}", which bootstrap does not apply`, {
          location: locate?.(['apps', app.index, 'dependsOn']),
          hint: `set bootstrap: true on "${outside}" too, or drop bootstrap: true from "${app.id}"`,
        }),
      )
    }
  }
  return problems
}
