/**
 * Which Flux Kustomization settings a `bootstrap: true` app cannot have.
 * Bootstrap applies the app's rendered folder with `kubectl apply`; Flux then
 * takes the app over with its generated Kustomization. Where that
 * Kustomization makes Flux build other objects than the folder holds, Flux
 * creates those next to the ones bootstrap applied, which nothing then owns.
 */
import type { KustomizationFields, ResolvedApp, ResolvedConfig } from './config/types.js'
import { HomelabError } from './errors.js'
import type { Locate } from './flux-provider.js'

/** Throw the first of `bootstrapKustomizationProblems`: what `homelab bootstrap` stops with. */
export function checkBootstrapKustomization(app: ResolvedApp, stream: string, config: Pick<ResolvedConfig, 'locate'>, locate?: Locate): void {
  const [first] = bootstrapKustomizationProblems(app, stream, config, locate)
  if (first) throw first
}

/**
 * A HomelabError, at the config line, for each Kustomization field that
 * changes what Flux applies for this bootstrap app: `targetNamespace`;
 * `postBuild` substitutions when its YAML has a `${…}` for them to replace;
 * `decryption` when its YAML holds SOPS-encrypted documents. The other
 * fields the config allows (interval, prune, wait, healthChecks…) change
 * how Flux applies, not what. `stream` is the YAML bootstrap pipes to kubectl.
 * Bootstrap throws the first; validate reports them all.
 */
export function bootstrapKustomizationProblems(app: ResolvedApp, stream: string, config: Pick<ResolvedConfig, 'locate'>, locate?: Locate): HomelabError[] {
  const fields = app.kustomization
  const where = origin(app, config)
  const problems: HomelabError[] = []

  if (fields.targetNamespace !== undefined) {
    const at = where('targetNamespace')
    problems.push(
      new HomelabError(
        `${at.sets('targetNamespace')}: Flux would move its objects to namespace "${fields.targetNamespace}", while bootstrap applies them where they are rendered and leaves them behind`,
        {
          location: locate?.(at.path),
          hint: at.own
            ? `drop targetNamespace and set the app's namespace: ${fields.targetNamespace} instead (the templates place objects there), or drop bootstrap: true from "${app.id}"`
            : `set targetNamespace on the apps that need it rather than in flux.kustomization, or drop bootstrap: true from "${app.id}"`,
        },
      ),
    )
  }

  const postBuild = fields.postBuild
  const substitutes = Object.keys(postBuild?.substitute ?? {}).length > 0 || (postBuild?.substituteFrom ?? []).length > 0
  // Flux substitutes ${var} (and turns $${var} into ${var}); YAML without "${" comes out of it unchanged
  if (substitutes && stream.includes('${')) {
    const at = where('postBuild', Object.keys(postBuild?.substitute ?? {}).length > 0 ? 'substitute' : 'substituteFrom')
    problems.push(
      new HomelabError(
        `${at.sets('postBuild substitutions', ", and the app's YAML contains ${…}")}: Flux would substitute there, but bootstrap applies the YAML as rendered, so the two would apply different objects`,
        {
          location: locate?.(at.path),
          hint: at.own
            ? `pass the values as options, so that the templates render them, or drop bootstrap: true from "${app.id}"`
            : `set kustomization: { postBuild: {} } on "${app.id}" to turn substitution off for it, pass the values as options, or drop bootstrap: true from "${app.id}"`,
        },
      ),
    )
  }

  if (fields.decryption !== undefined && hasSopsDocument(stream)) {
    const at = where('decryption')
    problems.push(
      new HomelabError(
        `${at.sets('decryption', ", and the app's YAML holds SOPS-encrypted documents")}: Flux would decrypt them, while bootstrap would apply them encrypted`,
        {
          location: locate?.(at.path),
          hint: `move the encrypted objects to an app that Flux alone applies, or drop bootstrap: true from "${app.id}"`,
        },
      ),
    )
  }
  return problems
}

/**
 * Where a field of the app's merged Kustomization was set: the app's own
 * `kustomization` wins over `flux.kustomization` (a shallow merge), so the
 * error points at the line a person has to change.
 */
function origin(app: ResolvedApp, config: Pick<ResolvedConfig, 'locate'>) {
  return (key: keyof KustomizationFields, ...sub: string[]) => {
    const own = config.locate(['apps', app.index, 'kustomization', key]) !== undefined || config.locate(['flux', 'kustomization', key]) === undefined
    const sets = (what: string, and = '') =>
      own ? `app "${app.id}" has bootstrap: true and sets ${what}${and}` : `flux.kustomization sets ${what} for every app, "${app.id}" too, which has bootstrap: true${and}`
    return { own, sets, path: own ? ['apps', app.index, 'kustomization', key, ...sub] : ['flux', 'kustomization', key, ...sub] }
  }
}

/** A document with SOPS's top-level `sops:` metadata, as `sops --encrypt` writes it. */
function hasSopsDocument(stream: string): boolean {
  return /^sops:[ \t]*(?:#.*)?$/m.test(stream)
}
