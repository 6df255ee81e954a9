import { Document as YamlDocument, isScalar } from 'yaml'

/**
 * The quick path of reading YAML: one pass, line by line, over plain block
 * YAML — what templates render and what people and YAML writers produce for
 * configs: block mappings and lists, plain, single- and double-quoted scalars
 * on one line, `|` block scalars (`>` ones of one paragraph), flow collections of scalars on one line
 * (`[a, b]`, `{ a: 1 }`), comments, `---`. It
 * returns each document's data exactly as the yaml library's
 * `parseAllDocuments(text)` + `toJS()` would (YAML 1.2 core schema), but only
 * when it is sure of that and that the library reports no error; anything
 * else — anchors, aliases, tags, nested flow collections, multi-line
 * plain or quoted scalars, tabs, CR, long lines, `<<`, `__proto__`, duplicate
 * keys, an indentation it does not follow — returns undefined, and the caller
 * parses with the yaml library, which reads it or reports the error with its
 * line and column. tests/yaml-quick.test.ts holds it to the library on
 * thousands of mutated files.
 */

/** One document of a stream. */
export interface QuickDocument {
  /** The document's data; a mapping (the root of anything read here is one). */
  value: Record<string, unknown>
  /** 1-based line of the root mapping's first key. */
  line: number
}

export interface QuickReadOptions {
  /**
   * Only the structure and the scalars on one line are needed: `>` and `|+`
   * block scalars are accepted and read as BLOCK_NOT_READ instead of
   * leaving the whole file to the library.
   */
  structureOnly?: boolean
}

/** The value of a block scalar not read (QuickReadOptions.structureOnly). */
export const BLOCK_NOT_READ: unique symbol = Symbol('block scalar not read')

/** The documents of `text` that hold something (empty ones, as `---` alone, left out), or undefined when unsure. */
export function readPlainYaml(text: string, options: QuickReadOptions = {}): QuickDocument[] | undefined {
  if (text.charCodeAt(0) === 0xfeff || /[\t\r\u0085\u2028\u2029]|<</.test(text)) return undefined
  try {
    return new QuickReader(text, options.structureOnly ?? false).run()
  } catch (error) {
    if (error === UNSURE) return undefined
    throw error
  }
}

/** Lines this long may hold keys Go's YAML reader cannot read back: left to the full path. */
const MAX_LINE = 1024
/** Far below the nesting limit of the full path: anything deeper is left to it. */
const MAX_DEPTH = 64

const SPACE = 0x20
const HASH = 0x23
const DASH = 0x2d
const COLON = 0x3a
const DQUOTE = 0x22
const SQUOTE = 0x27

/** Thrown inside the reader: not sure, leave the text to the yaml library. */
const UNSURE = Symbol('unsure')

type Collection = Record<string, unknown> | unknown[]

interface Frame {
  kind: 'map' | 'seq'
  /** Column of the keys or dashes. */
  indent: number
  /** A list at the same column as the key it belongs to (`key:\n- a`): ends at the next key of that mapping. */
  sameIndent: boolean
  value: Collection
}

/** Where a value goes: a key of a mapping, or an index of a list. */
interface Slot {
  target: Collection
  key: string | number
}

/** A key or dash with nothing after it on its line: its value (null so far) may follow on the next lines. */
interface Pending extends Slot {
  kind: 'key' | 'item'
  /** Column of the key or the dash. */
  col: number
}

/** A `|` or `>` scalar being read: its lines are indented more than `parent`. */
interface BlockScalar extends Slot {
  parent: number
  /** Column of its content, known from its first non-blank line. */
  indent: number | undefined
  literal: boolean
  chomp: 'clip' | 'strip' | 'keep'
  lines: string[]
}

/** The non-string tags of the yaml library's YAML 1.2 core schema, in its order (the first whose test matches wins). */
let coreTags: Array<{ test: RegExp; resolve: (text: string) => unknown }> | undefined

function coreNotStringTags(): NonNullable<typeof coreTags> {
  coreTags ??= new YamlDocument(null).schema.tags.flatMap((tag) =>
    tag.default && tag.test && tag.tag !== 'tag:yaml.org,2002:str'
      ? [{ test: tag.test, resolve: (text: string) => tag.resolve(text, () => undefined, { intAsBigInt: false }) }]
      : [],
  )
  return coreTags
}

