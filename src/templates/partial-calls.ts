import Handlebars from 'handlebars'
import { HomelabError, isHomelabError } from '../errors.js'
import { templateError } from './template-errors.js'

type Delegate = (context: unknown, options?: PartialOptions) => string

interface PartialOptions {
  indent?: string
  fn?: Delegate & { partials?: Record<string, Delegate> }
  data?: Record<string, unknown>
  partials?: Record<string, Delegate>
}

/** Template or partial code running: where its errors are, and the includes that led to it. */
interface Frame {
  file: string
  /** Its source, for the lines of a block or inline partial it defined; undefined if not known. */
  source?: string
  /** `file:line:col` of each `{{> …}}` that led here, innermost first; empty for a template. */
  includedFrom: string[]
}

/** Where the output of one shared partial sits in a traced render. */
export interface PartialSpan {
  file: string
  source: string
  /** Offsets in the rendered text: [start, end), with the partial's final newline. */
  start: number
  end: number
  /** The indentation Handlebars put before every line of it after the first (a partial alone on its line is indented). */
  indent: string
  includedFrom: string[]
  /**
   * The block of a `{{#> partial}}` or an inline partial: code of `file`
   * that does not start at its first line.
   */
  block?: boolean
}

/** A traced render: the same text, and where each shared partial's output went. */
export interface TracedRender {
  text: string
  spans: PartialSpan[]
}

// marks around a partial's output in a traced render; a render whose text has them already is not traced
const OPEN = '\u0000'
const ID_END = '\u0001'
const CLOSE = '\u0002'

/**
 * Handlebars renders a partial inside the template that includes it, and
 * gives a partial no location of its call, so an error inside a partial
 * would be reported at the includer's file with the partial's line. This
 * keeps track of whose code is running: each `{{> …}}` notes its position
 * (see template-ast.ts), each shared partial runs in a frame of its own, and
 * an error is placed in the file whose code threw it, saying where that
 * file was included from.
 */
export class PartialCalls {
  private readonly frames: Frame[] = []
  private callSite: { line: number; col: number } | undefined
  private tracing: TraceEntry[] | undefined

  constructor(private readonly partialNames: readonly string[]) {}

  /** The helper each `{{> …}}` hands its context through: it notes where the call is. */
  readonly noteCall = (context: unknown, options: { loc?: { start?: { line: number; column: number } } }): unknown => {
    const start = options?.loc?.start
    this.callSite = start ? { line: start.line, col: start.column + 1 } : undefined
    return context
  }

  /** Render a template; an error from its own code is placed in its file. */
  renderTemplate(file: string, render: () => string, source?: string): string {
    this.callSite = undefined
    return this.run({ file, source, includedFrom: [] }, render)
  }

  /** Render a template again, marking where each shared partial's output goes; undefined when that cannot be told. */
  trace(file: string, render: () => string, source?: string): TracedRender | undefined {
    this.tracing = []
    let marked: string
    const entries = this.tracing
    try {
      marked = this.renderTemplate(file, render, source)
    } catch {
      return undefined
    } finally {
      this.tracing = undefined
    }
    return unmark(marked, entries)
  }

  /** A shared partial, as registered with Handlebars. */
  partial(file: string, source: string, compiled: Delegate): Delegate {
    return (context, options = {}) => {
      const includer = this.frames[this.frames.length - 1] ?? { file: 'a template', includedFrom: [] }
      const site = this.callSite
      this.callSite = undefined
      if (includer.includedFrom.length >= MAX_DEPTH) {
        // stopped here, not by running out of stack: Node can crash outright then, rather than throw
        const message = `partials nest more than ${MAX_DEPTH} deep here${includedFromText(includer.includedFrom)}`
        throw new HomelabError(message, { location: { file: includer.file, ...site }, hint: 'a partial that includes itself needs a condition that stops it ({{#if}})' })
      }
      if (options.fn && options.fn !== (Handlebars.VM as unknown as { noop: unknown }).noop) this.keepBlockWith(includer, options)
      const frame = { file, source, includedFrom: [site ? `${includer.file}:${site.line}:${site.col}` : includer.file, ...includer.includedFrom] }
      return this.mark(frame, options, false, this.run(frame, () => compiled(context, options)))
    }
  }

  /**
   * Handlebars' `inline` decorator, with each inline partial run as code of
   * the file that defines it, whichever partial renders it: the frame
   * running when the definition is met.
   */
  readonly inlineDecorator = (fn: Delegate, props: { partials?: Record<string, Delegate> }, container: { partials: Record<string, Delegate> }, options: { args: unknown[]; fn: Delegate }): Delegate => {
    let wrapped = fn
    if (!props.partials) {
      const partials: Record<string, Delegate> = {}
      props.partials = partials
      // as Handlebars' own: the partials defined here are known while the program runs
      wrapped = (context, runOptions) => {
        const original = container.partials
        container.partials = Handlebars.Utils.extend({}, original, partials)
        const output = fn(context, runOptions)
        container.partials = original
        return output
      }
    }
    const frame = this.frames[this.frames.length - 1]
    const body = options.fn
    props.partials[String(options.args[0])] = frame ? (context, inlineOptions = {}) => this.mark(frame, inlineOptions, true, this.run(frame, () => body(context, inlineOptions))) : body
    return wrapped
  }

