import type { ErrorObject, ValidateFunction } from 'ajv'
import { HomelabError } from '../errors.js'
import { closestMatch, didYouMean } from '../suggest.js'
import { formatPath, locate } from '../yaml-source.js'
import type { YamlPath, YamlSource } from '../yaml-source.js'

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
      // compiled at build time (precompile-schema.ts) and inside the bundle, so V8's code cache keeps it compiled
      statics = (await import('./static-validators.cjs')).default
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
    return (await withFormats(await createAjv({ useDefaults: true }), schema)).compile(schema)
  }
  optionsAjv ??= await createAjv({ useDefaults: true, validateSchema: false })
  const { jsonSchema } = await staticValidators()
  // the message ajv's own check gives
  if (!jsonSchema(schema)) throw new Error(`schema is invalid: ${optionsAjv.errorsText(jsonSchema.errors)}`)
  return (await withFormats(optionsAjv, schema)).compile(schema)
}

const formatsAdded = new WeakSet<import('ajv').default>()

/**
 * The standard `format`s (email, uri, hostname, ipv4, date-time, …, as
 * ajv-formats defines them) in `ajv`, when `schema` names a format: strict
 * ajv refuses a format it does not know, and most schemas use none, so the
 * plugin is loaded only then.
 */
async function withFormats(ajv: import('ajv').default, schema: object): Promise<import('ajv').default> {
  if (formatsAdded.has(ajv) || !JSON.stringify(schema).includes('"format"')) return ajv
  // CommonJS: the ESM view's default is the plugin
  const addFormats = ((await import('ajv-formats')) as unknown as { default: typeof import('ajv-formats').default }).default
  addFormats(ajv)
  formatsAdded.add(ajv)
  return ajv
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

/** Prefer the error that says the most: an unknown key over a type error of its parent, one error for a failed anyOf/oneOf, etc. */
function pickError(errors: ErrorObject[]): ErrorObject | undefined {
  return errors.find((e) => e.keyword === 'additionalProperties') ?? collapseAlternatives(errors)[0]
}

/**
 * `oneOf`/`anyOf` fail with one error per branch plus their own. Keep what
 * matters: the errors of the branch whose type fits the value (a malformed
 * quantity string), else one "must be a string or an integer".
 */
export function collapseAlternatives(errors: readonly ErrorObject[]): ErrorObject[] {
  const alternatives = new Set(errors.filter((e) => e.keyword === 'oneOf' || e.keyword === 'anyOf').map((e) => e.instancePath))
  if (alternatives.size === 0) return [...errors]
  const out: ErrorObject[] = []
  for (const pointer of new Set(errors.map((e) => e.instancePath))) {
    const group = errors.filter((e) => e.instancePath === pointer)
    if (!alternatives.has(pointer)) {
      out.push(...group)
      continue
    }
    const typeErrors = group.filter((e) => e.keyword === 'type')
    const specific = group.filter((e) => e.keyword !== 'type' && e.keyword !== 'oneOf' && e.keyword !== 'anyOf')
    if (specific.length > 0) {
      out.push(...specific)
      continue
    }
    // a oneOf that more than one branch passed has no branch errors: its own error says so
    const matchedSeveral = group.find((e) => e.keyword === 'oneOf' && (e.params as { passingSchemas?: unknown }).passingSchemas)
    if (typeErrors.length > 0 && !matchedSeveral) {
      const types = [...new Set(typeErrors.flatMap((e) => String((e.params as { type: unknown }).type).split(',')))]
      out.push({ ...(typeErrors[0] as ErrorObject), params: { type: types.join(',') } })
      continue
    }
    out.push(...group.filter((e) => e.keyword === 'oneOf' || e.keyword === 'anyOf').slice(0, 1))
  }
  return out
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
  // an error inside propertyNames is about a key, which ajv names
  const key = (error as { propertyName?: string }).propertyName
  if (key !== undefined && error.keyword !== 'not') {
    return new HomelabError(`the key ${JSON.stringify(key)} in ${where} ${failedRule(error, { value: false })}`, { location: locate(source, [...path, key], { key: true }) })
  }
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
      return keyNotAllowed(error, path, source)
    case 'not':
      // ajv names the offending key on an error inside propertyNames
      if ((error as { propertyName?: string }).propertyName !== undefined) return keyNotAllowed(error, path, source)
      break
    case 'pattern': {
      const special = patternMessage(where, value, error.schemaPath)
      if (special) return new HomelabError(special, { location: locate(source, path) })
      break
    }
    case 'enum': {
      const suggestion = typeof value === 'string' ? didYouMean(value, (params.allowedValues as unknown[]).map((v) => String(v))) : ''
      return new HomelabError(`${where} ${failedRule(error)}${suggestion}`, { location: locate(source, path) })
    }
    case 'uniqueItems': {
      // point at the second of the two
      const later = Math.max(Number(params.i), Number(params.j))
      return new HomelabError(`${where} ${failedRule(error)}`, { location: locate(source, [...path, later]) })
    }
  }
  // a pattern or format says what is allowed, not what is meant: the description says that
  const hint = error.keyword === 'pattern' || error.keyword === 'format' ? describedAs(error) : undefined
  return new HomelabError(`${where} ${failedRule(error)}`, { location: locate(source, path), hint })
}

