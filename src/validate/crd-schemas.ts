import { createRequire } from 'node:module'
import type { CrdVersion } from './crd-index.js'
import type { SchemaValidator } from './kubernetes-schemas.js'

const require = createRequire(import.meta.url)

type JsonObject = Record<string, unknown>

/** JSON Schema keywords that mean the same in a CRD's OpenAPI v3 schema; everything else is translated or dropped. */
const SAME_KEYWORDS = [
  'type', 'enum', 'format', 'pattern', 'minimum', 'maximum', 'minLength', 'maxLength', 'minItems', 'maxItems',
  'uniqueItems', 'minProperties', 'maxProperties', 'multipleOf',
] as const

/**
 * Translate a CRD's `openAPIV3Schema` (Kubernetes' structural OpenAPI v3
 * dialect) into a JSON Schema that strict ajv accepts and that checks what
 * the API server checks:
 * - an object with `properties` rejects unknown fields (the API server prunes
 *   them, and kubectl's strict field validation rejects them), unless
 *   `x-kubernetes-preserve-unknown-fields`;
 * - `x-kubernetes-int-or-string` → integer or string; `nullable` → null allowed;
 *   `x-kubernetes-embedded-resource` → apiVersion, kind and metadata allowed;
 * - OpenAPI's boolean `exclusiveMinimum`/`exclusiveMaximum` → numbers;
 * - a `required` field with a `default` is not required (the API server fills it in first);
 * - CEL rules (`x-kubernetes-validations`) and list/map annotations cannot be
 *   checked offline and are dropped, as are descriptions.
 * Every `format` met is added to `formats`.
 */
export function toJsonSchema(node: unknown, formats: Set<string> = new Set()): JsonObject {
  if (!isObject(node)) return {}
  const out: JsonObject = {}
  for (const keyword of SAME_KEYWORDS) if (node[keyword] !== undefined) out[keyword] = node[keyword]
  if (typeof node.format === 'string') formats.add(node.format)
  for (const [exclusive, bound] of [['exclusiveMinimum', 'minimum'], ['exclusiveMaximum', 'maximum']] as const) {
    if (node[exclusive] === true && typeof node[bound] === 'number') {
      out[exclusive] = node[bound]
      delete out[bound]
    }
  }
  const properties = isObject(node.properties) ? node.properties : undefined
  if (properties) {
    out.properties = Object.fromEntries(Object.entries(properties).map(([key, value]) => [key, toJsonSchema(value, formats)]))
  }
  if (Array.isArray(node.required)) {
    out.required = node.required.filter((key) => !(isObject(properties?.[key]) && (properties[key] as JsonObject).default !== undefined))
  }
  if (Array.isArray(node.items)) out.items = node.items.map((item) => toJsonSchema(item, formats))
  else if (isObject(node.items)) out.items = toJsonSchema(node.items, formats)
  if (typeof node.additionalProperties === 'boolean') out.additionalProperties = node.additionalProperties
  else if (isObject(node.additionalProperties)) out.additionalProperties = toJsonSchema(node.additionalProperties, formats)
  for (const combinator of ['allOf', 'anyOf', 'oneOf'] as const) {
    const list = node[combinator]
    if (Array.isArray(list)) out[combinator] = list.map((item) => toJsonSchema(item, formats))
  }
  if (isObject(node.not)) out.not = toJsonSchema(node.not, formats)

  if (node['x-kubernetes-int-or-string'] === true && out.type === undefined) out.type = ['integer', 'string']
  if (node['x-kubernetes-embedded-resource'] === true) {
    out.type ??= 'object'
    const own = (out.properties ??= {}) as JsonObject
    own.apiVersion ??= { type: 'string' }
    own.kind ??= { type: 'string' }
    own.metadata ??= { type: 'object' }
  }
  if (node.nullable === true) {
    if (out.type !== undefined) out.type = [...(Array.isArray(out.type) ? out.type : [out.type]), 'null']
    if (Array.isArray(out.enum) && !out.enum.includes(null)) out.enum = [...out.enum, null]
  }
  const typeList = Array.isArray(out.type) ? out.type : [out.type]
  if (typeList.includes('object') && out.properties && out.additionalProperties === undefined && node['x-kubernetes-preserve-unknown-fields'] !== true) {
    out.additionalProperties = false
  }
  return out
}

