import type { ManifestObject } from './check-manifests.js'

/**
 * The quick path of the manifest check: one pass over a rendered file, line
 * by line, without building a parse tree. It reads only the plain block YAML
 * that templates produce (block mappings and lists; plain, single- and
 * double-quoted scalars on one line; `|` and `>` block scalars; empty `{}`
 * and `[]`; comments; `---`) and returns the file's objects only when it is
 * sure the full check (`checkManifestFile`, with the yaml library) would
 * accept the file and find exactly these. Anything else — anchors, aliases,
 * tags, flow collections with content, multi-line plain or quoted scalars,
 * tabs, CR, long lines, `<<`, an indentation it does not follow, a document
 * that is not an object, a missing field — returns undefined, and the file
 * goes through the full parse, which accepts it or finds the error with its
 * line and column. tests/manifest-scan.test.ts holds it to that against the
 * yaml library on thousands of mutated files.
 */
export function scanManifest(text: string, file: string): ManifestObject[] | undefined {
  if (text.charCodeAt(0) === 0xfeff || /[\t\r\u0085\u2028\u2029]|<</.test(text)) return undefined
  return new Scan(text, file).run()
}

/** kubectl's Go YAML reader cannot read back keys longer than this; a line of this length is left to the full check. */
const MAX_LINE = 1024
/** Far below the full check's nesting limit: anything deeper is left to it. */
const MAX_DEPTH = 64

const SPACE = 0x20
const HASH = 0x23
const DASH = 0x2d
const COLON = 0x3a
const DQUOTE = 0x22
const SQUOTE = 0x27

/** What the object fields of a document are read from: its root mapping, and the mapping under its root `metadata` key. */
type Role = 'root' | 'metadata' | undefined

interface Frame {
  kind: 'map' | 'seq'
  /** Column of the keys or dashes. */
  indent: number
  /** A list at the same column as the key it belongs to (`key:\n- a`): ends at the next key of that mapping. */
  sameIndent: boolean
  keys: Set<string> | undefined
  role: Role
}

/** A node whose value may follow on the next lines: `key:` or `-` with nothing after it. */
interface Pending {
  kind: 'key' | 'item'
  /** Column of the key or the dash. */
  col: number
  /** Role of a mapping opened as the value. */
  role: Role
}

/** A `|` or `>` scalar being read: its lines are indented more than `parent`. */
interface BlockScalar {
  parent: number
  /** Column of its content, known from its first non-blank line. */
  indent: number | undefined
}

/** Values of the fields an object is told apart by; undefined: absent. */
interface Fields {
  apiVersion?: string
  kind?: string
  name?: string
  namespace?: string
}

/** Thrown inside the scan: not sure, leave the file to the full check. */
const UNSURE = Symbol('unsure')

/** Plain scalars that the YAML core schema reads as something other than a string, among those starting with a letter. */
const NOT_STRING_WORD = /^(?:[Tt]rue|TRUE|[Ff]alse|FALSE|[Nn]ull|NULL)$/
const LETTER_OR_UNDERSCORE = /[A-Za-z_]/
/** Characters of a plain key: enough for Kubernetes field names, labels and annotations. */
const KEY_CHAR = /[A-Za-z0-9_./-]/
/** Escapes of a double-quoted scalar taken as they are (`\x`, `\u`, `\U`, `\N` and line folding go to the full check). */
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

/** The text of a double-quoted scalar with only SIMPLE_ESCAPEs. */
function unescapeDoubleQuoted(raw: string): string {
  return raw.replace(/\\(.)/g, (_, c: string) => SIMPLE_ESCAPE.get(c) as string)
}

class Scan {
  private readonly objects: ManifestObject[] = []
  private stack: Frame[] = []
  private pending: Pending | undefined
  private block: BlockScalar | undefined
  private fields: Fields = {}
  /** Line of the current document's root mapping; 0: the document has none yet. */
  private rootLine = 0
  private line = 0
  private lineEnd = 0

  constructor(
    private readonly text: string,
    private readonly file: string,
  ) {}

  run(): ManifestObject[] | undefined {
    try {
      this.lines()
      this.endDocument()
      return this.objects
    } catch (error) {
      if (error === UNSURE) return undefined
      throw error
    }
  }

