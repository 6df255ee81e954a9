import type { ErrorObject } from 'ajv'
import { collapseAlternatives, pointerToPath } from '../config/schema-check.js'
import { didYouMean } from '../suggest.js'
import { formatPath } from '../yaml-source.js'

/** One schema violation, ready to become a finding. */
export interface SchemaProblem {
  /** Segments of the path inside the object (for locating the line). */
  segments: Array<string | number>
  /** `spec.replicas` */
  path: string
  message: string
  /** Point at the key rather than the value (unknown fields). */
  atKey?: boolean
}

/**
 * Turn ajv errors (from kubernetes-models or a compiled CRD schema) into
 * problems with a readable message. `showValues: false` keeps the offending
 * values out of every message (Secrets).
 */
export function describeSchemaErrors(errors: readonly ErrorObject[], object: unknown, options: { showValues: boolean }): SchemaProblem[] {
  const problems: SchemaProblem[] = []
  const seen = new Set<string>()
  for (const error of collapseAlternatives(errors)) {
    const problem = describeError(error, object, options.showValues)
    const key = `${problem.path}\u0000${problem.message}`
    if (seen.has(key)) continue
    seen.add(key)
    problems.push(problem)
  }
  return problems
}

function describeError(error: ErrorObject, object: unknown, showValues: boolean): SchemaProblem {
  const segments = pointerToPath(error.instancePath)
  const params = error.params as Record<string, unknown>
  const value = valueAt(object, segments)
  const shown = showValues ? `, not ${describeValue(value)}` : ''
  const at = (extra: Array<string | number>, message: string, atKey = false): SchemaProblem => {
    const full = [...segments, ...extra]
    return { segments: full, path: formatPath(full) || '(object)', message, atKey }
  }
  switch (error.keyword) {
    case 'required':
      return at([String(params.missingProperty)], 'required field is missing')
    case 'additionalProperties': {
      const key = String(params.additionalProperty)
      const allowed = Object.keys((error.parentSchema as { properties?: object } | undefined)?.properties ?? {})
      return at([key], `unknown field${didYouMean(key, allowed)}`, true)
    }
    case 'enum': {
      const allowed = (params.allowedValues as unknown[]).map((v) => JSON.stringify(v))
      const suggestion = showValues && typeof value === 'string' ? didYouMean(value, (params.allowedValues as unknown[]).map(String)) : ''
      return at([], `must be one of ${allowed.join(', ')}${shown}${suggestion}`)
    }
    case 'const':
      return at([], `must be ${JSON.stringify(params.allowedValue)}${shown}`)
    case 'type':
      return at([], `must be ${typeNames(String(params.type))}${shown}`)
    case 'pattern':
      return at([], `must match the pattern ${String(params.pattern)}${shown}`)
    case 'format':
      return at([], `must be ${formatName(String(params.format))}${shown}`)
    default:
      return at([], `${error.message ?? 'is not valid'}${showValues && isScalar(value) ? ` (${describeValue(value)})` : ''}`)
  }
}

/** The value at a path of plain data, or undefined. */
export function valueAt(object: unknown, segments: ReadonlyArray<string | number>): unknown {
  let current = object
  for (const segment of segments) {
    if (current === null || typeof current !== 'object') return undefined
    current = (current as Record<string | number, unknown>)[segment]
  }
  return current
}

function isScalar(value: unknown): boolean {
  return value === null || ['string', 'number', 'boolean'].includes(typeof value)
}

function typeNames(types: string): string {
  const names: Record<string, string> = { array: 'a list', object: 'a mapping', integer: 'an integer', null: 'null', number: 'a number', string: 'a string', boolean: 'a boolean' }
  return types
    .split(',')
    .map((t) => names[t] ?? t)
    .join(' or ')
}

function formatName(format: string): string {
  const names: Record<string, string> = {
    byte: 'base64-encoded data',
    quantity: 'a quantity such as 500m, 128Mi or 2',
    'date-time': 'an RFC 3339 date-time such as 2024-01-31T12:00:00Z',
    date: 'a date such as 2024-01-31',
    int32: 'a 32-bit integer',
    int64: 'a 64-bit integer',
    duration: 'a duration such as 30s or 1h30m',
  }
  return names[format] ?? `a valid ${format}`
}

function describeValue(value: unknown): string {
  if (value === undefined) return 'missing'
  if (value === null) return 'null'
  if (Array.isArray(value)) return 'a list'
  if (typeof value === 'object') return 'a mapping'
  if (typeof value === 'string') return `the string ${JSON.stringify(value.length > 60 ? `${value.slice(0, 60)}…` : value)}`
  return `${typeof value === 'number' && Number.isInteger(value) ? 'the integer' : `the ${typeof value}`} ${String(value)}`
}
