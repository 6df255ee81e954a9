import { checkOwnKustomization } from './check-kustomization.js'
import type { OwnKustomization } from './check-kustomization.js'
import { checkManifestFile } from './check-manifests.js'
import type { ManifestObject } from './check-manifests.js'
import type { ResolvedApp, ResolvedConfig } from './config/types.js'
import { HomelabError, formatLocation } from './errors.js'
import { FLUX_NAMESPACE, fluxFiles, kustomizeFile } from './flux-objects.js'
import type { KeepFluxFile } from './flux-objects.js'
import { compare } from './order.js'
import { compileTemplate, createHandlebars } from './templates/handlebars-env.js'
import { locateInTemplate } from './templates/output-lines.js'
import type { CompiledTemplate } from './templates/handlebars-env.js'
import { OWN_KUSTOMIZATION } from './templates/load-templates.js'
import type { Template, TemplateFile, TemplateLibrary } from './templates/load-templates.js'

/** File content: rendered text, or the bytes of a file copied verbatim. */
export type FileContent = string | Uint8Array

/** The whole output of a render: path under the output folder (with `/`) → content. */
export type Plan = Map<string, FileContent>

export interface RenderOptions {
  /** Render only these app ids (the Flux folders are always generated). */
  only?: ReadonlySet<string>
  /** Apps' Flux Kustomization files the output folder already holds as they would be written: left out of the plan. */
  keepFlux?: KeepFluxFile
}

/**
 * The pure centre of the tool: config and templates in, every output file out.
 * No I/O; the same input gives the same bytes. Throws a HomelabError at the
 * template file and line for anything that does not render to valid manifests.
 */
export function render(config: ResolvedConfig, library: TemplateLibrary, options: RenderOptions = {}): Plan {
  const plan: Plan = new Map()
  const renderer = createRenderer(library)
  for (const app of config.apps) {
    if (options.only && !options.only.has(app.id)) continue
    const template = library.templates.get(app.template)
    if (!template) throw new HomelabError(`template "${app.template}" of app "${app.id}" was not loaded`)
    for (const [file, content] of renderApp(config, app, template, renderer)) plan.set(`apps/${app.id}/${file}`, content)
  }
  for (const [file, content] of fluxFiles(config, options.keepFlux)) plan.set(file, content)
  return plan
}

/** Compiles each template file once, however many apps use it. */
interface Renderer {
  compiled(template: Template, file: TemplateFile): CompiledTemplate
}

function createRenderer(library: TemplateLibrary): Renderer {
  let env: ReturnType<typeof createHandlebars> | undefined
  const cache = new Map<TemplateFile, CompiledTemplate>()
  return {
    compiled(_template, file) {
      let fn = cache.get(file)
      if (!fn) {
        env ??= createHandlebars(library.partials)
        fn = compileTemplate(env, file.content.toString('utf8'), file.file)
        cache.set(file, fn)
      }
      return fn
    },
  }
}

