import { Document as YamlDocument } from 'yaml'

/**
 * The quick path of toKubernetesYaml: plain data with one-line ASCII strings
 * (names, paths, quantities like `64Mi`, `"on"`, `"100"`), written exactly as
 * the yaml library writes it with this project's options — block style, two
 * spaces, lists indented under their key, strings plain unless a YAML 1.1 or
 * 1.2 reader would take them for something else (the library's own YAML 1.1
 * tag tests decide). Returns undefined for anything else (quotes, backslashes,
 * non-ASCII, multi-line text, floats, undefined in a list), which then goes
 * through the yaml library. tests/yaml-emit.test.ts holds it to the library's
 * bytes on generated values.
 */
export function emitPlainYaml(value: unknown): string | undefined {
  const lines: string[] = []
  if (!emitRoot(value, lines)) return undefined
  return lines.join('\n') + '\n'
}

/**
 * Plain scalars the YAML 1.2 core schema reads as null, a boolean or a number
 * (1.1's own are quoted by `version: '1.1'`), and `<<`, a merge key to Go's
 * YAML readers.
 */
export const CORE_NOT_A_STRING = /^(?:<<|~|null|Null|NULL|true|True|TRUE|false|False|FALSE|[-+]?[0-9]+|0o[0-7]+|0x[0-9a-fA-F]+|[-+]?(?:\.[0-9]+|[0-9]+(?:\.[0-9]*)?)(?:[eE][-+]?[0-9]+)?|[-+]?\.(?:inf|Inf|INF)|\.nan|\.NaN|\.NAN)$/

/** Strings both YAML 1.1 and 1.2 readers take as the same plain string, and yaml writes plain. */
const PLAIN_WORD = /^(?:[A-Za-z_]|\.\/)[A-Za-z0-9_./-]*$/
/** Quantities and durations: digits, then letters that make no number (`50m`, `64Mi`, `10s`; not `1e5`, not `0x1f`). */
const PLAIN_QUANTITY = /^[1-9][0-9]{0,14}[A-DF-Za-df-z][A-Za-z]{0,3}$/
/**
 * Of the YAML 1.1 schema's non-string forms, only its booleans and null can
 * look like a PLAIN_WORD or PLAIN_QUANTITY, and none is longer than `false`:
 * longer words skip the tag tests.
 */
const LONGEST_YAML11_WORD = 5
/** yaml writes longer keys in the explicit `? key` form. */
const MAX_PLAIN = 1024

/** Printable ASCII without quotes or backslashes: quoted, such a string is itself between double quotes. */
const SIMPLE_ASCII = /^[\x20\x21\x23-\x26\x28-\x5b\x5d-\x7e]*$/
/** What the yaml library never writes plain (its plainString), for one-line strings. */
const NOT_PLAIN = /^[ ,[\]{}#&*!|>'"%@`]|^[?-]$|^[?-] |: | #| $|:$/
/** What it writes otherwise for a top-level string: left to it. */
const DOCUMENT_MARKER = /^(?:%|---|\.\.\.)/

let yaml11Tests: RegExp[] | undefined

/** The tests of the non-string tags of yaml's YAML 1.1 schema: a plain string matching one is quoted. */
function yaml11NotString(text: string): boolean {
  yaml11Tests ??= new YamlDocument(null, { version: '1.1' }).schema.tags.flatMap((tag) => (tag.default && tag.tag !== 'tag:yaml.org,2002:str' && tag.test ? [tag.test] : []))
  return yaml11Tests.some((test) => test.test(text))
}

/**
 * A string as yaml writes it in toKubernetesYaml: plain, or double-quoted
 * where a YAML 1.1 or 1.2 reader would take it for something else (or
 * undefined: not one this path writes).
 */
function stringScalar(text: string): string | undefined {
  if (text.length > MAX_PLAIN) return undefined
  // the common case, settled without the schema
  if ((PLAIN_WORD.test(text) || PLAIN_QUANTITY.test(text)) && !(text.length <= LONGEST_YAML11_WORD && yaml11NotString(text))) return text
  if (!SIMPLE_ASCII.test(text) || DOCUMENT_MARKER.test(text)) return undefined
  if (CORE_NOT_A_STRING.test(text) || NOT_PLAIN.test(text) || yaml11NotString(text)) return `"${text}"`
  return text
}

/** A scalar's text, or undefined when it is not one this path writes. */
function scalar(value: unknown): string | undefined {
  if (typeof value === 'string') return stringScalar(value)
  if (typeof value === 'number') return Number.isSafeInteger(value) && !Object.is(value, -0) ? String(value) : undefined
  if (typeof value === 'boolean') return String(value)
  if (value === null) return 'null'
  return undefined
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) return false
  const proto = Object.getPrototypeOf(value) as unknown
  return proto === Object.prototype || proto === null
}