  private lines(): void {
    const text = this.text
    let start = 0
    while (start < text.length) {
      const newline = text.indexOf('\n', start)
      const end = newline === -1 ? text.length : newline
      this.line++
      this.lineEnd = end
      if (end - start > MAX_LINE) throw UNSURE
      let col = 0
      while (start + col < end && text.charCodeAt(start + col) === SPACE) col++
      const blank = start + col === end
      if (this.block && this.blockLine(col, blank)) {
        start = end + 1
        continue
      }
      if (!blank) this.contentLine(start, col)
      start = end + 1
    }
  }

  /** Whether a line belongs to the block scalar being read (else the scalar has ended before it). */
  private blockLine(col: number, blank: boolean): boolean {
    const block = this.block as BlockScalar
    if (blank) {
      // blank lines with spaces before the content: YAML has rules on their length; leave them to the full check
      if (block.indent === undefined && col > 0) throw UNSURE
      return true
    }
    if (block.indent === undefined) {
      if (col > block.parent) {
        block.indent = col
        return true
      }
    } else if (col >= block.indent) {
      return true
    } else if (col > block.parent) {
      throw UNSURE
    }
    this.block = undefined
    return false
  }

  private contentLine(start: number, col: number): void {
    const text = this.text
    const at = start + col
    const first = text.charCodeAt(at)
    if (first === HASH) return // a comment line
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
    const first = text.charCodeAt(pos)
    if (first === DASH && (pos + 1 === end || text.charCodeAt(pos + 1) === SPACE)) {
      this.open('seq', col)
      let next = pos + 1
      while (next < end && text.charCodeAt(next) === SPACE) next++
      this.pending = { kind: 'item', col, role: undefined }
      if (next === end || text.charCodeAt(next) === HASH) return
      this.node(next, col + (next - pos), col)
      return
    }
    const key = this.key(pos)
    if (key) {
      const frame = this.open('map', col)
      if ((frame.keys as Set<string>).has(key.value)) throw UNSURE // a duplicate key: the full check says where
      ;(frame.keys as Set<string>).add(key.value)
      const field = frame.role === 'root' && (key.value === 'apiVersion' || key.value === 'kind') ? key.value : frame.role === 'metadata' && (key.value === 'name' || key.value === 'namespace') ? key.value : undefined
      let next = key.end + 1
      while (next < end && text.charCodeAt(next) === SPACE) next++
      if (next === end || text.charCodeAt(next) === HASH) {
        if (field) throw UNSURE // an object field without a value
        this.pending = { kind: 'key', col, role: frame.role === 'root' && key.value === 'metadata' ? 'metadata' : undefined }
        return
      }
      if (frame.role === 'root' && key.value === 'metadata') throw UNSURE // metadata: a scalar, {} or the like
      const value = this.scalar(next, col)
      if (field) {
        if (value === undefined || value === '') throw UNSURE
        this.fields[field] = value
      }
      return
    }
    // a scalar alone on its line, or after a dash: only the latter is read here
    if (dash === undefined) throw UNSURE
    this.pending = undefined
    this.scalar(pos, dash)
  }

  /**
   * The entry at `col` of a `kind` collection: the value of a pending key or
   * dash, or the next entry of an open collection.
   */
  private open(kind: Frame['kind'], col: number): Frame {
    const pending = this.pending
    this.pending = undefined
    if (pending && (col > pending.col || (kind === 'seq' && pending.kind === 'key' && col === pending.col))) {
      if (this.stack.length >= MAX_DEPTH) throw UNSURE
      const frame: Frame = { kind, indent: col, sameIndent: col === pending.col, keys: kind === 'map' ? new Set() : undefined, role: kind === 'map' ? pending.role : undefined }
      if (pending.role === 'metadata' && kind !== 'map') throw UNSURE
      this.stack.push(frame)
      return frame
    }
    // the pending node, if any, was empty (null): back out to the collection at this column
    const stack = this.stack
    while (stack.length > 0) {
      const top = stack[stack.length - 1] as Frame
      if (top.indent > col || (top.indent === col && top.sameIndent && top.kind !== kind)) stack.pop()
      else break
    }
    if (stack.length === 0) {
      if (col !== 0 || kind !== 'map' || this.rootLine !== 0) throw UNSURE
      this.rootLine = this.line
      const root: Frame = { kind, indent: 0, sameIndent: false, keys: new Set(), role: 'root' }
      stack.push(root)
      return root
    }
    const top = stack[stack.length - 1] as Frame
    if (top.indent !== col || top.kind !== kind) throw UNSURE
    return top
  }