function isObject(value: unknown): value is JsonObject {
  return typeof value === 'object' && value !== null && !Array.isArray(value)
}

/** The formats the API server checks; any other format is accepted as it does. */
const KNOWN_FORMATS: Record<string, import('ajv').Format> = {
  int32: { type: 'number', validate: (n: number) => Number.isInteger(n) && n >= -(2 ** 31) && n < 2 ** 31 },
  int64: { type: 'number', validate: (n: number) => Number.isInteger(n) },
  'date-time': { type: 'string', validate: (s: string) => /^\d{4}-\d{2}-\d{2}[Tt ]\d{2}:\d{2}:\d{2}(?:\.\d+)?(?:[Zz]|[+-]\d{2}:\d{2})$/.test(s) && !Number.isNaN(Date.parse(s)) },
  date: { type: 'string', validate: (s: string) => /^\d{4}-\d{2}-\d{2}$/.test(s) && !Number.isNaN(Date.parse(s)) },
  byte: { type: 'string', validate: (s: string) => /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/.test(s) },
}

/** A compiled CRD version: a validator, or why its schema could not be compiled. */
export type CrdValidator = { validate: SchemaValidator } | { error: string }

type AjvClass = typeof import('ajv').default
let AjvConstructor: AjvClass | undefined
let ajv: InstanceType<AjvClass> | undefined
const registeredFormats = new Set<string>()
const compiled = new WeakMap<CrdVersion, CrdValidator>()

function sharedAjv(): InstanceType<AjvClass> {
  AjvConstructor ??= (require('ajv') as { default: AjvClass }).default
  ajv ??= new AjvConstructor({
    strict: true,
    strictTypes: false,
    strictTuples: false,
    strictRequired: false,
    allErrors: true,
    // parentSchema on errors: the allowed fields for "did you mean"
    verbose: true,
    // Kubernetes patterns are Go (RE2) regular expressions, not JavaScript unicode ones
    unicodeRegExp: false,
    validateSchema: false,
    // ajv's code optimiser halves nothing that matters here (a few objects each) but doubles compile time
    code: { optimize: false },
  })
  return ajv
}

/**
 * The schema without `status`: the API server ignores a status written in a
 * manifest, so checking it would only cost compile time (a third of HelmRelease).
 */
function withoutStatus(schema: unknown): unknown {
  if (!isObject(schema) || !isObject(schema.properties) || schema.properties.status === undefined) return schema
  return { ...schema, properties: { ...schema.properties, status: { 'x-kubernetes-preserve-unknown-fields': true } } }
}

/**
 * The root of a custom resource always takes `apiVersion`, `kind` and
 * `metadata`, listed in its CRD's schema or not: the API server checks them
 * itself. Many hand-written and chart CRDs list only `spec`.
 */
function withObjectFields(schema: JsonObject): JsonObject {
  if (!isObject(schema.properties)) return schema
  return { ...schema, properties: { apiVersion: { type: 'string' }, kind: { type: 'string' }, metadata: { type: 'object' }, ...schema.properties } }
}

/**
 * The validator of one CRD version, compiled on first use and then reused:
 * only the kinds a render contains are ever compiled.
 */
export function crdValidator(version: CrdVersion): CrdValidator {
  const cached = compiled.get(version)
  if (cached) return cached
  let result: CrdValidator
  try {
    const formats = new Set<string>()
    const schema = withObjectFields(toJsonSchema(withoutStatus(version.schema ?? { type: 'object', 'x-kubernetes-preserve-unknown-fields': true }), formats))
    const instance = sharedAjv()
    for (const format of formats) {
      if (registeredFormats.has(format)) continue
      instance.addFormat(format, KNOWN_FORMATS[format] ?? true)
      registeredFormats.add(format)
    }
    const fn = instance.compile(schema)
    result = { validate: (object) => (fn(object) ? [] : [...(fn.errors ?? [])]) }
  } catch (error) {
    result = { error: error instanceof Error ? error.message.split('\n')[0] ?? error.message : String(error) }
  }
  compiled.set(version, result)
  return result
}