/** The description the schema gives the value that failed (an option's "with a pinned tag or digest, e.g. …"), on one line. */
function describedAs(error: ErrorObject): string | undefined {
  const description = (error.parentSchema as { description?: unknown } | undefined)?.description
  return typeof description === 'string' && description.trim() !== '' ? description.trim().replace(/\s*\n\s*/g, ' ') : undefined
}

function keyNotAllowed(error: ErrorObject, path: YamlPath, source: YamlSource): HomelabError {
  const params = error.params as Record<string, unknown>
  const name = String((error as { propertyName?: string }).propertyName ?? params.propertyName ?? path[path.length - 1] ?? '')
  return new HomelabError(`the key "${name}" is not allowed in ${formatPath(path) || 'the config'}`, {
    location: locate(source, [...path, name], { key: true }),
  })
}

/** The config's own patterns, in words. */
function patternMessage(where: string, value: unknown, schemaPath: string): string | undefined {
  const shown = JSON.stringify(value)
  if (schemaPath.includes('dnsLabel')) {
    return `${where} ${shown} is not a DNS-1123 label: use lowercase letters, digits and "-", start and end with a letter or digit, at most 63 characters`
  }
  if (schemaPath.includes('duration')) return `${where} ${shown} is not a duration like 30s, 10m or 1h30m`
  return undefined
}

/** Most values an `enum` failure lists. */
const MAX_LISTED = 12

/**
 * The rule a value broke, in words, to follow the value's name:
 * `must be at least 1, not 0`, `must match the pattern ^[a-z]+$, not "ABC"`.
 * Needs ajv's `verbose` (the value is `error.data`).
 */
