import { createRequire } from 'node:module'
import { fileURLToPath } from 'node:url'
import type { ErrorObject, ValidateFunction } from 'ajv'
import { HomelabError } from '../errors.js'
import { closestMatch, didYouMean } from '../suggest.js'
import { formatPath, locate } from '../yaml-source.js'
import type { YamlPath, YamlSource } from '../yaml-source.js'

const require = createRequire(import.meta.url)

type AjvClass = typeof import('ajv').default
let AjvConstructor: AjvClass | undefined

/** A fresh ajv instance (strict; defaults filled in on request). Loaded on first use (a chunk of its own in the bundle): ajv is heavy. */
export async function createAjv(options: { useDefaults?: boolean; code?: { source: boolean }; validateSchema?: boolean } = {}): Promise<import('ajv').default> {
  // ajv is CommonJS (module.exports is the class): the ESM view's default is the class
  AjvConstructor ??= ((await import('ajv')) as unknown as { default: AjvClass }).default
  return new AjvConstructor({
    strict: true,
    strictTypes: false,
    allErrors: false,
    verbose: true,
    useDefaults: options.useDefaults ?? false,
    code: options.code,
    validateSchema: options.validateSchema ?? true,
  })
}

/** The schema of template.yaml. */
export const TEMPLATE_META_SCHEMA = {
  type: 'object',
  additionalProperties: false,
  properties: {
    description: { type: 'string' },
    namespace: { type: 'string', maxLength: 63, pattern: '^[a-z0-9]([-a-z0-9]*[a-z0-9])?$' },
    singleton: { type: 'boolean' },
    options: { type: 'object' },
  },
} as const

/** The JSON Schema meta-schema ajv checks schemas against by default. */
export const JSON_SCHEMA_DRAFT7 = 'http://json-schema.org/draft-07/schema'

/** Validators of schemas that never change, compiled at build time (precompile-schema.ts) into dist/config/, found from there and from dist/bundle/ alike. */
export const STATIC_VALIDATORS = new URL('../config/static-validators.cjs', import.meta.url)

export interface StaticValidators {
  /** template.yaml against TEMPLATE_META_SCHEMA. */
  templateMeta: ValidateFunction
  /** A JSON Schema against the draft-07 meta-schema. */
  jsonSchema: ValidateFunction
}

let statics: StaticValidators | undefined

/** The build's static validators; compiled now when there is no build (run from source). */
export async function staticValidators(): Promise<StaticValidators> {
  if (!statics) {
    try {
      statics = require(fileURLToPath(STATIC_VALIDATORS)) as StaticValidators
    } catch {
      const ajv = await createAjv()
      statics = { templateMeta: ajv.compile(TEMPLATE_META_SCHEMA), jsonSchema: ajv.getSchema(JSON_SCHEMA_DRAFT7) as ValidateFunction }
    }
  }
  return statics
}

/** One ajv for the options schemas of every template: schemas checked beforehand, defaults filled in. */
let optionsAjv: import('ajv').default | undefined

/**
 * Compile a template's options schema (strict, filling in defaults). A schema
 * for ajv's default draft is checked with the prebuilt meta-schema validator
 * and compiled in one shared instance; one naming another draft or its own
 * `$id` gets an instance of its own, as before.
 */
