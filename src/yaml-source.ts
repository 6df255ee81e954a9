import { LineCounter, isMap, isPair, isScalar, isSeq, parseAllDocuments, parseDocument } from 'yaml'
import type { Document, Node, Pair } from 'yaml'
import { HomelabError } from './errors.js'
import type { SourceLocation } from './errors.js'

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
 * Parse one YAML document, keeping positions. Syntax errors (bad indentation,
 * tabs, duplicate keys, several documents) become a HomelabError at their line
 * and column.
 */
export function parseYamlSource(text: string, file: string): YamlSource {
  const lineCounter = new LineCounter()
  const doc = parseDocument(text, { lineCounter, prettyErrors: false, uniqueKeys: true })
  const source = { file, doc, lineCounter }
  const [error] = doc.errors
  if (error) throw yamlSyntaxError(source, error.message, error.pos[0])
  return source
}

/** Turn a parsed document into plain data; an alias bomb becomes a HomelabError. */
export function toData(source: YamlSource): unknown {
  try {
    return source.doc.toJS({ maxAliasCount: MAX_ALIAS_COUNT })
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error)
    throw new HomelabError(`too many YAML aliases (${message.replace(/\.$/, '')})`, {
      location: locationOfOffset(source, firstAliasOffset(source.doc.contents) ?? 0),
    })
  }
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
  const documents = parseAllDocuments(text, { lineCounter, prettyErrors: false })
  if (!Array.isArray(documents)) {
    // an empty stream
    return { documents: [], lineCounter }
  }
  for (const doc of documents) {
    const [error] = doc.errors
    if (error) {
      const { line, col } = lineCounter.linePos(error.pos[0])
      throw new HomelabError(cleanYamlMessage(error.message), { location: { file, line, col } })
    }
  }
  return { documents, lineCounter }
}

function yamlSyntaxError(source: YamlSource, message: string, offset: number): HomelabError {
  return new HomelabError(cleanYamlMessage(message), { location: locationOfOffset(source, offset) })
}

/** yaml's messages end in ` at line N, column M` and sometimes a code excerpt: keep the sentence. */
export function cleanYamlMessage(message: string): string {
  const first = message.split('\n')[0] ?? message
  return first.replace(/ at line \d+, column \d+:?$/, '').replace(/:$/, '')
}

function firstAliasOffset(node: unknown): number | undefined {
  const stack: unknown[] = [node]
  while (stack.length > 0) {
    const current = stack.pop() as { range?: [number, number]; items?: unknown[]; key?: unknown; value?: unknown } | null
    if (!current || typeof current !== 'object') continue
    if ((current as { constructor?: { name?: string } }).constructor?.name === 'Alias') return current.range?.[0]
    if (Array.isArray(current.items)) stack.push(...current.items)
    if ('key' in current) stack.push(current.key, current.value)
  }
  return undefined
}
