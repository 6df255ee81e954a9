import { Document as YamlDocument, LineCounter, Scalar, isMap, isPair, isScalar, isSeq, parseAllDocuments, parseDocument, visit } from 'yaml'
import type { Document, Node, Pair, Tags } from 'yaml'
import { HomelabError } from './errors.js'
import type { SourceLocation } from './errors.js'
import { CORE_NOT_A_STRING, emitPlainYaml } from './yaml-emit.js'
import { readPlainYaml } from './yaml-quick.js'
import type { QuickDocument } from './yaml-quick.js'

/** A parsed YAML file that remembers where every node came from. */
export interface YamlSource {
  /** The file as shown to the user (relative to the working directory). */
  file: string
  doc: Document
  lineCounter: LineCounter
}

export type YamlPath = ReadonlyArray<string | number>

/** Aliases allowed when turning a document into data: the yaml default, which stops alias bombs. */
const MAX_ALIAS_COUNT = 100

/**
 * Deepest nesting of mappings and lists read from any YAML file. Real configs
 * and manifests stay far below (Flux's CRDs: 20); the parser and the
 * validators after it run out of stack somewhere past a few hundred levels.
 */
export const MAX_NESTING = 128

/**
 * Parse one YAML document, keeping positions. Syntax errors (bad indentation,
 * tabs, duplicate keys, several documents) become a HomelabError at their line
 * and column.
 */
export function parseYamlSource(text: string, file: string): YamlSource {
  const lineCounter = new LineCounter()
  // logLevel error: the core never prints (yaml would warn on stderr about collection keys, rejected below)
  const doc = parseDocument(text, { lineCounter, prettyErrors: false, uniqueKeys: true, logLevel: 'error' })
  const source = { file, doc, lineCounter }
  const error = firstError(doc)
  if (error) {
    if (error.code === 'RESOURCE_EXHAUSTION') throw nestingError(locationOfOffset(source, error.pos[0]))
    const { message, offset } = describeYamlError(doc, error)
    throw new HomelabError(message, { location: locationOfOffset(source, offset) })
  }
  checkNesting(doc, (offset) => locationOfOffset(source, offset), { data: true })
  return source
}

/**
 * Read one YAML document as data, with a YamlSource to locate any path in it
 * for errors. Plain block YAML is read by the quick reader (yaml-quick.ts),
 * and the positions are parsed only if an error asks for them; anything else
 * goes through parseYamlSource and toData, with the same checks.
 */
export function readYamlData(text: string, file: string): { source: YamlSource; data: unknown } {
  // one document only: a `---` line may start a second one, which the full parse reports
  const quick = /^---/m.test(text) ? undefined : readPlainYaml(text)
  if (quick?.length === 1) return { source: lazySource(text, file), data: (quick[0] as QuickDocument).value }
  const source = parseYamlSource(text, file)
  return { source, data: toData(source) }
}

/** A YamlSource parsed on first use: for text already known to parse cleanly. */
function lazySource(text: string, file: string): YamlSource {
  let parsed: YamlSource | undefined
  const full = () => (parsed ??= parseYamlSource(text, file))
  return {
    file,
    get doc() {
      return full().doc
    },
    get lineCounter() {
      return full().lineCounter
    },
  }
}

/**
 * Turn a parsed document into plain data; an alias bomb, or aliases that nest
 * the data too deeply or in a circle (`&a [*a]`), become a HomelabError.
 */
export function toData(source: YamlSource): unknown {
  let data: unknown
  try {
    data = source.doc.toJS({ maxAliasCount: MAX_ALIAS_COUNT })
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error)
    const unresolved = /^Unresolved alias[^:]*: (.*)$/.exec(message)?.[1]
    if (unresolved !== undefined) {
      throw new HomelabError(`unknown alias *${unresolved}: no anchor &${unresolved} before it`, {
        location: locationOfOffset(source, firstAliasOffset(source.doc.contents, unresolved) ?? 0),
        hint: 'an alias repeats a value marked earlier in the file with &name; or write the value out',
      })
    }
    throw new HomelabError(`too many YAML aliases (${message.replace(/\.$/, '')})`, {
      location: locationOfOffset(source, firstAliasOffset(source.doc.contents) ?? 0),
    })
  }
  // the document itself passed checkNesting: only aliases can make the data deeper
  if (deeperThan(data, MAX_NESTING)) {
    throw new HomelabError(`YAML nested more than ${MAX_NESTING} levels deep once its aliases are expanded (or an alias sits inside its own anchor)`, {
      location: locationOfOffset(source, firstAliasOffset(source.doc.contents) ?? 0),
      hint: 'write the values out instead of using anchors and aliases',
    })
  }
  return data
}

/** Whether plain data nests deeper than `limit` (a circular structure does). Iterative, depth first. */
function deeperThan(data: unknown, limit: number): boolean {
  const stack: Array<[unknown, number]> = [[data, 0]]
  while (stack.length > 0) {
    const [value, depth] = stack.pop() as [unknown, number]
    if (value === null || typeof value !== 'object') continue
    if (depth + 1 > limit) return true
    for (const child of Array.isArray(value) ? value : Object.values(value)) stack.push([child, depth + 1])
  }
  return false
}