export async function compileJsonSchema(schema: Record<string, unknown>): Promise<ValidateFunction> {
  const draft = schema.$schema
  if ((draft !== undefined && !/^https?:\/\/json-schema\.org\/draft-07\/schema#?$/.test(String(draft))) || schema.$id !== undefined) {
    return (await createAjv({ useDefaults: true })).compile(schema)
  }
  optionsAjv ??= await createAjv({ useDefaults: true, validateSchema: false })
  const { jsonSchema } = await staticValidators()
  // the message ajv's own check gives
  if (!jsonSchema(schema)) throw new Error(`schema is invalid: ${optionsAjv.errorsText(jsonSchema.errors)}`)
  return optionsAjv.compile(schema)
}

/**
 * Check `data` with a compiled validator and turn the first error into a
 * HomelabError pointing at the offending key or value in `source`.
 * `base` is where `data` sits inside the YAML document (e.g. an app's options).
 */
export function assertValid(validate: ValidateFunction, data: unknown, source: YamlSource, base: YamlPath = [], subject = ''): void {
  if (validate(data)) return
  const error = pickError(validate.errors ?? [])
  if (!error) throw new HomelabError(`${source.file} is not valid`)
  throw schemaError(error, source, base, subject)
}

/** Prefer the error that says the most: an unknown key over a type error of its parent, etc. */
function pickError(errors: ErrorObject[]): ErrorObject | undefined {
  return errors.find((e) => e.keyword === 'additionalProperties') ?? errors[0]
}

/** JSON Pointer → path segments (`~1` → `/`, then `~0` → `~`). */
export function pointerToPath(pointer: string): Array<string | number> {
  if (pointer === '') return []
  return pointer
    .slice(1)
    .split('/')
    .map((raw) => {
      const segment = raw.replace(/~1/g, '/').replace(/~0/g, '~')
      return /^(0|[1-9]\d*)$/.test(segment) ? Number(segment) : segment
    })
}

function schemaError(error: ErrorObject, source: YamlSource, base: YamlPath, subject: string): HomelabError {
  const path = [...base, ...pointerToPath(error.instancePath)]
  const where = subject || formatPath(path) || 'the config'
  const params = error.params as Record<string, unknown>
  const value = error.data
  switch (error.keyword) {
    case 'additionalProperties': {
      const key = String(params.additionalProperty)
      const allowed = Object.keys((error.parentSchema as { properties?: object } | undefined)?.properties ?? {})
      const location = locate(source, [...path, key], { key: true })
      const hint = allowed.length > 0 ? `allowed keys here: ${allowed.join(', ')}` : undefined
      const inWhat = formatPath(path) || 'the top level'
      return new HomelabError(`unknown key "${key}" in ${inWhat}${didYouMean(key, allowed)}`, { location, hint })
    }
    case 'required': {
      const missing = String(params.missingProperty)
      // ajv stops at the missing key before it sees the unknown one beside it: a misspelling of the missing key says so
      const parent = (error.parentSchema ?? {}) as { properties?: object; additionalProperties?: unknown }
      const known = parent.properties ?? {}
      const misspelt = Object.keys(isMapping(value) ? value : {}).find((key) => !(key in known) && closestMatch(key, [missing]) === missing)
      const inWhat = formatPath(path)
      if (misspelt !== undefined && parent.additionalProperties === false) {
        return new HomelabError(`unknown key "${misspelt}" in ${inWhat || 'the top level'} (did you mean "${missing}"?)`, {
          location: locate(source, [...path, misspelt], { key: true }),
          hint: `allowed keys here: ${Object.keys(known).join(', ')}`,
        })
      }
      return new HomelabError(`${inWhat || 'the config'} is missing the required key "${missing}"${misspelt === undefined ? '' : ` (is "${misspelt}" meant to be it?)`}`, {
        location: locate(source, path),
      })
    }
    case 'propertyNames':
    case 'not': {
      // ajv names the offending key on the error (propertyNames) or in its params
      const name = String((error as { propertyName?: string }).propertyName ?? params.propertyName ?? path[path.length - 1] ?? '')
      return new HomelabError(`the key "${name}" is not allowed in ${formatPath(path) || 'the config'}`, {
        location: locate(source, [...path, name], { key: true }),
      })
    }
    case 'pattern':
      return new HomelabError(patternMessage(where, value, error.schemaPath), { location: locate(source, path) })
    case 'enum': {
      const allowed = (params.allowedValues as unknown[]).map((v) => String(v))
      const suggestion = typeof value === 'string' ? didYouMean(value, allowed) : ''
      return new HomelabError(`${where} must be one of ${allowed.join(', ')}, not ${JSON.stringify(value)}${suggestion}`, {
        location: locate(source, path),
      })
    }
    case 'type':
      return new HomelabError(`${where} must be ${article(String(params.type))}, not ${describe(value)}`, { location: locate(source, path) })
    default:
      return new HomelabError(`${where} ${error.message ?? 'is not valid'}`, { location: locate(source, path) })
  }
}

function patternMessage(where: string, value: unknown, schemaPath: string): string {
  const shown = JSON.stringify(value)
  if (schemaPath.includes('dnsLabel')) {
    return `${where} ${shown} is not a DNS-1123 label: use lowercase letters, digits and "-", start and end with a letter or digit, at most 63 characters`
  }
  if (schemaPath.includes('duration')) return `${where} ${shown} is not a duration like 30s, 10m or 1h30m`
  return `${where} ${shown} has a form that is not allowed here`
}

function isMapping(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === 'object' && !Array.isArray(value)
}

function article(type: string): string {
  const kinds = type.split(',')
  const names: Record<string, string> = { array: 'a list', object: 'a mapping', integer: 'an integer' }
  return kinds.map((t) => names[t] ?? `a ${t}`).join(' or ')
}

function describe(value: unknown): string {
  if (value === null) return 'null'
  if (Array.isArray(value)) return 'a list'
  if (typeof value === 'object') return 'a mapping'
  if (typeof value === 'string') return `the string ${JSON.stringify(value.length > 40 ? value.slice(0, 40) + '…' : value)}`
  return `${typeof value} ${String(value)}`
}
