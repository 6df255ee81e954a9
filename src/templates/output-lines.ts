import { HomelabError } from '../errors.js'

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
  if (output === undefined) return undefined
  // a line that is all {{…}} (a partial, a block helper, a value alone) could have rendered anything: no evidence
  const lines = template.split('\n').map((source) => (/\S/.test(source.replace(TAG, '')) ? source : undefined))
  // the same text first (a line without {{…}} renders as itself), then a line whose {{…}} can fill in to it
  for (const matches of [(source: string) => source === output, (source: string) => linePattern(source).test(output)]) {
    if (lines[line - 1] !== undefined && matches(lines[line - 1] as string)) return line
    const found = lines.flatMap((source, i) => (source !== undefined && matches(source) ? [i + 1] : []))
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

/**
 * An error located in a rendered file, moved to the template line it came
 * from; when that cannot be told, it names the template file only and quotes
 * the rendered line, so that the user can find it.
 */
export function locateInTemplate(error: HomelabError, template: { file: string; source: string }, rendered: string): HomelabError {
  const at = error.location
  if (!at || at.file !== template.file || at.line === undefined) return error
  const line = templateLineOf(template.source, rendered, at.line)
  if (line !== undefined) {
    const source = template.source.split('\n')[line - 1] ?? ''
    const firstTag = source.indexOf('{{')
    // a column inside or after a {{…}} is one of the output, not of the template
    const col = at.col !== undefined && (firstTag === -1 || at.col - 1 <= firstTag) ? at.col : undefined
    if (line === at.line && col === at.col) return error
    return new HomelabError(error.message, { location: { file: at.file, line, col }, hint: error.hint, cause: error })
  }
  const text = (rendered.split('\n')[at.line - 1] ?? '').trim()
  const quoted = text.length > 80 ? `${text.slice(0, 77)}...` : text
  return new HomelabError(`${error.message}; it is on line ${at.line} of what the template rendered: ${quoted}`, {
    location: { file: at.file },
    hint: error.hint,
    cause: error,
  })
}
