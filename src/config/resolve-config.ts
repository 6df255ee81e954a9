import path from 'node:path'
import { HomelabError } from '../errors.js'
import { findCycle } from '../dependency-graph.js'
import { didYouMean } from '../suggest.js'
import { loadTemplate, openTemplateLibrary } from '../templates/load-templates.js'
import type { Template, TemplateLibrary } from '../templates/load-templates.js'
import { formatPath, locate, locateIfSet } from '../yaml-source.js'
import type { SourceLocation } from '../errors.js'
import { APPS_DIR } from '../write-plan.js'
import { templatesDirOf } from './paths.js'
import { assertValid, failedRule, pointerToPath } from './schema-check.js'
import type { LoadedConfig } from './load-config.js'
import type { RawApp, ResolvedApp, ResolvedConfig } from './types.js'

/** Ids the tool keeps for itself: the generated Flux folders and Flux's own namespace. */
export const RESERVED_IDS = ['flux', 'flux-bootstrap', 'flux-system'] as const
const DNS_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/

export const DEFAULT_KUSTOMIZATION = { interval: '10m', prune: true } as const


/**
 * Apply every rule of the config that the schema cannot express: ids,
 * templates, singletons, options, dependencies. Loads the templates that
 * enabled apps use. Every error points at the key or value at fault.
 */
export async function resolveConfig(
  loaded: LoadedConfig,
  library?: TemplateLibrary,
): Promise<{ config: ResolvedConfig; library: TemplateLibrary }> {
  const { raw, source } = loaded
  library ??= openTemplateLibrary(templatesDirOf(loaded))
  const templateNames = new Set(library.names)
  const at = (index: number, ...rest: Array<string | number>) => locate(source, ['apps', index, ...rest])

  // templates and ids
  const firstIndexOfId = new Map<string, number>()
  const enabledRaw: Array<{ app: RawApp; index: number; id: string }> = []
  const disabled: string[] = []
  raw.apps.forEach((app, index) => {
    if (!templateNames.has(app.template)) {
      throw new HomelabError(`unknown template "${app.template}"${didYouMean(app.template, library.names)}`, {
        location: at(index, 'template'),
        hint: library.names.length > 0 ? `templates in ${displayDir(library.dir)}: ${library.names.join(', ')}` : `no templates found in ${displayDir(library.dir)}`,
      })
    }
    const id = app.id ?? app.template
    // locations only when an error needs them: locating parses the config's positions
    const idLocation = () => (app.id === undefined ? at(index, 'template') : at(index, 'id'))
    if (!DNS_LABEL.test(id) || id.length > 63) {
      throw new HomelabError(`app id "${id}" is not a DNS-1123 label: use lowercase letters, digits and "-", start and end with a letter or digit`, {
        location: idLocation(),
        hint: app.id === undefined ? 'the id defaults to the template name: set `id:` to a valid name' : undefined,
      })
    }
    if ((RESERVED_IDS as readonly string[]).includes(id)) {
      throw new HomelabError(`app id "${id}" is reserved (${RESERVED_IDS.join(', ')} are the tool's own)`, { location: idLocation() })
    }
    const first = firstIndexOfId.get(id)
    if (first !== undefined) {
      throw new HomelabError(`duplicate app id "${id}" (first used at line ${at(first).line})`, {
        location: idLocation(),
        hint: 'give one of them its own `id:`',
      })
    }
    firstIndexOfId.set(id, index)
    if (app.enabled === false) disabled.push(id)
    else enabledRaw.push({ app, index, id })
  })

  // templates of enabled apps, read concurrently
  const used = [...new Set(enabledRaw.map(({ app }) => app.template))]
  await Promise.all(used.map((name) => loadTemplate(library, name)))

  // singletons
  const singletonUser = new Map<string, number>()
  for (const { app, index } of enabledRaw) {
    const template = library.templates.get(app.template) as Template
    if (!template.meta.singleton) continue
    const first = singletonUser.get(app.template)
    if (first !== undefined) {
      throw new HomelabError(`template "${app.template}" is a singleton: it can be used once, and line ${at(first).line} already does`, {
        location: at(index, 'template'),
      })
    }
    singletonUser.set(app.template, index)
  }

  // dependencies
  const enabledIds = new Set(enabledRaw.map(({ id }) => id))
  const disabledIds = new Set(disabled)
  for (const { app, index, id } of enabledRaw) {
    app.dependsOn?.forEach((dep, depIndex) => {
      const location = () => at(index, 'dependsOn', depIndex)
      if (dep === id) throw new HomelabError(`app "${id}" depends on itself`, { location: location() })
      if (disabledIds.has(dep)) {
        throw new HomelabError(`app "${id}" depends on "${dep}", which is disabled (enabled: false)`, {
          location: location(),
          hint: `enable "${dep}" or remove it from dependsOn`,
        })
      }
      if (!enabledIds.has(dep)) {
        throw new HomelabError(`app "${id}" depends on unknown app "${dep}"${didYouMean(dep, [...enabledIds, ...disabledIds])}`, { location: location() })
      }
    })
  }
  const cycle = findCycle(enabledRaw.map(({ app, id }) => ({ id, dependsOn: app.dependsOn ?? [] })))
  if (cycle) {
    const [first, second] = cycle as [string, string]
    const entry = enabledRaw.find(({ id }) => id === first) as (typeof enabledRaw)[number]
    throw new HomelabError(`dependency cycle: ${cycle.join(' -> ')}`, {
      location: at(entry.index, 'dependsOn', (entry.app.dependsOn ?? []).indexOf(second)),
    })
  }

  if (raw.flux.path !== undefined) checkFluxPath(raw.flux.path, () => locate(source, ['flux', 'path']))

  // per-app values with defaults
  const defaults = { ...DEFAULT_KUSTOMIZATION, ...raw.flux.kustomization }
  const apps: ResolvedApp[] = enabledRaw.map(({ app, index, id }) => {
    const template = library.templates.get(app.template) as Template
    return {
      id,
      template: app.template,
      namespace: app.namespace ?? template.meta.namespace ?? id,
      dependsOn: app.dependsOn ?? [],
      options: resolveOptions(loaded, template, app, index),
      kustomization: { ...defaults, ...app.kustomization },
      flux: app.flux ?? true,
      bootstrap: app.bootstrap ?? false,
      allowPlaintextSecrets: app.allowPlaintextSecrets ?? false,
      index,
    }
  })

  const config: ResolvedConfig = {
    file: loaded.file,
    root: loaded.root,
    cluster: { name: raw.cluster.name },
    flux: {
      repository: raw.flux.repository,
      branch: raw.flux.branch ?? 'main',
      path: raw.flux.path ?? 'flux',
      provider: raw.flux.provider,
      hostname: raw.flux.hostname,
      personal: raw.flux.personal ?? true,
      kustomization: defaults,
    },
    values: raw.values ?? {},
    apps,
    disabled,
    locate: (path) => locateIfSet(source, path),
    locateNearest: (path) => locate(source, path),
  }
  return { config, library }
}