/** The 1-based line and column of an offset in the source. */
export function locationOfOffset(source: YamlSource, offset: number): SourceLocation {
  const { line, col } = source.lineCounter.linePos(offset)
  return { file: source.file, line, col }
}

/**
 * Where the value (or, with `key: true`, the key) at `path` sits. Walks as far
 * as the document goes, so a path into something missing points at its
 * nearest existing parent.
 */
export function locate(source: YamlSource, path: YamlPath, options: { key?: boolean } = {}): SourceLocation {
  let node: unknown = source.doc.contents
  let pair: Pair | undefined
  for (const segment of path) {
    pair = undefined
    if (isMap(node)) {
      const found = node.items.find((item) => isScalar(item.key) && String(item.key.value) === String(segment))
      if (!found) break
      pair = found
      node = found.value
    } else if (isSeq(node) && typeof segment === 'number') {
      const item = node.items[segment]
      if (item === undefined) break
      node = item
    } else {
      break
    }
  }
  const target = options.key && pair && isScalar(pair.key) ? pair.key : (node as Node | null | undefined)
  const offset = target?.range?.[0] ?? (isPair(pair) && isScalar(pair.key) ? pair.key.range?.[0] : undefined) ?? 0
  return locationOfOffset(source, offset)
}

/** Where the value at `path` sits; undefined when the document does not have it. */
export function locateIfSet(source: YamlSource, path: YamlPath): SourceLocation | undefined {
  const node = source.doc.getIn(path, true) as Node | null | undefined
  const offset = node?.range?.[0]
  return offset === undefined ? undefined : locationOfOffset(source, offset)
}

/** Human-readable form of a data path: `apps[2].options.replicas`. */
export function formatPath(path: YamlPath): string {
  let out = ''
  for (const segment of path) {
    if (typeof segment === 'number') out += `[${segment}]`
    else if (/^[A-Za-z_$][\w$-]*$/.test(segment)) out += out ? `.${segment}` : segment
    else out += `[${JSON.stringify(segment)}]`
  }
  return out
}

/** Parse a YAML stream (several documents); syntax errors become a HomelabError. */
export function parseYamlStream(text: string, file: string): { documents: Document.Parsed[]; lineCounter: LineCounter } {
  const lineCounter = new LineCounter()
  const documents = parseAllDocuments(text, { lineCounter, prettyErrors: false, logLevel: 'error' })
  if (!Array.isArray(documents)) {
    // an empty stream
    return { documents: [], lineCounter }
  }
  const at = (offset: number): SourceLocation => ({ file, ...lineCounter.linePos(offset) })
  for (const doc of documents) {
    const error = firstError(doc)
    if (error) {
      if (error.code === 'RESOURCE_EXHAUSTION') throw nestingError(at(error.pos[0]))
      const { message, offset } = describeYamlError(doc, error)
      throw new HomelabError(message, { location: at(offset) })
    }
    checkNesting(doc, at)
  }
  return { documents, lineCounter }
}

/** The error to report: running out of stack (too deep) wins, as the errors after it are its echoes. */
function firstError(doc: Document): Document['errors'][number] | undefined {
  return doc.errors.find((error) => error.code === 'RESOURCE_EXHAUSTION') ?? doc.errors[0]
}

/**
 * What to say about a syntax error, and where. yaml notices a quoted string
 * or a `[`/`{` list that is never closed only where it gives up (the end of
 * the file, or the next line that is not indented enough), far from the
 * mistake: those are reported where the string or list opens.
 */
function describeYamlError(doc: Document, error: Document['errors'][number]): { message: string; offset: number } {
  const at = error.pos[0]
  const quote = /^Missing closing (["'])quote/.exec(error.message)?.[1]
  const flow = /^Flow (sequence|map) in block collection must be sufficiently indented and end with a ([\]}])/.exec(error.message)
  if (quote || flow) {
    // the innermost node of that kind that runs up to where yaml gave up
    let opened: number | undefined
    visit(doc, (_key, node) => {
      // pairs have no range, and a key or value left empty is null
      const range = node && typeof node === 'object' ? (node as Node).range : undefined
      if (!range || range[0] >= at || range[1] < at) return
      const kind = isScalar(node) ? node.type : (isSeq(node) || isMap(node)) && node.flow ? (isSeq(node) ? 'sequence' : 'map') : undefined
      const wanted = quote ? (quote === '"' ? 'QUOTE_DOUBLE' : 'QUOTE_SINGLE') : flow?.[1]
      if (kind === wanted && (opened === undefined || range[0] > opened)) opened = range[0]
    })
    if (opened !== undefined) {
      return quote
        ? { message: `this ${quote}-quoted string is never closed: add the closing ${quote}`, offset: opened }
        : { message: `this ${flow?.[1] === 'map' ? '{' : '['} is never closed with ${flow?.[2]}, or a line inside it is not indented past its key`, offset: opened }
    }
  }
  return { message: cleanYamlMessage(error.message), offset: at }
}