/** Whether a plain scalar starting with this character may be something other than a string (what the core schema's tests allow first: `-+.0-9~nNtTfF`). */
function maybeNotString(c: number): boolean {
  return c === DASH || c === 0x2b || c === 0x2e || (c >= 0x30 && c <= 0x39) || c === 0x7e || c === 0x6e || c === 0x4e || c === 0x74 || c === 0x54 || c === 0x66 || c === 0x46
}

/** A plain scalar's value, resolved by the yaml library's own core schema tags. */
function resolvePlain(text: string): unknown {
  if (text !== '' && !maybeNotString(text.charCodeAt(0))) return text
  for (const tag of coreNotStringTags()) {
    if (!tag.test.test(text)) continue
    const resolved = tag.resolve(text)
    return isScalar(resolved) ? resolved.value : resolved
  }
  return text
}

/** Whether plain keys read so far are strings, by key: a config repeats the same few hundred keys thousands of times. */
const stringKeys = new Map<string, boolean>()

function isStringKey(key: string): boolean {
  let known = stringKeys.get(key)
  if (known === undefined) {
    // bounded, for a long `render --watch`
    if (stringKeys.size >= 10_000) stringKeys.clear()
    stringKeys.set(key, (known = typeof resolvePlain(key) === 'string'))
  }
  return known
}

/** A letter or `_`: what a plain key starts with here. */
function isKeyStart(c: number): boolean {
  return (c >= 0x61 && c <= 0x7a) || (c >= 0x41 && c <= 0x5a) || c === 0x5f
}

/**
 * Characters of a plain key, `[A-Za-z0-9_./-]` (enough for Kubernetes field
 * names, labels and annotations, and config keys), from `lastIndex` on
 * (sticky): where the run of them ends. The scans of a line go through
 * regular expressions, which V8 runs as machine code from the first calls: a
 * loop over characters runs in its interpreter for most of a one-shot read.
 */
const KEY_CHARS = /[A-Za-z0-9_./-]*/y
/** Spaces from `lastIndex` on: a line's indentation. */
const SPACES = / */y
/** What ends a plain scalar from `lastIndex` on: a comment (` #`) or the line's end. */
const PLAIN_END = / #|\n/g

/** Where the run of characters that `sticky` matches from `pos` ends. */
function runEnd(sticky: RegExp, text: string, pos: number): number {
  sticky.lastIndex = pos
  sticky.test(text)
  return sticky.lastIndex
}
/** Escapes of a double-quoted scalar read here (`\x`, `\u`, `\U`, `\N`, `\L`, `\P` and line folding go to the library). */
const SIMPLE_ESCAPE = new Map([
  ['"', '"'],
  ['\\', '\\'],
  ['/', '/'],
  ['b', '\b'],
  ['f', '\f'],
  ['n', '\n'],
  ['r', '\r'],
  ['t', '\t'],
  ['0', '\0'],
  [' ', ' '],
])

function unescapeDoubleQuoted(raw: string): string {
  return raw.replace(/\\(.)/g, (_, c: string) => SIMPLE_ESCAPE.get(c) as string)
}

function assign(slot: Slot, value: unknown): void {
  if (Array.isArray(slot.target)) slot.target[slot.key as number] = value
  else slot.target[slot.key as string] = value
}

class QuickReader {
  private readonly documents: QuickDocument[] = []
  private stack: Frame[] = []
  private pending: Pending | undefined
  private block: BlockScalar | undefined
  /** The current document's root mapping and its line; line 0: none yet. */
  private root: QuickDocument = { value: {}, line: 0 }
  private line = 0
  private lineEnd = 0
  /** Where the key key() read last ends (its colon). */
  private keyEnd = 0

  constructor(
    private readonly text: string,
    private readonly structureOnly: boolean,
  ) {}

  run(): QuickDocument[] {
    const text = this.text
    let start = 0
    while (start < text.length) {
      const newline = text.indexOf('\n', start)
      const end = newline === -1 ? text.length : newline
      this.line++
      this.lineEnd = end
      if (end - start > MAX_LINE) throw UNSURE
      const col = runEnd(SPACES, text, start) - start
      const blank = start + col === end
      if (!(this.block && this.blockLine(start, col, blank)) && !blank) this.contentLine(start, col)
      start = end + 1
    }
    // a block scalar running to the end of a text without a final newline: the library's reading of that is left to it
    if (this.block && !text.endsWith('\n')) throw UNSURE
    this.endDocument()
    return this.documents
  }

