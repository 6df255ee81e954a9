import { isAlias, isMap, isScalar, isSeq, parseAllDocuments, visit } from 'yaml'
import type { Document, LineCounter } from 'yaml'
import { HomelabError } from './errors.js'
import type { SourceLocation } from './errors.js'
import { findRefFieldProblem, hasRefFields } from './kustomize-refs.js'
import { scanManifest } from './manifest-scan.js'
import { parseYamlStream, toData } from './yaml-source.js'

/** One Kubernetes object of a manifest file. */
export interface ManifestObject {
  /** What kustomize tells objects apart by: apiVersion, kind, namespace, name. */
  id: string
  apiVersion: string
  kind: string
  name: string
  location: SourceLocation
}

/**
 * Check a rendered or copied Kubernetes YAML file: it parses as a YAML stream
 * (with the stricter rules of kubectl's Go reader on control characters and
 * tabs), and every non-empty document is a mapping with apiVersion, kind and
 * metadata.name. Returns its objects; none when every document is empty (the
 * file is left out). Plain block YAML, what templates render, is read in one
 * quick pass (manifest-scan.ts); anything else is parsed in full.
 */
export function checkManifestFile(text: string, file: string, context: string): ManifestObject[] {
  checkPrintable(text, file, context)
  return scanManifest(text, file) ?? parseManifestFile(text, file, context)
}

/**
 * The full check: parse with the yaml library (positions kept, for errors at
 * their line), then kubectl's stricter rules. Reads fields off the parse tree
 * without building plain objects. Expects checkPrintable to have passed.
 */
export function parseManifestFile(text: string, file: string, context: string): ManifestObject[] {
  let parsed: ReturnType<typeof parseYamlStream>
  try {
    parsed = parseYamlStream(text, file)
  } catch (error) {
    if (error instanceof HomelabError) {
      throw new HomelabError(`${error.message} (${context})`, { location: error.location, hint: 'the rendered YAML is invalid: check indentation, and pass values through quote, toYaml or nindent' })
    }
    throw error
  }
  if (text.includes('\t')) checkTabs(text, parsed.documents, file, context)
  if (/\\[xuU]/.test(text)) checkEscapedCharacters(parsed.documents, parsed.lineCounter, file, context)
  if (text.includes('<<') || LONG_LINE.test(text) || KEYLESS_ENTRY.test(text)) checkKeys(parsed.documents, parsed.lineCounter, file, context)
  const objects: ManifestObject[] = []
  let merged: Document.Parsed[] | undefined
  for (const [index, doc] of parsed.documents.entries()) {
    if (isEmptyDocument(doc)) continue
    const where = () => {
      const { line, col } = parsed.lineCounter.linePos(doc.contents?.range?.[0] ?? 0)
      return { file, line, col }
    }
    if (!isMap(doc.contents)) {
      throw new HomelabError(`a YAML document must be a Kubernetes object (a mapping), not ${describeNode(doc)} (${context})`, { location: where() })
    }
    for (const field of ['apiVersion', 'kind'] as const) {
      const value = doc.get(field)
      if (typeof value !== 'string' || value === '') {
        throw new HomelabError(`a Kubernetes object without ${field} (${context})`, { location: where() })
      }
    }
    const name = doc.getIn(['metadata', 'name'])
    if (typeof name !== 'string' || name === '') {
      throw new HomelabError(`${String(doc.get('kind'))} without metadata.name (${context})`, { location: where() })
    }
    const [apiVersion, kind, namespace] = [doc.get('apiVersion'), doc.get('kind'), doc.getIn(['metadata', 'namespace'])].map((v) => String(v ?? ''))
    if (hasRefFields(apiVersion as string, kind as string)) {
      // kustomize reads YAML merges (checked by checkKeys): walk the merged data
      if (merged === undefined && text.includes('<<')) merged = parseAllDocuments(text, { merge: true, logLevel: 'silent' }) as Document.Parsed[]
      const data = Array.isArray(merged) && merged[index]?.errors.length === 0 ? merged[index] : doc
      checkRefFields(doc, data, parsed.lineCounter, file, `${kind} "${name}", ${context}`)
    }
    objects.push({ id: [apiVersion, kind, namespace, name].join('/'), apiVersion: apiVersion as string, kind: kind as string, name, location: where() })
  }
  return objects
}