export function failedRule(error: ErrorObject, options: { value: boolean } = { value: true }): string {
  const params = error.params as Record<string, unknown>
  const value = error.data
  const limit = Number(params.limit)
  // ", not <the value>", unless the value goes without saying
  const not = (what: string) => (options.value ? `, not ${what}` : '')
  const count = (n: number, thing: string) => `${n} ${thing}${n === 1 ? '' : 's'}`
  switch (error.keyword) {
    case 'type':
      return `must be ${article(String(params.type))}${not(describe(value))}`
    case 'pattern':
      return `must match the pattern ${String(params.pattern)}${not(shown(value))}`
    case 'format':
      return `must be a valid ${String(params.format)}${not(shown(value))}`
    case 'enum': {
      const allowed = (params.allowedValues as unknown[]).map((v) => JSON.stringify(v) ?? String(v))
      const listed = allowed.length > MAX_LISTED ? `${allowed.slice(0, MAX_LISTED).join(', ')}, … (${allowed.length} in all)` : allowed.join(', ')
      return `must be one of ${listed}${not(shown(value))}`
    }
    case 'const':
      return `must be ${shortJson(params.allowedValue)}${not(shown(value))}`
    case 'minimum':
    case 'maximum':
    case 'exclusiveMinimum':
    case 'exclusiveMaximum': {
      const bound: Record<string, string> = { '>=': 'at least', '<=': 'at most', '>': 'more than', '<': 'less than' }
      return `must be ${bound[String(params.comparison)] ?? String(params.comparison)} ${limit}${not(shown(value))}`
    }
    case 'multipleOf':
      return `must be a multiple of ${String(params.multipleOf)}${not(shown(value))}`
    case 'minLength':
      return limit === 1 ? 'must not be empty' : `must be at least ${count(limit, 'character')} long${not(lengthOf(value))}`
    case 'maxLength':
      return `must be at most ${count(limit, 'character')} long${not(lengthOf(value))}`
    case 'minItems':
      return limit === 1 ? 'must not be an empty list' : `must list at least ${count(limit, 'item')}${not(lengthOf(value))}`
    case 'maxItems':
    case 'additionalItems':
      return `must list at most ${count(limit, 'item')}${not(lengthOf(value))}`
    case 'minProperties':
      return limit === 1 ? 'must not be an empty mapping' : `must have at least ${count(limit, 'key')}${not(lengthOf(value))}`
    case 'maxProperties':
      return `must have at most ${count(limit, 'key')}${not(lengthOf(value))}`
    case 'uniqueItems': {
      const [i, j] = [Number(params.i), Number(params.j)].sort((a, b) => a - b)
      const item = Array.isArray(value) ? (value as unknown[])[j as number] : undefined
      return `lists ${shown(item)} twice (items ${i} and ${j}): each may appear once`
    }
    case 'dependentRequired':
    case 'dependencies':
      return `sets "${String(params.property)}", which needs "${String(params.missingProperty)}" set too`
    case 'oneOf':
      if (Array.isArray(params.passingSchemas)) {
        return `fits forms ${params.passingSchemas.map((n) => Number(n) + 1).join(' and ')} of the ones its schema allows (oneOf), and must fit exactly one`
      }
      return `fits none of the forms its schema allows (oneOf): it is ${shown(value)}`
    case 'anyOf':
      return `fits none of the forms its schema allows (anyOf): it is ${shown(value)}`
    case 'not':
      return `is ${shown(value)}, which its schema rules out ("not")`
    case 'contains': {
      const least = Number(params.minContains ?? 1)
      return least === 1 ? 'must list an item that fits its "contains" schema' : `must list at least ${least} items that fit its "contains" schema`
    }
    default:
      return error.message ?? 'is not valid'
  }
}

function lengthOf(value: unknown): string {
  if (typeof value === 'string') return String([...value].length)
  if (Array.isArray(value)) return String(value.length)
  if (value !== null && typeof value === 'object') return String(Object.keys(value).length)
  return shown(value)
}

/** A value as written in the config: strings quoted (and cut short), lists and mappings by kind. */
function shown(value: unknown): string {
  if (value === undefined) return 'missing'
  if (Array.isArray(value)) return 'a list'
  if (value !== null && typeof value === 'object') return 'a mapping'
  if (typeof value === 'string') return JSON.stringify(value.length > 40 ? value.slice(0, 40) + '…' : value)
  return String(value)
}

/** A schema's own value (a const), short. */
function shortJson(value: unknown): string {
  const json = JSON.stringify(value) ?? String(value)
  return json.length > 60 ? `${json.slice(0, 59)}…` : json
}

function isMapping(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === 'object' && !Array.isArray(value)
}

function article(type: string): string {
  const kinds = type.split(',')
  const names: Record<string, string> = { array: 'a list', object: 'a mapping', integer: 'an integer', null: 'null' }
  return kinds.map((t) => names[t] ?? `a ${t}`).join(' or ')
}

function describe(value: unknown): string {
  if (value === undefined) return 'missing'
  if (value === null) return 'null'
  if (Array.isArray(value)) return 'a list'
  if (typeof value === 'object') return 'a mapping'
  if (typeof value === 'string') return `the string ${JSON.stringify(value.length > 40 ? value.slice(0, 40) + '…' : value)}`
  return `${typeof value} ${String(value)}`
}