  /** Whether a line belongs to the block scalar being read (else the scalar ended before it). */
  private blockLine(start: number, col: number, blank: boolean): boolean {
    const block = this.block as BlockScalar
    if (blank) {
      // spaces on a blank line: YAML's rules on them are subtle; leave them to the library
      if (col > 0) throw UNSURE
      block.lines.push('')
      return true
    }
    if (block.indent === undefined) {
      if (col > block.parent) {
        if (block.lines.length > 0) throw UNSURE // empty lines before the content
        block.indent = col
      }
    } else if (col < block.indent && col > block.parent) {
      throw UNSURE
    }
    if (block.indent !== undefined && col >= block.indent) {
      block.lines.push(this.text.slice(start + block.indent, this.lineEnd))
      return true
    }
    this.endBlock()
    return false
  }

  private endBlock(): void {
    const block = this.block
    if (!block) return
    this.block = undefined
    let last = block.lines.length
    while (last > 0 && block.lines[last - 1] === '') last--
    if (last === 0) throw UNSURE // no content: left to the library
    const content = block.lines.slice(0, last)
    // folded (`>`): read here only as one paragraph, every line at the content's indentation, no trailing spaces
    const foldable = !block.literal && content.every((line) => line !== '' && line[0] !== ' ' && !line.endsWith(' '))
    if ((!block.literal && !foldable) || block.chomp === 'keep') {
      if (!this.structureOnly) throw UNSURE
      assign(block, BLOCK_NOT_READ)
      return
    }
    const body = content.join(block.literal ? '\n' : ' ')
    assign(block, block.chomp === 'strip' ? body : `${body}\n`)
  }

  private contentLine(start: number, col: number): void {
    const text = this.text
    const at = start + col
    if (text.charCodeAt(at) === HASH) return // a comment line
    if (col === 0 && text.startsWith('---', at)) {
      if (text.slice(at + 3, this.lineEnd).trim() !== '') throw UNSURE
      this.endDocument()
      return
    }
    this.node(at, col, undefined)
  }

  /** The node starting at `pos` (column `col`) and the rest of its line; `dash`: the column of a dash before it on the line. */
  private node(pos: number, col: number, dash: number | undefined): void {
    const text = this.text
    const end = this.lineEnd
    if (text.charCodeAt(pos) === DASH && (pos + 1 === end || text.charCodeAt(pos + 1) === SPACE)) {
      const list = this.open('seq', col).value as unknown[]
      list.push(null)
      this.pending = { kind: 'item', col, target: list, key: list.length - 1 }
      let next = pos + 1
      while (next < end && text.charCodeAt(next) === SPACE) next++
      if (next === end || text.charCodeAt(next) === HASH) return
      this.node(next, col + (next - pos), col)
      return
    }
    const key = this.key(pos)
    if (key !== undefined) {
      const map = this.open('map', col).value as Record<string, unknown>
      if (Object.hasOwn(map, key)) throw UNSURE // a duplicate key: the library says where
      map[key] = null
      let next = this.keyEnd + 1
      while (next < end && text.charCodeAt(next) === SPACE) next++
      if (next === end || text.charCodeAt(next) === HASH) {
        this.pending = { kind: 'key', col, target: map, key }
        return
      }
      map[key] = this.scalar(next, col, map, key)
      return
    }
    // a scalar alone on its line, or after a dash: only the latter is read here
    if (dash === undefined) throw UNSURE
    const slot = this.pending as Pending
    this.pending = undefined
    assign(slot, this.scalar(pos, dash, slot.target, slot.key))
  }

