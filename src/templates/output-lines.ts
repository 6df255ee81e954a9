import { HomelabError } from '../errors.js'
import { includedFromText } from './partial-calls.js'
import type { PartialSpan, TracedRender } from './partial-calls.js'

/**
 * Handlebars keeps no map from a rendered file back to its template: a
 * partial, an `{{#each}}`, `nindent` or a false `{{#if}}` above a line moves
 * it. A problem found in the rendered YAML is at a line of the output, which
 * is never written anywhere the user could look it up. This finds the
 * template line it came from when that can be told from the text: the
 * template line of the same number when its literal text (around its
 * `{{…}}`) matches, else the only template line that does.
 */
export function templateLineOf(template: string, rendered: string, line: number): number | undefined {
  const output = rendered.split('\n')[line - 1]
  return output === undefined ? undefined : sourceLineOf(template, output, line)
}

/**
 * The line of `source` that rendered as `output`: line `expected` (where
 * nothing moved it) when it can, else the only line that can. Without
 * `expected`, only the only line that can.
 */
function sourceLineOf(source: string, output: string, expected: number | undefined): number | undefined {
  // a line that is all {{…}} (a partial, a block helper, a value alone) could have rendered anything: no evidence
  const lines = source.split('\n').map((text) => (/\S/.test(text.replace(TAG, '')) ? text : undefined))
  // the same text first (a line without {{…}} renders as itself), then a line whose {{…}} can fill in to it
  for (const matches of [(text: string) => text === output, (text: string) => linePattern(text).test(output)]) {
    const same = expected === undefined ? undefined : lines[expected - 1]
    if (same !== undefined && matches(same)) return expected
    const found = lines.flatMap((text, i) => (text !== undefined && matches(text) ? [i + 1] : []))
    if (found.length === 1) return found[0]
    if (found.length > 1) return undefined // several candidates: no telling which
  }
  return undefined
}

const TAG = /\{\{\{?[^}]*\}?\}\}/g

/** A template line as a pattern for the lines it can render to: its literal text, anything for each `{{…}}`. */
function linePattern(source: string): RegExp {
  const parts = source.split(TAG)
  return new RegExp(`^${parts.map((part) => part.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')).join('[^\\n]*?')}$`)
}

/** The template, or one shared partial's output inside its render. */
type Unit = Omit<PartialSpan, 'source'> & { source: string }

/**
 * An error located in a rendered file, moved to the template line it came
 * from. A line that a shared partial rendered (told by `trace`, a render
 * that marks the partials' output) is looked for in that partial, never in
 * the template. When the line cannot be told, the error names the file only
 * and quotes the rendered line, so that the user can find it.
 */
export function locateInTemplate(
  error: HomelabError,
  template: { file: string; source: string },
  rendered: string,
  trace?: () => TracedRender | undefined,
): HomelabError {
  const at = error.location
  if (!at || at.file !== template.file || at.line === undefined) return error
  const lineStart = offsetOfLine(rendered, at.line)
  if (lineStart === undefined) return error
  const lineEnd = rendered.indexOf('\n', lineStart) === -1 ? rendered.length : rendered.indexOf('\n', lineStart)
  const text = rendered.slice(lineStart, lineEnd)
  const spans = trace?.()?.spans ?? []
  const whole: Unit = { ...template, start: 0, end: rendered.length, indent: '', includedFrom: [] }
  // the innermost partial output that holds all of the line's text
  const first = lineStart + (text.length - text.trimStart().length)
  const last = lineStart + text.trimEnd().length
  const unit = spans.filter((span) => span.start <= first && last <= span.end && first < last).reduce<Unit>((inner, span) => (span.start >= inner.start && span.end <= inner.end ? span : inner), whole)

  const unitLine = rendered.slice(0, unit.start).split('\n').length
  const k = at.line - unitLine + 1 // the line of the unit's output
  const cut = k === 1 ? unit.start - lineStart : text.startsWith(unit.indent) ? unit.indent.length : 0
  const output = text.slice(cut, Math.max(cut, unit.end - lineStart))
  const line = sourceLineOf(unit.source, output, expectedLine(unit, spans, rendered, lineStart, k))
  const included = includedFromText(unit.includedFrom)
  if (line !== undefined) {
    const source = unit.source.split('\n')[line - 1] ?? ''
    const firstTag = source.indexOf('{{')
    const col = at.col === undefined ? undefined : at.col - cut
    // a column inside or after a {{…}} is one of the output, not of the template
    const kept = col !== undefined && col >= 1 && (firstTag === -1 || col - 1 <= firstTag) ? col : undefined
    if (unit === whole && line === at.line && kept === at.col) return error
    return new HomelabError(`${error.message}${included}`, { location: { file: unit.file, line, col: kept }, hint: error.hint, cause: error })
  }
  const shown = text.trim()
  const quoted = shown.length > 80 ? `${shown.slice(0, 77)}...` : shown
  const what = unit === whole ? 'the template' : 'the partial'
  // a block's lines are not counted from anywhere the user could see
  const where = unit.block ? `it is in this line that a {{#> …}} block or an inline partial of it rendered: ${quoted}` : `it is on line ${k} of what ${what} rendered: ${quoted}`
  return new HomelabError(`${error.message}; ${where}${included}`, {
    location: { file: unit.file },
    hint: error.hint,
    cause: error,
  })
}

function offsetOfLine(text: string, line: number): number | undefined {
  let offset = 0
  for (let n = 1; n < line; n++) {
    const next = text.indexOf('\n', offset)
    if (next === -1) return undefined
    offset = next + 1
  }
  return offset
}

/**
 * The line of the unit's source that line k of its output would be, had no
 * partial it includes moved it: a partial's output takes the place of its
 * `{{> …}}`, which took one line when alone on it. Undefined when a partial
 * above was called some other way (a `{{#> …}}` block, from another file,
 * with whitespace control), or the unit is a block.
 */
function expectedLine(unit: Unit, spans: PartialSpan[], rendered: string, lineStart: number, k: number): number | undefined {
  // the block of a {{#> …}} or an inline partial starts at some line of its file, not at the first
  if (unit.block) return undefined
  const inside = spans.filter((span) => span !== unit && span.start >= unit.start && span.end <= unit.end)
  // the partials the unit itself calls: those in no other partial inside it
  const calls = inside.filter((span) => !inside.some((other) => other !== span && other.start <= span.start && span.end <= other.end))
  const sourceLines = unit.source.split('\n')
  let moved = 0
  for (const call of calls) {
    if (call.end > lineStart) continue
    const site = /:(\d+):(\d+)$/.exec(call.includedFrom[0] ?? '')
    if (!site || call.includedFrom[0] !== `${unit.file}${site[0]}`) return undefined
    const callLine = sourceLines[Number(site[1]) - 1] ?? ''
    if (!/^\{\{\s*>[^}]*\}\}/.test(callLine.slice(Number(site[2]) - 1))) return undefined
    // {{~> …}} or {{> …~}}, or a ~ next to it, takes away line breaks around it: no telling how many
    const before = sourceLines[Number(site[1]) - 2] ?? ''
    const after = sourceLines[Number(site[1])] ?? ''
    if (/~\}\}/.test(callLine) || /\{\{~/.test(callLine) || /~\}\}\s*$/.test(before) || /^\s*\{\{~/.test(after)) return undefined
    const alone = /^\s*\{\{~?\s*>[^}]*\}\}\s*$/.test(callLine)
    moved += rendered.slice(call.start, call.end).split('\n').length - 1 - (alone ? 1 : 0)
  }
  return k - moved
}
