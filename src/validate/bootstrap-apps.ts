/**
 * What `homelab bootstrap` would refuse, found offline: validate is what a
 * careful operator runs before anything reaches the cluster, so it reports
 * what bootstrap would stop at, with the same checks and at the same config line.
 */
import { bootstrapDependencyProblems } from '../bootstrap-dependencies.js'
import { bootstrapKustomizationProblems } from '../bootstrap-kustomization.js'
import type { ResolvedConfig } from '../config/types.js'
import { HomelabError } from '../errors.js'
import { planFluxTarget, repositoryHasPassword } from '../flux-provider.js'
import type { Locate } from '../flux-provider.js'
import { manifestStream } from '../kubectl.js'
import type { Plan } from '../render.js'
import { sourceFinding } from './findings.js'
import type { SourceFinding } from './findings.js'

/**
 * One `bootstrap` finding per problem: a `flux` section that `flux bootstrap`
 * cannot be planned from (at the setting; see fluxTargetFinding), a bootstrap
 * app that depends on an app bootstrap does not apply (at its `dependsOn`), a
 * folder `kubectl apply -f -` cannot take (at the app's `bootstrap: true`), a
 * Kustomization setting that makes Flux apply other objects than bootstrap
 * did (at the setting).
 */
export function findBootstrapProblems(config: ResolvedConfig, plan: Plan): SourceFinding[] {
  // where bootstrap's errors point: the setting, else the nearest node the config has
  const locate: Locate = config.locateNearest
  const findings: SourceFinding[] = []
  const target = fluxTargetFinding(config, locate)
  if (target) findings.push(target)
  for (const problem of bootstrapDependencyProblems(config, locate)) findings.push(sourceFinding(problem, 'bootstrap'))
  for (const app of config.apps.filter((each) => each.bootstrap)) {
    let stream: string
    try {
      stream = manifestStream(plan, `apps/${app.id}`, `bootstrap app "${app.id}"`)
    } catch (error) {
      if (!(error instanceof HomelabError)) throw error
      findings.push(sourceFinding(error, 'bootstrap', config.locate(['apps', app.index, 'bootstrap'])))
      continue
    }
    for (const problem of bootstrapKustomizationProblems(app, stream, config, locate)) findings.push(sourceFinding(problem, 'bootstrap'))
  }
  return findings
}

/**
 * Why `flux bootstrap` cannot be planned from the config's `flux` section,
 * as a finding. A warning: render and publish need only a repository they
 * can push to, and a config whose Flux is bootstrapped by hand (or that
 * publishes to a local path) may never be bootstrapped by homelab, so this
 * must not fail validate, and bootstrap itself still refuses it. A password
 * in flux.repository is the exception, an error: it is a secret in a
 * committed file, whoever bootstraps.
 */
function fluxTargetFinding(config: ResolvedConfig, locate: Locate): SourceFinding | undefined {
  try {
    planFluxTarget(config.flux, locate)
    return undefined
  } catch (error) {
    if (!(error instanceof HomelabError)) throw error
    const finding = sourceFinding(error, 'bootstrap')
    finding.message = `homelab bootstrap cannot run flux bootstrap: ${finding.message}`
    if (!repositoryHasPassword(config.flux.repository)) finding.severity = 'warning'
    return finding
  }
}