  /** A partial's output, with marks around it in a traced render. */
  private mark(frame: Frame, options: PartialOptions, block: boolean, output: string): string {
    if (!this.tracing || output === '') return output
    // code whose source is not known cannot be traced: the trace fails (see trace)
    if (frame.source === undefined) throw new Error('no source to trace')
    const newline = output.endsWith('\n')
    const id = this.tracing.push({ file: frame.file, source: frame.source, indent: options.indent ?? '', includedFrom: frame.includedFrom, newline, block }) - 1
    // the close mark before a final newline: Handlebars indents every line but an empty last one
    return newline ? `${OPEN}${id}${ID_END}${output.slice(0, -1)}${CLOSE}\n` : `${OPEN}${id}${ID_END}${output}${CLOSE}`
  }

  /**
   * `{{#> layout}}content{{/layout}}`: the content is the includer's code
   * that the partial runs (Handlebars made the partial a data frame of its
   * own for it). The inline partials defined in it are, too: see inlineDecorator.
   */
  private keepBlockWith(includer: Frame, options: PartialOptions): void {
    const block = options.data?.['partial-block']
    if (options.data && typeof block === 'function') {
      options.data['partial-block'] = (context: unknown, blockOptions: PartialOptions = {}) =>
        this.mark(includer, blockOptions, true, this.run(includer, () => (block as Delegate)(context, blockOptions)))
    }
  }

  private run(frame: Frame, render: () => string): string {
    this.frames.push(frame)
    try {
      return render()
    } catch (error) {
      throw this.place(error, frame)
    } finally {
      this.frames.pop()
    }
  }

  /** An error not yet placed in a file came from the code of this frame. */
  private place(error: unknown, frame: Frame): unknown {
    if (isHomelabError(error) && error.location?.file) return error
    const missing = /^The partial (.+) could not be found$/.exec(error instanceof Error ? error.message : '')
    let placed: HomelabError
    if (missing?.[1] === '@partial-block' && this.callSite) {
      placed = new HomelabError('{{> @partial-block}} renders the block of a {{#> partial}}…{{/partial}} call, and this call has none', {
        location: { file: frame.file, ...this.callSite },
      })
    } else if (missing && this.callSite) {
      placed = new HomelabError(`partial "${missing[1]}" not found`, {
        location: { file: frame.file, ...this.callSite },
        hint: `partials are the .hbs files in templates/_partials/, by file name: ${this.partialNames.join(', ') || 'there are none'}`,
      })
    } else {
      placed = templateError(error, frame.file)
    }
    if (frame.includedFrom.length === 0) return placed
    return new HomelabError(`${placed.message}${includedFromText(frame.includedFrom)}`, {
      location: placed.location,
      hint: placed.hint,
      cause: error,
    })
  }
}

/** How deep partials may include partials: deeper is a partial that includes itself without end. */
const MAX_DEPTH = 100

/** How many includes an error names: a partial that includes itself without end makes thousands. */
const SHOWN_INCLUDES = 4

/**
 * ` (included from a:1:2, from b:3:4)` for these includes, innermost first,
 * '' for none: the same call over and over once, with how many times, and
 * the first few calls only.
 */
export function includedFromText(includedFrom: readonly string[]): string {
  const folded: Array<{ at: string; times: number }> = []
  for (const at of includedFrom) {
    const last = folded[folded.length - 1]
    if (last?.at === at) last.times++
    else folded.push({ at, times: 1 })
  }
  if (folded.length === 0) return ''
  const shown = folded.slice(0, SHOWN_INCLUDES).map(({ at, times }) => (times > 1 ? `${at} (${times} times)` : at))
  const more = folded.length - SHOWN_INCLUDES
  return ` (included from ${shown.join(', from ')}${more > 0 ? `, and ${more} more` : ''})`
}

interface TraceEntry {
  file: string
  source: string
  indent: string
  includedFrom: string[]
  /** The output ended with a newline, which follows its close mark. */
  newline: boolean
  block: boolean
}

/** The text of a traced render without its marks, and the spans they marked; undefined if the marks do not add up. */
function unmark(marked: string, entries: TraceEntry[]): TracedRender | undefined {
  const spans: PartialSpan[] = []
  const open: Array<{ span: PartialSpan; newline: boolean }> = []
  const parts: string[] = []
  let length = 0
  let from = 0
  const marks = /[\u0000\u0002]/g
  for (let mark = marks.exec(marked); mark; mark = marks.exec(marked)) {
    parts.push(marked.slice(from, mark.index))
    length += mark.index - from
    if (mark[0] === CLOSE) {
      const closed = open.pop()
      if (!closed) return undefined
      closed.span.end = length + (closed.newline ? 1 : 0)
      from = mark.index + 1
      continue
    }
    const idEnd = marked.indexOf(ID_END, mark.index)
    const entry = entries[Number(marked.slice(mark.index + 1, idEnd))]
    if (idEnd === -1 || !entry) return undefined
    const parent = open[open.length - 1]?.span
    const span: PartialSpan = { file: entry.file, source: entry.source, start: length, end: -1, indent: (parent?.indent ?? '') + entry.indent, includedFrom: entry.includedFrom, block: entry.block }
    open.push({ span, newline: entry.newline })
    spans.push(span)
    from = idEnd + 1
    marks.lastIndex = from
  }
  if (open.length > 0 || spans.length !== entries.length) return undefined
  parts.push(marked.slice(from))
  return { text: parts.join(''), spans }
}