/** The fields kubectl kustomize walks for name references hold what it can walk (kustomize-refs.ts); `source`: the document as data is read from (merges applied). */
function checkRefFields(doc: Document.Parsed, source: Document.Parsed, lineCounter: LineCounter, file: string, context: string): void {
  let data: unknown
  try {
    data = toData({ file, doc: source, lineCounter })
  } catch (error) {
    if (error instanceof HomelabError) throw new HomelabError(`${error.message} (${context})`, { location: error.location, hint: error.hint })
    throw error
  }
  const found = findRefFieldProblem(data as Record<string, unknown>)
  if (!found) return
  // the node itself, or the deepest one on its path (an alias stops getIn)
  let node: unknown
  for (let n = found.path.length; n > 0 && !(node as { range?: unknown } | undefined)?.range; n--) node = doc.getIn(found.path.slice(0, n), true)
  const offset = (node as { range?: [number, number, number] } | undefined)?.range?.[0] ?? doc.contents?.range?.[0] ?? 0
  const field = found.path.map((p) => (typeof p === 'number' ? `[${p}]` : `.${p}`)).join('').slice(1)
  throw new HomelabError(`${field} ${found.problem} (${context})`, {
    location: { file, ...lineCounter.linePos(offset) },
    hint: 'kubectl kustomize and Flux read this field to update names; check the indentation and the space after each `:` around it',
  })
}

/**
 * kubectl's YAML reader rejects a tab where a line's indentation or a block
 * indicator's spacing is (also on blank and comment lines), which the yaml
 * library accepts. Inside quoted and block scalars and flow collections tabs
 * are content or ordinary spacing, and fine.
 */
function checkTabs(text: string, documents: readonly Document[], file: string, context: string): void {
  const allowed: Array<[number, number]> = []
  for (const doc of documents) {
    visit(doc, {
      Scalar(_key, node) {
        if (node.range && node.type !== 'PLAIN') allowed.push([node.range[0], node.range[1]])
      },
      Map(_key, node) {
        if (node.flow && node.range) allowed.push([node.range[0], node.range[1]])
      },
      Seq(_key, node) {
        if (node.flow && node.range) allowed.push([node.range[0], node.range[1]])
      },
    })
  }
  let lineStart = 0
  let line = 1
  while (lineStart <= text.length) {
    const end = text.indexOf('\n', lineStart)
    const lineEnd = end === -1 ? text.length : end
    const tab = /^ *(?:[-?:](?=[ \t]) *)*\t/.exec(text.slice(lineStart, lineEnd))
    if (tab) {
      const offset = lineStart + tab[0].length - 1
      if (!allowed.some(([from, to]) => offset > from && offset < to)) {
        throw new HomelabError(`a tab in the indentation: kubectl and Flux reject the file (${context})`, {
          location: { file, line, col: offset - lineStart + 1 },
          hint: 'indent YAML with spaces only',
        })
      }
    }
    if (end === -1) break
    lineStart = end + 1
    line++
  }
}

/**
 * Characters a YAML reader may see (YAML's c-printable; the yaml library lets
 * more through than kubectl's Go reader), less NEL and the Unicode line and
 * paragraph separators: raw, they are line breaks to kubectl's YAML 1.1
 * reader and plain characters to YAML 1.2, so the two read different objects.
 */
const NOT_PRINTABLE = /[^\t\n\r\u0020-\u007e\u00a0-\u2027\u202a-\ud7ff\ue000-\ufffd\u{10000}-\u{10ffff}]/u
const YAML11_LINE_BREAK = /[\u0085\u2028\u2029]/

function checkPrintable(text: string, file: string, context: string): void {
  const match = NOT_PRINTABLE.exec(text)
  if (!match) return
  const before = text.slice(0, match.index)
  const line = before.split('\n').length
  const col = match.index - before.lastIndexOf('\n')
  const code = (match[0].codePointAt(0) ?? 0).toString(16).toUpperCase().padStart(4, '0')
  if (YAML11_LINE_BREAK.test(match[0])) {
    throw new HomelabError(`a raw U+${code}, a line break to kubectl and Flux but not to YAML 1.2: they would read the file differently (${context})`, {
      location: { file, line, col },
      hint: code === '0085' ? 'remove it: kubectl cannot hold it even escaped' : 'remove it, or pass the value through quote, toYaml or json, which escape it',
    })
  }
  throw new HomelabError(`the character U+${code} is not allowed in YAML: kubectl and Flux reject the file (${context})`, {
    location: { file, line, col },
    hint: 'pass values through quote, toYaml or json, which escape it',
  })
}

/**
 * Characters that kubectl kustomize (and so Flux) cannot write back out even
 * when the file escapes them (`"\u007f"`): its Go YAML encoder emits them raw
 * and then rejects its own output, or (NEL) reads it back as a line break.
 */
const KUSTOMIZE_UNWRITABLE = /[\u007f-\u009f\ufffe\uffff]/