  /** The collection whose entry starts at `col`: a new one as the value of a pending key or dash, or an open one. */
  private open(kind: Frame['kind'], col: number): Frame {
    const pending = this.pending
    this.pending = undefined
    if (pending && (col > pending.col || (kind === 'seq' && pending.kind === 'key' && col === pending.col))) {
      if (this.stack.length >= MAX_DEPTH) throw UNSURE
      const frame: Frame = { kind, indent: col, sameIndent: col === pending.col, value: kind === 'map' ? {} : [] }
      assign(pending, frame.value)
      this.stack.push(frame)
      return frame
    }
    // the pending node, if any, stays null: back out to the collection at this column
    const stack = this.stack
    while (stack.length > 0) {
      const top = stack[stack.length - 1] as Frame
      if (top.indent > col || (top.indent === col && top.sameIndent && top.kind !== kind)) stack.pop()
      else break
    }
    if (stack.length === 0) {
      if (col !== 0 || kind !== 'map' || this.root.line !== 0) throw UNSURE
      this.root = { value: {}, line: this.line }
      const frame: Frame = { kind, indent: 0, sameIndent: false, value: this.root.value }
      stack.push(frame)
      return frame
    }
    const top = stack[stack.length - 1] as Frame
    if (top.indent !== col || top.kind !== kind) throw UNSURE
    return top
  }

  /** A mapping key at `pos` followed by `:` and a space or the line's end (at keyEnd); undefined when the line holds no key there. */
  private key(pos: number): string | undefined {
    const text = this.text
    const end = this.lineEnd
    const first = text.charCodeAt(pos)
    const quoted = first === DQUOTE || first === SQUOTE
    let value: string
    let colon: number
    if (quoted) {
      ;({ value, end: colon } = this.quoted(pos))
    } else {
      if (!isKeyStart(first)) return undefined
      colon = runEnd(KEY_CHARS, text, pos + 1)
      value = text.slice(pos, colon)
    }
    // not followed by `: `: a scalar, not a key
    if (text.charCodeAt(colon) !== COLON || (colon + 1 < end && text.charCodeAt(colon + 1) !== SPACE)) return undefined
    // keys that are not strings, and the one a plain object cannot hold
    if ((!quoted && !isStringKey(value)) || value === '__proto__') throw UNSURE
    this.keyEnd = colon
    return value
  }

  /** The scalar at `pos` to the end of its line (a trailing comment allowed); `parent` is the column of its key or dash. */
  private scalar(pos: number, parent: number, target: Collection, key: string | number): unknown {
    const text = this.text
    const end = this.lineEnd
    const first = text.charCodeAt(pos)
    if (first === DQUOTE || first === SQUOTE) {
      const quoted = this.quoted(pos)
      this.restIsComment(quoted.end)
      return quoted.value
    }
    if (first === 0x7c /* | */ || first === 0x3e /* > */) {
      let next = pos + 1
      const indicator = text.charCodeAt(next)
      if (indicator === DASH || indicator === 0x2b /* + */) next++
      if (next < end && text.charCodeAt(next) !== SPACE) throw UNSURE // an indentation indicator, or not a header
      this.restIsComment(next)
      const chomp = indicator === DASH ? 'strip' : indicator === 0x2b ? 'keep' : 'clip'
      this.block = { target, key, parent, indent: undefined, literal: first === 0x7c, chomp, lines: [] }
      return null
    }
    if (first === 0x7b /* { */ || first === 0x5b /* [ */) {
      const flow = this.flow(pos)
      this.restIsComment(flow.end)
      return flow.value
    }
    // a plain scalar: not starting with an indicator (but `-`, `?` and `:` before a non-space), ending before ` #`, no `: ` inside
    if ('-?:,]}#&*!%@`'.includes(text[pos] as string)) {
      if (!(first === DASH || first === 0x3f || first === COLON) || pos + 1 === end || text.charCodeAt(pos + 1) === SPACE) throw UNSURE
    }
    // the first ` #` on the line (not at pos: a `#` there is no plain scalar), else the line's end
    PLAIN_END.lastIndex = pos
    const found = PLAIN_END.exec(text)
    const stop = found && found.index < end && text.charCodeAt(found.index) === SPACE ? found.index + 1 : end
    let last = stop
    while (last > pos && text.charCodeAt(last - 1) === SPACE) last--
    const value = text.slice(pos, last)
    if (value.includes(': ') || value.endsWith(':')) throw UNSURE
    return resolvePlain(value)
  }

