import { HomelabError } from '../errors.js'
import { escapeUnsafeForYaml, toKubernetesYaml } from '../yaml-source.js'

/**
 * The Handlebars helpers of every template. Argument order follows Helm's
 * sprig functions (`default "x" value`, `required "msg" value`, `join ", " list`,
 * `indent 4 text`) so charts' habits carry over. Every value that reaches YAML
 * should pass through `quote`, `toYaml` or `json`: Kubernetes reads YAML 1.1,
 * where `no`, `on`, `y` and `0755` are not strings.
 */

/** A JSON string literal is a valid YAML double-quoted scalar once the characters JSON leaves bare but YAML readers choke on are escaped too. */
function jsonForYaml(value: unknown): string {
  return escapeUnsafeForYaml(JSON.stringify(value) ?? 'null')
}

/** `{{quote x}}`: a double-quoted YAML scalar that reads back as exactly the string x. */
export function quote(value: unknown): string {
  if (value !== null && typeof value === 'object') throw new HomelabError('quote takes a string, number or boolean, not a list or mapping (use toYaml)')
  return jsonForYaml(value === undefined || value === null ? '' : String(value))
}

/** `{{toYaml x}}`: x as a YAML block (quoted for YAML 1.1 and 1.2 readers, no line folding), without a trailing newline. */
export function toYaml(value: unknown): string {
  if (value === undefined) return 'null'
  return toKubernetesYaml(value).replace(/\n$/, '')
}

/** `{{indent n text}}`: every non-empty line of text indented by n spaces. */
export function indent(width: unknown, text: unknown): string {
  const pad = ' '.repeat(spaces(width, 'indent'))
  return String(text ?? '')
    .split('\n')
    .map((line) => (line === '' ? line : pad + line))
    .join('\n')
}

/** `{{nindent n text}}`: a newline, then text indented by n spaces (for a block under a key). */
export function nindent(width: unknown, text: unknown): string {
  return '\n' + indent(width, text)
}

function spaces(width: unknown, helper: string): number {
  const n = Number(width)
  if (!Number.isInteger(n) || n < 0 || n > 200) throw new HomelabError(`${helper} takes a number of spaces first, got ${JSON.stringify(width)}`)
  return n
}

function isEmpty(value: unknown): boolean {
  if (value === undefined || value === null || value === '' || value === false) return true
  if (Array.isArray(value)) return value.length === 0
  if (typeof value === 'object') return Object.keys(value).length === 0
  return false
}

/** `{{default fallback value}}`: value unless it is empty (undefined, null, "", false, [] or {}). */
export function defaultTo(fallback: unknown, value: unknown): unknown {
  return isEmpty(value) ? fallback : value
}

/** `{{required "message" value}}`: value, or a render error with the message when it is empty. */
export function required(message: unknown, value: unknown): unknown {
  if (value === undefined || value === null || value === '') throw new HomelabError(String(message))
  return value
}

/** A string, number or boolean as text: a list or mapping would come out as "[object Object]". */
function scalarText(value: unknown, helper: string): string {
  if (value !== null && typeof value === 'object') throw new HomelabError(`${helper} takes a string, number or boolean, not a list or mapping`)
  return String(value ?? '')
}

export function b64enc(value: unknown): string {
  return Buffer.from(scalarText(value, 'b64enc'), 'utf8').toString('base64')
}

/** `{{json x}}`: x as one-line JSON, which is also valid YAML flow. */
export function json(value: unknown): string {
  return jsonForYaml(value)
}

export function join(separator: unknown, list: unknown): string {
  if (!Array.isArray(list)) throw new HomelabError(`join takes a separator and a list, got ${typeof list}`)
  return list.map((item) => String(item)).join(String(separator))
}

/** The helpers by name, as registered with Handlebars (the trailing options argument is dropped). */
export const helpers: Record<string, (...args: unknown[]) => unknown> = {
  quote: (value) => quote(value),
  toYaml: (value) => toYaml(value),
  indent: (width, text) => indent(width, text),
  nindent: (width, text) => nindent(width, text),
  default: (fallback, value) => defaultTo(fallback, value),
  required: (message, value) => required(message, value),
  b64enc: (value) => b64enc(value),
  json: (value) => json(value),
  eq: (a, b) => a === b,
  ne: (a, b) => a !== b,
  and: (...args) => args.slice(0, -1).every(Boolean),
  or: (...args) => args.slice(0, -1).some(Boolean),
  not: (value) => !value,
  lower: (value) => scalarText(value, 'lower').toLowerCase(),
  upper: (value) => scalarText(value, 'upper').toUpperCase(),
  join: (separator, list) => join(separator, list),
}

/**
 * How each helper is called. Handlebars hands a helper whatever it was given,
 * then its options object: `{{b64enc}}` with the value forgotten would encode
 * that object as "[object Object]", and `{{json}}` would print the whole
 * render context. The count of values is checked before a helper runs; `…`
 * marks a helper that takes two or more.
 */
export const HELPER_USAGE: Record<keyof typeof helpers, string> = {
  quote: 'quote value',
  toYaml: 'toYaml value',
  indent: 'indent spaces text',
  nindent: 'nindent spaces text',
  default: 'default fallback value',
  required: 'required "message" value',
  b64enc: 'b64enc value',
  json: 'json value',
  eq: 'eq a b',
  ne: 'ne a b',
  and: 'and a b …',
  or: 'or a b …',
  not: 'not value',
  lower: 'lower text',
  upper: 'upper text',
  join: 'join separator list',
}
