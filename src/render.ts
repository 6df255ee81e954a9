import { checkOwnKustomization } from './check-kustomization.js'
import { checkManifestFile } from './check-manifests.js'
import type { ManifestObject } from './check-manifests.js'
import type { ResolvedApp, ResolvedConfig } from './config/types.js'
import { HomelabError } from './errors.js'
import { fluxFiles, kustomizeFile } from './flux-objects.js'
import { compare } from './order.js'
import { compileTemplate, createHandlebars } from './templates/handlebars-env.js'
import type { CompiledTemplate } from './templates/handlebars-env.js'
import type { Template, TemplateFile, TemplateLibrary } from './templates/load-templates.js'

/** File content: rendered text, or the bytes of a file copied verbatim. */
export type FileContent = string | Uint8Array

/** The whole output of a render: path under the output folder (with `/`) → content. */
export type Plan = Map<string, FileContent>

export interface RenderOptions {
  /** Render only these app ids (the Flux folders are always generated). */
  only?: ReadonlySet<string>
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
  for (const [file, content] of fluxFiles(config)) plan.set(file, content)
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
  for (const file of template.files) {
    switch (file.kind) {
      case 'rendered-resource': {
        const text = withFinalNewline(renderer.compiled(template, file)(context))
        const objects = checkManifestFile(text, file.file, describe)
        if (objects.length === 0) {
          leftOut.set(file.outputPath, file.file) // every document empty: left out
          continue
        }
        listed(objects, file.file)
        files.set(file.outputPath, text)
        resources.push(file.outputPath)
        break
      }
      case 'rendered-file':
        files.set(file.outputPath, renderer.compiled(template, file)(context))
        break
      case 'resource':
        listed(checkManifestFile(file.content.toString('utf8'), file.file, describe), file.file)
        files.set(file.outputPath, file.content)
        resources.push(file.outputPath)
        break
      case 'file':
        files.set(file.outputPath, file.content)
        break
    }
  }
  if (template.ownKustomization) {
    const file = template.files.find((f) => KUSTOMIZATION.test(f.outputPath)) as TemplateFile
    checkOwnKustomization(textOf(files.get(file.outputPath) as FileContent), file.file, { files, leftOut }, describe)
  } else {
    files.set('kustomization.yaml', kustomizeFile(resources.sort(compare)))
  }
  return files
}

/** The kustomization a template may ship at the top of its folder, instead of the generated one. */
const KUSTOMIZATION = /^kustomization\.ya?ml$/

function textOf(content: FileContent): string {
  return typeof content === 'string' ? content : Buffer.from(content).toString('utf8')
}

function withFinalNewline(text: string): string {
  return text.endsWith('\n') ? text : text + '\n'
}