/** The files of one app's folder, keyed by path inside it. */
function renderApp(config: ResolvedConfig, app: ResolvedApp, template: Template, renderer: Renderer): Map<string, FileContent> {
  const files = new Map<string, FileContent>()
  const resources: string[] = []
  const context = {
    app: { id: app.id, template: app.template, namespace: app.namespace },
    options: app.options,
    values: config.values,
    cluster: config.cluster,
    flux: {
      repository: config.flux.repository,
      branch: config.flux.branch,
      path: config.flux.path,
      namespace: 'flux-system',
    },
  }
  const describe = `app "${app.id}"`
  // kustomize refuses two objects with the same id in one folder: say so here, at the second one
  const seen = new Map<string, string>()
  const listed = (objects: readonly ManifestObject[], file: string) => {
    if (template.ownKustomization) return
    for (const object of objects) {
      const first = seen.get(object.id)
      if (first !== undefined) {
        throw new HomelabError(`a second ${object.kind} "${object.name}" in ${describe} (the first is in ${first}): kubectl kustomize rejects the folder`, {
          location: object.location,
        })
      }
      seen.set(object.id, file)
    }
  }
  // files left out, to tell why a template's own kustomization names one that is not there
  const leftOut = new Map<string, string>()
  let namespaceObject: ManifestObject | undefined
  const checked = (objects: readonly ManifestObject[], file: string) => {
    listed(objects, file)
    for (const object of objects) {
      if (object.apiVersion !== 'v1' || object.kind !== 'Namespace') continue
      if (object.name === FLUX_NAMESPACE) throw fluxNamespaceError(app, object)
      namespaceObject ??= object
    }
  }
  for (const file of template.files) {
    switch (file.kind) {
      case 'rendered-resource': {
        const compiled = renderer.compiled(template, file)
        const rendered = compiled(context)
        const text = withFinalNewline(rendered)
        let objects: ManifestObject[]
        try {
          objects = checkManifestFile(text, file.file, describe)
          if (objects.length > 0) checked(objects, file.file)
        } catch (error) {
          if (!(error instanceof HomelabError)) throw error
          // rendered again, to tell the lines shared partials wrote: only on the way to an error
          throw locateInTemplate(error, { file: file.file, source: file.content.toString('utf8') }, text, () => compiled.trace(context, rendered))
        }
        if (objects.length === 0) {
          leftOut.set(file.outputPath, file.file) // every document empty: left out
          continue
        }
        files.set(file.outputPath, text)
        resources.push(file.outputPath)
        break
      }
      case 'rendered-file':
        files.set(file.outputPath, renderer.compiled(template, file)(context))
        break
      case 'resource':
        checked(checkManifestFile(file.content.toString('utf8'), file.file, describe), file.file)
        files.set(file.outputPath, file.content)
        resources.push(file.outputPath)
        break
      case 'file':
        files.set(file.outputPath, file.content)
        break
    }
  }
  let own: OwnKustomization = {}
  if (template.ownKustomization) {
    const file = template.files.find((f) => OWN_KUSTOMIZATION.test(f.outputPath)) as TemplateFile
    own = checkOwnKustomization(textOf(files.get(file.outputPath) as FileContent), file.file, { files, leftOut }, describe)
  } else {
    files.set('kustomization.yaml', kustomizeFile(resources.sort(compare)))
  }
  if (namespaceObject) checkNamespaceTarget(config, app, namespaceObject, own)
  return files
}

/**
 * flux bootstrap creates and labels the Namespace flux-system. An app that
 * applies it too makes its Flux Kustomization an owner: each reconcile strips
 * the labels bootstrap set, and removing the app has Flux prune the Namespace,
 * and Flux in it.
 */
const FLUX_NAMESPACE_HARM = `Flux's own Namespace (flux bootstrap creates and labels it): every reconcile of the app would strip those labels, and removing the app would have Flux delete the Namespace, taking Flux down`

function fluxNamespaceError(app: ResolvedApp, object: ManifestObject): HomelabError {
  return new HomelabError(`app "${app.id}" creates the Namespace "${FLUX_NAMESPACE}", ${FLUX_NAMESPACE_HARM}`, {
    location: object.location,
    hint:
      app.namespace === FLUX_NAMESPACE
        ? `the app's namespace is ${FLUX_NAMESPACE}: give it another, or leave the Namespace object out (other objects may still go into ${FLUX_NAMESPACE})`
        : `leave the Namespace object out (other objects may still go into ${FLUX_NAMESPACE})`,
  })
}

/** kustomize renames every Namespace object of a folder to the namespace it moves the folder into (Flux's targetNamespace, or the kustomization's own `namespace`). */
function checkNamespaceTarget(config: ResolvedConfig, app: ResolvedApp, object: ManifestObject, own: OwnKustomization): void {
  const renamed = `its Namespace "${object.name}" (${formatLocation(object.location)}) to ${FLUX_NAMESPACE}, ${FLUX_NAMESPACE_HARM}`
  const hint = `leave the Namespace object out of the app, or move the app into another namespace`
  // Flux's targetNamespace replaces the kustomization's own namespace
  if (app.kustomization.targetNamespace === undefined && own.namespace?.value === FLUX_NAMESPACE) {
    throw new HomelabError(`the kustomization of app "${app.id}" sets namespace ${FLUX_NAMESPACE}, and so renames ${renamed}`, { location: own.namespace.location, hint })
  }
  if (app.kustomization.targetNamespace !== FLUX_NAMESPACE) return
  const location =
    config.locate(['apps', app.index, 'kustomization', 'targetNamespace']) ?? config.locate(['flux', 'kustomization', 'targetNamespace']) ?? { file: config.file }
  throw new HomelabError(`app "${app.id}" has targetNamespace ${FLUX_NAMESPACE}, which renames ${renamed}`, { location, hint })
}

function textOf(content: FileContent): string {
  return typeof content === 'string' ? content : Buffer.from(content).toString('utf8')
}

function withFinalNewline(text: string): string {
  return text.endsWith('\n') ? text : text + '\n'
}