/**
 * flux.path is where `flux bootstrap` keeps its own flux-system manifests,
 * and the folder Flux's flux-system Kustomization reconciles. It must be a
 * folder of its own inside the repository: under apps/ the next render or
 * publish would remove Flux's manifests (apps/ is homelab's alone), and at
 * the root Flux would apply every app folder directly, past dependsOn.
 */
function checkFluxPath(given: string, location: () => SourceLocation): void {
  const folder = path.posix.normalize(given).replace(/^(\.\/)+/, '').replace(/\/+$/, '')
  const fail = (why: string) => {
    throw new HomelabError(`flux.path "${given}" ${why}`, {
      location: location(),
      hint: 'flux bootstrap keeps flux-system under flux.path: use a folder of its own, such as flux or clusters/home',
    })
  }
  if (given.startsWith('/')) fail('is absolute: it is a folder inside the manifest repository')
  if (folder === '..' || folder.startsWith('../')) fail('leaves the manifest repository')
  if (folder === '.' || folder === '') fail('is the root of the manifest repository: Flux would apply every app folder directly, past dependsOn')
  if (folder === APPS_DIR || folder.startsWith(`${APPS_DIR}/`)) fail(`is inside ${APPS_DIR}/, which homelab renders alone: the next render would remove Flux's own manifests`)
}

function resolveOptions(loaded: LoadedConfig, template: Template, app: RawApp, index: number): Record<string, unknown> {
  const given = app.options ?? {}
  if (!template.validateOptions) {
    const keys = Object.keys(given)
    if (keys.length > 0) {
      throw new HomelabError(`template "${template.name}" takes no options, but this app sets ${keys.map((k) => `"${k}"`).join(', ')}`, {
        location: locate(loaded.source, ['apps', index, 'options'], { key: true }),
      })
    }
    return {}
  }
  // ajv fills defaults in place: work on a copy so the config stays as written
  const options = structuredClone(given)
  if (template.validateOptions(options)) return options
  const failed = template.validateOptions.errors?.[0]
  const key = failed ? pointerToPath(failed.instancePath)[0] : undefined
  if (failed && typeof key === 'string' && !Object.hasOwn(given, key) && template.metaSource) {
    // a value the app never set: the template's own default breaks its schema, whichever app shows it first
    throw new HomelabError(`the default of option "${key}" does not pass the template's own options schema: ${formatPath(pointerToPath(failed.instancePath))} ${failedRule(failed)}`, {
      location: locate(template.metaSource, ['options', 'properties', key, 'default']),
      hint: 'fix the default in template.yaml, or set the option in the app',
    })
  }
  assertValid(template.validateOptions, structuredClone(given), loaded.source, ['apps', index, 'options'])
  return options
}

function displayDir(dir: string): string {
  const relative = path.relative(process.cwd(), dir)
  return relative && !relative.startsWith('..') ? `${relative}/` : `${dir}/`
}
