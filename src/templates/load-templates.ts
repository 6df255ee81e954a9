import { readFileSync } from 'node:fs'
import path from 'node:path'
import type { ValidateFunction } from 'ajv'
import { globbySync } from 'globby'
import { HomelabError } from '../errors.js'
import { assertValid, compileJsonSchema, staticValidators } from '../config/schema-check.js'
import { displayPath } from '../config/load-config.js'
import { locate, readYamlData } from '../yaml-source.js'
import type { YamlSource } from '../yaml-source.js'

/** What a template file becomes in an app's output folder. */
export type TemplateFileKind =
  /** `*.yaml.hbs`: rendered with Handlebars, checked as Kubernetes YAML, listed in kustomization.yaml */
  | 'rendered-resource'
  /** any other `*.hbs`: rendered, copied as text, not listed */
  | 'rendered-file'
  /** `*.yaml` / `*.yml`: checked, copied verbatim, listed */
  | 'resource'
  /** anything else: copied verbatim, not listed (input for kustomize generators) */
  | 'file'

export interface TemplateFile {
  /** Path inside the template folder, with `/`. */
  relPath: string
  /** Path inside the app's output folder (`.hbs` dropped). */
  outputPath: string
  kind: TemplateFileKind
  /** The file as shown to the user. */
  file: string
  content: Buffer
}

export interface TemplateMeta {
  description?: string
  namespace?: string
  singleton: boolean
  /** JSON Schema of the app's options; absent: the template takes none. */
  options?: Record<string, unknown>
}

export interface Template {
  name: string
  /** The folder as shown to the user. */
  dir: string
  meta: TemplateMeta
  /** template.yaml, when the template has one (for error locations). */
  metaSource?: YamlSource
  /** Validates (and fills defaults into) a copy of an app's options. */
  validateOptions?: ValidateFunction
  files: TemplateFile[]
  /** The template ships its own kustomization.yaml. */
  ownKustomization: boolean
}

export interface TemplatePartial {
  name: string
  file: string
  source: string
}

/** Everything under `templates/` that a render needs. */
export interface TemplateLibrary {
  /** Absolute path of the templates folder. */
  dir: string
  /** Names of every template folder, sorted. */
  names: string[]
  partials: TemplatePartial[]
  /** Loaded templates by name (only those the config uses). */
  templates: Map<string, Template>
}

export const PARTIALS_DIR = '_partials'
/** Where in a template's output its own kustomization sits, in place of the generated one. */
export const OWN_KUSTOMIZATION = /^kustomization\.ya?ml$/
const TEMPLATE_META = 'template.yaml'

/** List the template folders and read the shared partials. */
export function openTemplateLibrary(dir: string): TemplateLibrary {
  // synchronous listing and reading: a few small files, nothing else to do meanwhile
  let entries: string[] = []
  try {
    entries = globbySync('*', { cwd: dir, onlyDirectories: true, deep: 1 })
  } catch {
    // no templates folder: no templates (the config's check names the missing ones)
  }
  const names = entries.filter((name) => name !== PARTIALS_DIR && !name.startsWith('.')).sort()
  const partialFiles = globbySync(`${PARTIALS_DIR}/*.hbs`, { cwd: dir }).sort()
  const partials = partialFiles.map((relative) => ({
    name: path.basename(relative, '.hbs'),
    file: displayPath(path.join(dir, relative)),
    source: readFileSync(path.join(dir, relative), 'utf8'),
  }))
  return { dir, names, partials, templates: new Map() }
}

/** Read one template folder: its metadata, options schema and files. */
export async function loadTemplate(library: TemplateLibrary, name: string): Promise<Template> {
  const cached = library.templates.get(name)
  if (cached) return cached
  const absoluteDir = path.join(library.dir, name)
  const relPaths = globbySync('**/*', { cwd: absoluteDir, onlyFiles: true, dot: false }).sort()
  const contents = relPaths.map((relPath) => readFileSync(path.join(absoluteDir, relPath)))

  let meta: TemplateMeta = { singleton: false }
  let metaSource: YamlSource | undefined
  const files: TemplateFile[] = []
  let ownKustomization = false
  for (const [i, relPath] of relPaths.entries()) {
    const content = contents[i] as Buffer
    const file = displayPath(path.join(absoluteDir, relPath))
    if (relPath === TEMPLATE_META) {
      ;({ meta, metaSource } = await parseMeta(content.toString('utf8'), file))
      continue
    }
    const isHbs = relPath.endsWith('.hbs')
    const outputPath = isHbs ? relPath.slice(0, -'.hbs'.length) : relPath
    const isYaml = /\.ya?ml$/.test(outputPath)
    // a template's own kustomization.yaml replaces the generated one; it is not a resource itself
    const isKustomization = OWN_KUSTOMIZATION.test(outputPath)
    if (isKustomization) {
      if (ownKustomization) {
        const other = files.find((earlier) => OWN_KUSTOMIZATION.test(earlier.outputPath)) as TemplateFile
        throw new HomelabError(`${other.relPath} and ${relPath} are both a kustomization file: kubectl kustomize refuses a folder with two`, {
          location: { file },
          hint: 'keep one of them',
        })
      }
      ownKustomization = true
    }
    // service.yaml beside service.yaml.hbs: one would silently replace the other in the app's folder
    const same = files.find((earlier) => earlier.outputPath === outputPath)
    if (same) {
      throw new HomelabError(`${same.relPath} and ${relPath} both become ${outputPath} in the app's folder`, {
        location: { file },
        hint: 'rename or remove one of them',
      })
    }
    const listed = isYaml && !isKustomization
    const kind: TemplateFileKind = isHbs ? (listed ? 'rendered-resource' : 'rendered-file') : listed ? 'resource' : 'file'
    files.push({ relPath, outputPath, kind, file, content })
  }

  const template: Template = { name, dir: displayPath(absoluteDir), meta, metaSource, files, ownKustomization }
  if (meta.options && metaSource) template.validateOptions = await compileOptionsSchema(meta.options, metaSource)
  library.templates.set(name, template)
  return template
}

async function parseMeta(text: string, file: string): Promise<{ meta: TemplateMeta; metaSource: YamlSource }> {
  const { source: metaSource, data: read } = readYamlData(text, file)
  const data = (read ?? {}) as Record<string, unknown>
  assertValid((await staticValidators()).templateMeta, data, metaSource)
  return { meta: { singleton: false, ...(data as Partial<TemplateMeta>) } as TemplateMeta, metaSource }
}

async function compileOptionsSchema(schema: Record<string, unknown>, source: YamlSource): Promise<ValidateFunction> {
  try {
    return await compileJsonSchema(schema)
  } catch (error) {
    throw new HomelabError(`the options schema is not a valid JSON Schema: ${(error as Error).message}`, {
      location: locate(source, ['options']),
    })
  }
}