function nestingError(location: SourceLocation): HomelabError {
  return new HomelabError(`YAML nested more than ${MAX_NESTING} levels deep`, {
    location,
    hint: `homelab reads mappings and lists at most ${MAX_NESTING} levels deep: flatten the structure`,
  })
}

/**
 * Reject documents nested deeper than MAX_NESTING, before anything recursive
 * (toJS, ajv, Handlebars, stringify) walks them, and mapping keys that are
 * lists or mappings (`? [a]: b`), which JSON and Kubernetes cannot have. In
 * files read as data (`data`: the config, template.yaml), also the key
 * `__proto__`, which would give the object it lands in a prototype of the
 * user's choosing. Iterative: the check itself must not run out of stack.
 */
function checkNesting(doc: Document, at: (offset: number) => SourceLocation, options: { data?: boolean } = {}): void {
  const stack: Array<[unknown, number]> = [[doc.contents, 0]]
  while (stack.length > 0) {
    const [node, depth] = stack.pop() as [unknown, number]
    if (isMap(node) || isSeq(node)) {
      if (depth + 1 > MAX_NESTING) throw nestingError(at(node.range?.[0] ?? 0))
      for (const item of node.items as unknown[]) {
        if (!isPair(item)) {
          stack.push([item, depth + 1])
          continue
        }
        if (isMap(item.key) || isSeq(item.key)) {
          throw new HomelabError('a mapping key must be a string, not a list or mapping', { location: at(item.key.range?.[0] ?? 0) })
        }
        if (options.data && isScalar(item.key) && item.key.value === '__proto__') {
          throw new HomelabError('the key "__proto__" is not allowed', { location: at(item.key.range?.[0] ?? 0) })
        }
        stack.push([item.key, depth + 1], [item.value, depth + 1])
      }
    }
  }
}

/** yaml's messages end in ` at line N, column M` and sometimes a code excerpt: keep the sentence. */
export function cleanYamlMessage(message: string): string {
  const first = message.split('\n')[0] ?? message
  return first.replace(/ at line \d+, column \d+:?$/, '').replace(/:$/, '')
}

function firstAliasOffset(node: unknown, name?: string): number | undefined {
  const stack: unknown[] = [node]
  while (stack.length > 0) {
    const current = stack.pop() as { range?: [number, number]; items?: unknown[]; key?: unknown; value?: unknown; source?: string } | null
    if (!current || typeof current !== 'object') continue
    if ((current as { constructor?: { name?: string } }).constructor?.name === 'Alias' && (name === undefined || current.source === name)) return current.range?.[0]
    if (Array.isArray(current.items)) stack.push(...current.items)
    if ('key' in current) stack.push(current.key, current.value)
  }
  return undefined
}

/**
 * Characters a YAML writer leaves raw but a Kubernetes reader chokes on: DEL
 * and C1 controls (kubectl rejects the file), NEL and the Unicode line and
 * paragraph separators (line breaks to YAML 1.1: the value changes), a BOM
 * and noncharacters. Inside double quotes they can be written as `\uXXXX`.
 */
const YAML_UNSAFE = /[\u007f-\u009f\u2028\u2029\ufeff\ufffe\uffff]/
const YAML_UNSAFE_ALL = new RegExp(YAML_UNSAFE.source, 'g')

/** `text` (the inside of a double-quoted scalar) with YAML_UNSAFE characters escaped. */
export function escapeUnsafeForYaml(text: string): string {
  if (!YAML_UNSAFE.test(text)) return text
  return text.replace(YAML_UNSAFE_ALL, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`)
}

/**
 * YAML for Kubernetes, never folded, with every string quoted where either
 * reader would take it for something else: the API server reads YAML 1.1
 * (`no`, `0755`), kustomize and Flux read YAML 1.2 (`0o755`, `1e3`). Strings
 * with YAML_UNSAFE characters are double-quoted and the characters escaped.
 */
export function toKubernetesYaml(value: unknown): string {
  return emitPlainYaml(value) ?? stringifyKubernetesYaml(value)
}

/** toKubernetesYaml through the yaml library, for any value. */
export function stringifyKubernetesYaml(value: unknown): string {
  // without the merge tag, which would print a '<<' string bare
  const customTags = (tags: Tags) => tags.filter((tag) => typeof tag === 'string' || tag.tag !== 'tag:yaml.org,2002:merge')
  const doc = new YamlDocument(value, { version: '1.1', customTags, aliasDuplicateObjects: false })
  let unsafe = false
  visit(doc, {
    Scalar(_key, node) {
      if (typeof node.value !== 'string') return
      const hasUnsafe = YAML_UNSAFE.test(node.value)
      unsafe ||= hasUnsafe
      if (hasUnsafe || CORE_NOT_A_STRING.test(node.value)) node.type = Scalar.QUOTE_DOUBLE
    },
  })
  const text = doc.toString({ lineWidth: 0, minContentWidth: 0 })
  // every such character now sits inside double quotes, where an escape means the same
  return unsafe ? escapeUnsafeForYaml(text) : text
}