function checkEscapedCharacters(documents: readonly Document[], lineCounter: LineCounter, file: string, context: string): void {
  for (const doc of documents) {
    visit(doc, {
      Scalar(_key, node) {
        if (node.type !== 'QUOTE_DOUBLE' || typeof node.value !== 'string') return
        const match = KUSTOMIZE_UNWRITABLE.exec(node.value)
        if (!match) return
        const code = (match[0].codePointAt(0) ?? 0).toString(16).toUpperCase().padStart(4, '0')
        throw new HomelabError(`a value with the character U+${code}, which kubectl kustomize and Flux cannot handle (${context})`, {
          location: { file, ...lineCounter.linePos(node.range?.[0] ?? 0) },
          hint: 'remove the character from the value (in the config, or the template)',
        })
      },
    })
  }
}

/** Longest mapping key kubectl kustomize can read back: its Go YAML reader's limit on implicit keys. */
const MAX_KEY_LENGTH = 1024
/** A line long enough to hold a longer key: only then are keys measured. */
const LONG_LINE = new RegExp(`[^\\n]{${MAX_KEY_LENGTH + 1}}`)
/** A line whose entry starts with `:`: a mapping entry without a key, if it is not inside a scalar. */
const KEYLESS_ENTRY = /^[ -]*:(?:[ ]|$)/m

/**
 * Keys kubectl kustomize (and Flux) reject or mangle. `: value` has no key:
 * the yaml library reads a null key, kubectl's Go reader rejects the file
 * ("did not find expected key"). It reads every `<<` key as a YAML merge key,
 * quoted or not: a merge of a mapping or an alias is what the author meant,
 * but a quoted `"<<"` or one holding a plain value is data, and kustomize
 * would silently drop the entry. And it writes keys longer than 1024
 * characters in a form it cannot read back.
 */
function checkKeys(documents: readonly Document[], lineCounter: LineCounter, file: string, context: string): void {
  for (const doc of documents) {
    visit(doc, {
      Pair(_key, pair) {
        const missing = pair.key as unknown
        if (missing === null || (isScalar(missing) && missing.value === null && missing.source === '')) {
          const offset = isScalar(missing) ? (missing.range?.[0] ?? 0) : isScalar(pair.value) || isMap(pair.value) || isSeq(pair.value) ? (pair.value.range?.[0] ?? 0) : 0
          throw new HomelabError(`a mapping entry without a key: kubectl and Flux reject the file (${context})`, {
            location: { file, ...lineCounter.linePos(offset) },
            hint: 'every `:` needs a key before it; check what the template line above renders to',
          })
        }
        if (!isScalar(pair.key)) return
        const where = { file, ...lineCounter.linePos(pair.key.range?.[0] ?? 0) }
        const key = String(pair.key.value)
        if (key.length > MAX_KEY_LENGTH) {
          throw new HomelabError(`a key of ${key.length} characters: kubectl kustomize and Flux cannot handle keys over ${MAX_KEY_LENGTH} (${context})`, { location: where })
        }
        if (key !== '<<') return
        const quoted = pair.key.type === 'QUOTE_DOUBLE' || pair.key.type === 'QUOTE_SINGLE'
        if (!quoted && isMergeSource(pair.value, doc)) return
        if (!quoted && (isAlias(pair.value) || isSeq(pair.value))) {
          const node = isSeq(pair.value) ? (pair.value.items.find((item) => !isMergeSource(item, doc, false)) ?? pair.value) : pair.value
          const offset = (node as { range?: [number, number, number] } | null)?.range?.[0] ?? pair.key.range?.[0] ?? 0
          throw new HomelabError(`a YAML merge ("<<") of something that is not a mapping: kubectl kustomize and Flux reject the file (${context})`, {
            location: { file, ...lineCounter.linePos(offset) },
            hint: 'merge a mapping, an alias of one, or a list of those',
          })
        }
        throw new HomelabError(`the key "<<" is a merge key to kubectl kustomize and Flux, which would drop this entry (${context})`, {
          location: where,
          hint: 'use another key; "<<" only works as a YAML merge of a mapping',
        })
      },
    })
  }
}

/**
 * What Go's YAML reader merges: a mapping, an alias of one, or (`list`) a
 * list of those; anything else fails the file ("map merge requires map or
 * sequence of maps").
 */
function isMergeSource(node: unknown, doc: Document, list = true): boolean {
  if (isMap(node)) return true
  if (isAlias(node)) return isMap(node.resolve(doc))
  return list && isSeq(node) && node.items.every((item) => isMergeSource(item, doc, false))
}

/**
 * A document with nothing in it: none at all, or only `---` and comments (the
 * yaml library reads the latter as an empty null scalar). kubectl and Flux
 * skip both, as in a template's leading or trailing `---`.
 */
function isEmptyDocument(doc: Document): boolean {
  const contents = doc.contents
  return contents === null || (isScalar(contents) && contents.value === null && contents.source === '')
}

function describeNode(doc: Document): string {
  const contents = doc.contents as { items?: unknown; value?: unknown } | null
  if (contents && Array.isArray(contents.items)) return 'a list'
  return `the scalar ${JSON.stringify(String(contents?.value)).slice(0, 40)}`
}