  /** A mapping key at `pos` followed by `:` and a space or the line's end; undefined when the line is not a key. */
  private key(pos: number): { value: string; end: number } | undefined {
    const text = this.text
    const end = this.lineEnd
    const first = text.charCodeAt(pos)
    let value: string
    let colon: number
    if (first === DQUOTE || first === SQUOTE) {
      const quoted = this.quoted(pos)
      value = quoted.value
      colon = quoted.end
    } else {
      if (!LETTER_OR_UNDERSCORE.test(text[pos] as string)) return undefined
      colon = pos + 1
      while (colon < end && KEY_CHAR.test(text[colon] as string)) colon++
      value = text.slice(pos, colon)
    }
    // not followed by `: `: a scalar, not a key
    if (text.charCodeAt(colon) !== COLON || (colon + 1 < end && text.charCodeAt(colon + 1) !== SPACE)) return undefined
    if (first !== DQUOTE && first !== SQUOTE && NOT_STRING_WORD.test(value)) throw UNSURE
    return { value, end: colon }
  }

  /**
   * The scalar value at `pos` to the end of its line (a trailing comment
   * allowed); `parent` is the column of its key or dash. Returns its text when
   * it is certainly a non-empty-or-empty string on this line, undefined for
   * other values (numbers, booleans, block scalars, `{}`).
   */
  private scalar(pos: number, parent: number): string | undefined {
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
      if (text.charCodeAt(next) === DASH || text.charCodeAt(next) === 0x2b /* + */) next++
      if (next < end && text.charCodeAt(next) !== SPACE) throw UNSURE // an indentation indicator, or not a header
      this.restIsComment(next)
      this.block = { parent, indent: undefined }
      return undefined
    }
    if (first === 0x7b /* { */ || first === 0x5b /* [ */) {
      if (text.charCodeAt(pos + 1) !== (first === 0x7b ? 0x7d : 0x5d)) throw UNSURE
      this.restIsComment(pos + 2)
      return undefined
    }
    // a plain scalar: not starting with an indicator, ending before ` #`, no `: ` inside
    if ('-?:,]}#&*!%@`'.includes(text[pos] as string)) {
      // `-`, `?` and `:` may start one when a non-space follows (`-1`, `:8080`)
      if (!(first === DASH || first === 0x3f || first === COLON) || pos + 1 === end || text.charCodeAt(pos + 1) === SPACE) throw UNSURE
    }
    let stop = pos
    while (stop < end && !(text.charCodeAt(stop) === HASH && text.charCodeAt(stop - 1) === SPACE)) stop++
    let last = stop
    while (last > pos && text.charCodeAt(last - 1) === SPACE) last--
    const value = text.slice(pos, last)
    if (value.includes(': ') || value.endsWith(':')) throw UNSURE
    return LETTER_OR_UNDERSCORE.test(value[0] as string) && !NOT_STRING_WORD.test(value) ? value : undefined
  }

  /** A single- or double-quoted scalar closed on this line; `end` is just after its closing quote. */
  private quoted(pos: number): { value: string; end: number } {
    const text = this.text
    const end = this.lineEnd
    const quote = text.charCodeAt(pos)
    let i = pos + 1
    if (quote === DQUOTE) {
      let escaped = false
      for (; i < end; i++) {
        const c = text.charCodeAt(i)
        if (c === 0x5c /* \ */) {
          if (!SIMPLE_ESCAPE.has(text[i + 1] as string) || i + 1 >= end) throw UNSURE
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
    if (this.rootLine !== 0) {
      const { apiVersion, kind, name, namespace } = this.fields
      if (apiVersion === undefined || kind === undefined || name === undefined) throw UNSURE
      this.objects.push({
        id: [apiVersion, kind, namespace ?? '', name].join('/'),
        kind,
        name,
        location: { file: this.file, line: this.rootLine, col: 1 },
      })
    }
    this.stack = []
    this.pending = undefined
    this.block = undefined
    this.fields = {}
    this.rootLine = 0
  }
}