/** Keys repeat (apiVersion, metadata, name): each is written once and remembered. */
const keyTexts = new Map<string, string | undefined>()
const MAX_REMEMBERED_KEYS = 4096

/** A key as yaml writes it, or undefined when this path does not write it. */
function keyScalar(key: string): string | undefined {
  if (keyTexts.has(key)) return keyTexts.get(key)
  const text = stringScalar(key)
  if (keyTexts.size >= MAX_REMEMBERED_KEYS) keyTexts.clear()
  keyTexts.set(key, text)
  return text
}

/** The entries yaml writes, keys as written: own enumerable string keys, without those whose value is undefined. */
function entriesOf(value: Record<string, unknown>): Array<[string, unknown]> | undefined {
  const entries: Array<[string, unknown]> = []
  for (const key of Object.keys(value)) {
    const child = value[key]
    if (child === undefined) continue
    const text = keyScalar(key)
    if (text === undefined) return undefined
    entries.push([text, child])
  }
  return entries
}

/** `{}` / `[]` for empty collections, as yaml writes them inline. */
function emptyCollection(value: unknown): string | undefined {
  if (Array.isArray(value)) return value.length === 0 ? '[]' : undefined
  if (isPlainObject(value)) {
    for (const key of Object.keys(value)) if (value[key] !== undefined) return undefined
    return '{}'
  }
  return undefined
}

function emitRoot(value: unknown, lines: string[]): boolean {
  const inline = scalar(value) ?? emptyCollection(value)
  if (inline !== undefined) {
    lines.push(inline)
    return true
  }
  return emitBlock(value, '', lines)
}

/** A non-empty mapping or list, its lines starting with `indent`. */
function emitBlock(value: unknown, indent: string, lines: string[]): boolean {
  if (Array.isArray(value)) {
    for (const item of value) if (!emitItem(item, indent, lines)) return false
    return true
  }
  if (!isPlainObject(value)) return false
  const entries = entriesOf(value)
  if (!entries) return false
  for (const [key, child] of entries) if (!emitPair(key, child, indent, '', lines)) return false
  return true
}

/** `key: value`; `lead` replaces the indentation of the first line (a `- ` of the list item the mapping is in). */
function emitPair(key: string, value: unknown, indent: string, lead: string, lines: string[]): boolean {
  const first = lead === '' ? indent : lead
  const inline = scalar(value) ?? emptyCollection(value)
  if (inline !== undefined) {
    lines.push(`${first}${key}: ${inline}`)
    return true
  }
  if (value === undefined) return false
  lines.push(`${first}${key}:`)
  return emitBlock(value, `${indent}  `, lines)
}

/** One list item: `- scalar`, or a mapping or list starting on the dash's line. */
function emitItem(item: unknown, indent: string, lines: string[]): boolean {
  const inline = scalar(item) ?? emptyCollection(item)
  if (inline !== undefined) {
    lines.push(`${indent}- ${inline}`)
    return true
  }
  const inner = `${indent}  `
  if (Array.isArray(item)) {
    const start = lines.length
    if (!emitBlock(item, inner, lines)) return false
    lines[start] = `${indent}- ${(lines[start] as string).slice(inner.length)}`
    return true
  }
  if (!isPlainObject(item)) return false
  const entries = entriesOf(item)
  if (!entries) return false
  for (let i = 0; i < entries.length; i++) {
    const [key, child] = entries[i] as [string, unknown]
    if (!emitPair(key, child, inner, i === 0 ? `${indent}- ` : '', lines)) return false
  }
  return true
}