  /**
   * A flow collection on one line, `[a, "b", 1]` or `{ a: 1, "b": c }`, of
   * scalars only: plain ones of name-like characters, or quoted ones. `end` is
   * just after its closing bracket. Anything else (nesting, empty entries, a
   * trailing comma, spaces inside a plain scalar) is left to the library.
   */
  private flow(pos: number): { value: Collection; end: number } {
    const text = this.text
    const isMap = text.charCodeAt(pos) === 0x7b
    const close = isMap ? 0x7d : 0x5d
    const value: Collection = isMap ? {} : []
    let i = this.skipSpaces(pos + 1)
    if (text.charCodeAt(i) === close) return { value, end: i + 1 }
    for (;;) {
      if (isMap) {
        const key = this.flowScalar(i)
        if (typeof key.value !== 'string' || key.value === '__proto__' || Object.hasOwn(value, key.value)) throw UNSURE
        // `key: value`, the colon right after the key
        if (text.charCodeAt(key.end) !== COLON || text.charCodeAt(key.end + 1) !== SPACE) throw UNSURE
        const entry = this.flowScalar(this.skipSpaces(key.end + 1))
        ;(value as Record<string, unknown>)[key.value] = entry.value
        i = this.skipSpaces(entry.end)
      } else {
        const item = this.flowScalar(i)
        ;(value as unknown[]).push(item.value)
        i = this.skipSpaces(item.end)
      }
      const c = text.charCodeAt(i)
      if (c === close) return { value, end: i + 1 }
      if (c !== 0x2c /* , */) throw UNSURE
      i = this.skipSpaces(i + 1)
      if (text.charCodeAt(i) === close) throw UNSURE // a trailing comma
    }
  }

  /** A scalar inside a flow collection: quoted, or plain of `[A-Za-z0-9_./-]` (a key's value resolved as a plain key would be). */
  private flowScalar(pos: number): { value: unknown; end: number } {
    const text = this.text
    const first = text.charCodeAt(pos)
    if (first === DQUOTE || first === SQUOTE) return this.quoted(pos)
    const end = runEnd(KEY_CHARS, text, pos)
    // nothing, or a plain scalar starting with `-` (a list indicator before a space) or `.` (`.inf`), ...: resolved below; `-` alone is not plain
    if (end === pos || (first === DASH && end === pos + 1)) throw UNSURE
    return { value: resolvePlain(text.slice(pos, end)), end }
  }

  private skipSpaces(pos: number): number {
    let i = pos
    while (i < this.lineEnd && this.text.charCodeAt(i) === SPACE) i++
    return i
  }

  /** A single- or double-quoted scalar closed on this line; `end` is just after its closing quote. */
  private quoted(pos: number): { value: string; end: number } {
    const text = this.text
    const end = this.lineEnd
    let i = pos + 1
    if (text.charCodeAt(pos) === DQUOTE) {
      let escaped = false
      for (; i < end; i++) {
        const c = text.charCodeAt(i)
        if (c === 0x5c /* \ */) {
          if (i + 1 >= end || !SIMPLE_ESCAPE.has(text[i + 1] as string)) throw UNSURE
          escaped = true
          i++
        } else if (c === DQUOTE) {
          break
        }
      }
      if (i >= end) throw UNSURE
      const raw = text.slice(pos + 1, i)
      return { value: escaped ? unescapeDoubleQuoted(raw) : raw, end: i + 1 }
    }
    for (; i < end; i++) {
      if (text.charCodeAt(i) === SQUOTE) {
        if (text.charCodeAt(i + 1) === SQUOTE) i++
        else break
      }
    }
    if (i >= end) throw UNSURE
    return { value: text.slice(pos + 1, i).replace(/''/g, "'"), end: i + 1 }
  }

  /** After a value: nothing but spaces and a comment to the line's end. */
  private restIsComment(pos: number): void {
    const text = this.text
    const end = this.lineEnd
    let i = pos
    while (i < end && text.charCodeAt(i) === SPACE) i++
    if (i === end) return
    if (text.charCodeAt(i) !== HASH || i === pos) throw UNSURE
  }

  private endDocument(): void {
    this.endBlock()
    if (this.root.line !== 0) this.documents.push(this.root)
    this.stack = []
    this.pending = undefined
    this.root = { value: {}, line: 0 }
  }
}
