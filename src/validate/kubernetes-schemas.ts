import type { ErrorObject } from 'ajv'

/** Check one object; returns its schema errors (empty when valid). */
export type SchemaValidator = (object: unknown) => ErrorObject[]

interface ModelClass {
  apiVersion?: string
  kind?: string
  new (data: object): { validate(): void }
}

const API_VERSION = /^(?:[a-z0-9](?:[a-z0-9.-]*[a-z0-9])?\/)?v\d+(?:(?:alpha|beta)\d+)?$/
const KIND = /^[A-Z][A-Za-z0-9]*$/
/**
 * Errors that mean "this package has no such kind": import()'s, and require()'s (MODULE_NOT_FOUND), which the
 * bundle uses for every import() (bundle.ts).
 */
const NOT_FOUND = new Set(['ERR_MODULE_NOT_FOUND', 'MODULE_NOT_FOUND', 'ERR_PACKAGE_PATH_NOT_EXPORTED'])

const validators = new Map<string, Promise<SchemaValidator | undefined>>()

/**
 * The validator of a Kubernetes built-in kind, from the `kubernetes-models`
 * package (the API's OpenAPI schemas, compiled). Each kind is its own module
 * (`kubernetes-models/apps/v1/Deployment`, `kubernetes-models/v1/Secret`), so
 * only the kinds a render contains are ever loaded. Undefined when the package
 * does not know the apiVersion and kind.
 */
export function builtinValidator(apiVersion: string, kind: string): Promise<SchemaValidator | undefined> {
  const key = `${apiVersion} ${kind}`
  let pending = validators.get(key)
  if (!pending) {
    pending = loadValidator(apiVersion, kind)
    validators.set(key, pending)
  }
  return pending
}

async function loadValidator(apiVersion: string, kind: string): Promise<SchemaValidator | undefined> {
  // the specifier is built from user data: only well-formed names may reach import()
  if (!API_VERSION.test(apiVersion) || !KIND.test(kind)) return undefined
  let module: Record<string, unknown>
  try {
    module = (await import(`kubernetes-models/${apiVersion}/${kind}`)) as Record<string, unknown>
  } catch (error) {
    if (NOT_FOUND.has((error as NodeJS.ErrnoException).code ?? '')) return undefined
    throw error
  }
  const model = module[kind] as ModelClass | undefined
  // every type of the API has a module (DeploymentSpec too): only top-level kinds carry apiVersion and kind
  if (typeof model !== 'function' || model.apiVersion !== apiVersion || model.kind !== kind) return undefined
  return (object) => {
    try {
      new model(object as object).validate()
      return []
    } catch (error) {
      const errors = (error as { errors?: unknown }).errors
      if (Array.isArray(errors)) return errors as ErrorObject[]
      throw error
    }
  }
}
