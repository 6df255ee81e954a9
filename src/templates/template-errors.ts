import { HomelabError, isHomelabError } from '../errors.js'
import { helpers } from './helpers.js'

/**
 * Handlebars puts positions only in its message text: `Parse error on line 3:`,
 * `"x" not defined in [object Object] - 5:13` (column from 0). Pull them out so
 * the error points at the template file. `source` (at compile time) lets a
 * syntax error say where on its line it is.
 */
export function templateError(error: unknown, file: string, source?: string): HomelabError {
  if (isHomelabError(error)) {
    if (error.location?.file) return error
    return new HomelabError(error.message, { location: { ...error.location, file }, hint: error.hint, cause: error.cause })
  }
  const message = error instanceof Error ? error.message : String(error)
  const syntax = syntaxError(message, file, source)
  if (syntax) return syntax
  const mismatch = /^(\S+) doesn't match (\S+) - (\d+):(\d+)$/.exec(message)
  if (mismatch) {
    return new HomelabError(`{{/${mismatch[2]}}} closes {{#${mismatch[1]}}}, which is still open: blocks close in the reverse order they open`, {
      location: { file, line: Number(mismatch[3]), col: Number(mismatch[4]) + 1 },
    })
  }
  const strict = /^"?(.*?)"? not defined in .* - (\d+):(\d+)$/.exec(message)
  if (strict) {
    return new HomelabError(`"${strict[1]}" is not defined`, {
      location: { file, line: Number(strict[2]), col: Number(strict[3]) + 1 },
      hint: 'every field a template uses must exist: give options a default in template.yaml, or wrap the use in {{#if}}',
    })
  }
  const unknownHelper = /You specified knownHelpersOnly, but used the unknown helper (\S+) - (\d+):(\d+)/.exec(message)
  if (unknownHelper) {
    return unknownHelperError(unknownHelper[1] ?? '', { file, line: Number(unknownHelper[2]), col: Number(unknownHelper[3]) + 1 })
  }
  const partialArguments = /^Unsupported number of partial arguments: (\d+) - (\d+):(\d+)$/.exec(message)
  if (partialArguments) {
    return new HomelabError(`{{> partial}} takes one value (the context it renders with) and key=value pairs, and was given ${partialArguments[1]} values`, {
      location: { file, line: Number(partialArguments[2]), col: Number(partialArguments[3]) + 1 },
    })
  }
  const positioned = / - (\d+):(\d+)$/.exec(message)
  return new HomelabError(message.split('\n')[0]?.replace(/ - \d+:\d+$/, '') ?? message, {
    location: positioned ? { file, line: Number(positioned[1]), col: Number(positioned[2]) + 1 } : { file },
  })
}

export function unknownHelperError(name: string, location: { file: string; line: number; col: number }): HomelabError {
  return new HomelabError(`unknown helper "${name}"`, {
    location,
    hint: `helpers: ${Object.keys(helpers).join(', ')}, and the built-in if, unless, each, with, lookup`,
  })
}

interface Position {
  line: number
  col: number
  /** Index in the source. */
  offset: number
}

/**
 * A parse or lexical error of Handlebars' parser, in one line: where it is
 * and, in a template's words, what was expected there.
 */
function syntaxError(message: string, file: string, source: string | undefined): HomelabError | undefined {
  const head = /^(Parse|Lexical) error on line (\d+)[:.]/.exec(message)
  if (!head) return undefined
  const line = Number(head[2])
  const at = source === undefined ? undefined : stopPosition(message, source, line)
  const fail = (text: string, where: Position | undefined = at) =>
    new HomelabError(text, { location: { file, line: where?.line ?? line, col: where?.col } })

  if (head[1] === 'Lexical') {
    const comment = source === undefined ? undefined : unclosedComment(source)
    if (comment) return fail('{{!-- is not closed: end the comment with --}}', comment)
    return fail('template syntax error: the text from here on cannot be read as a template')
  }

  const expecting = /Expecting (.*?), got '?([^']+)'?$/m.exec(message)
  const tokens = expecting?.[1]?.split(', ').map((token) => token.replace(/'/g, '')) ?? []
  const got = expecting?.[2] === '1' ? 'EOF' : expecting?.[2]
  const tag = at && source !== undefined ? (/^\{\{[^}]*\}\}/.exec(source.slice(at.offset))?.[0] ?? '') : ''

  if (got === 'EOF' && source !== undefined) {
    const open = unclosedBlock(source)
    if (open) {
      return fail(`{{${open.sigil}${open.name}}} is not closed: add {{/${open.name}}} where its block ends`, open)
    }
  }
  if (got === 'INVERSE' || got === 'OPEN_INVERSE_CHAIN') {
    const shown = tag || '{{else}}'
    if (tokens.includes('EOF')) return fail(`${shown} is outside any block: it goes between {{#if …}} (or #unless, #each, #with) and its {{/…}}`)
    if (got === 'INVERSE') return fail(`a second ${shown} in one block: a block has one {{else}}, after any {{else if …}}`)
  }
  if (got === 'OPEN_ENDBLOCK' && tokens.includes('EOF')) {
    return fail(`${tag || '{{/…}}'} closes a block that is not open`)
  }
  const invalid = got === 'INVALID' && at && source !== undefined ? source.charAt(at.offset) : ''
  if (invalid && invalid !== '}' && source !== undefined && at) {
    // a name at the very end is not taken as one: the {{ before it is what is left open
    const tagOpen = source.lastIndexOf('{{', at.offset)
    if (tagOpen !== -1 && !source.includes('}}', tagOpen)) return fail('{{ is not closed: end the tag with }}', positionOf(source, tagOpen))
  }
  if (invalid === '"' || invalid === "'") return fail(`a string opened with ${invalid} is not closed: end it with ${invalid} before }}`)
  if (tokens.length === 1 && tokens[0] === 'EQUALS') {
    // `{{helper a=1 b}}`: after a key=value, b is read as the next key
    return fail('template syntax error: expected = after the name: once a key=value is given, the values after it must be key=value too')
  }
  const before = at && source !== undefined ? source.slice(Math.max(0, at.offset - 200), at.offset) : ''
  if (got && CLOSING_TOKENS.has(got) && tokens.includes('ID')) {
    const key = /([^\s={}()]+)=\s*$/.exec(before)?.[1]
    if (key !== undefined) return fail(`template syntax error: ${key}= has no value: write ${key}=value`)
    if (/\{\{~?#?>\s*$/.test(before)) return fail('template syntax error: the {{> …}} names no partial: write {{> name}}, the name of a file in templates/_partials/')
  }
  const expected = expectedWords(tokens)
  const gotWords = invalid ? JSON.stringify(invalid) : got ? (TOKEN_WORDS[got] ?? got.toLowerCase()) : ''
  const detail = expected.length > 0 && gotWords ? `: expected ${expected.join(' or ')}, got ${gotWords}` : ''
  return fail(`template syntax error${detail}`)
}

/** The parser's alternatives, in a template's words, at most four. */
function expectedWords(tokens: string[]): string[] {
  // a tag or sub-expression not closed is the usual mistake: say that, not the parser's dozen alternatives
  if (tokens.includes('CLOSE_SEXPR') && !tokens.includes('CLOSE')) return [') to end the (…)']
  const close = ['CLOSE', 'CLOSE_UNESCAPED', 'CLOSE_RAW_BLOCK'].find((token) => tokens.includes(token))
  if (close) return [`${TOKEN_WORDS[close]} to end the ${close === 'CLOSE_UNESCAPED' ? '{{{…}}}' : close === 'CLOSE_RAW_BLOCK' ? '{{{{…}}}}' : '{{…}}'}`]
  const values = tokens.filter((token) => VALUE_TOKENS.has(token))
  const words = tokens.map((token) => (values.length >= 3 && VALUE_TOKENS.has(token) ? 'a value' : STATEMENT_TOKENS.has(token) ? 'text or a {{…}}' : (TOKEN_WORDS[token] ?? token.toLowerCase())))
  return [...new Set(words)].slice(0, 4)
}

const CLOSING_TOKENS = new Set(['CLOSE', 'CLOSE_UNESCAPED', 'CLOSE_SEXPR', 'CLOSE_RAW_BLOCK'])
const VALUE_TOKENS = new Set(['OPEN_SEXPR', 'ID', 'STRING', 'NUMBER', 'BOOLEAN', 'UNDEFINED', 'NULL', 'DATA'])
const STATEMENT_TOKENS = new Set(['COMMENT', 'CONTENT', 'OPEN_RAW_BLOCK', 'OPEN_BLOCK', 'OPEN_INVERSE', 'OPEN', 'OPEN_UNESCAPED', 'OPEN_PARTIAL', 'OPEN_PARTIAL_BLOCK'])

/** The parser's token names, in the words of a template. */
const TOKEN_WORDS: Record<string, string> = {
  CLOSE: '}}',
  CLOSE_UNESCAPED: '}}}',
  CLOSE_RAW_BLOCK: '}}}}',
  OPEN_SEXPR: '(',
  CLOSE_SEXPR: ')',
  ID: 'a name',
  STRING: 'a "string"',
  NUMBER: 'a number',
  BOOLEAN: 'true or false',
  UNDEFINED: 'undefined',
  NULL: 'null',
  DATA: '@name',
  SEP: '.',
  EQUALS: '=',
  OPEN_BLOCK_PARAMS: 'as |…|',
  CLOSE_BLOCK_PARAMS: '|',
  INVALID: 'a character that cannot stand there',
  EOF: 'the end of the file',
  OPEN_ENDBLOCK: '{{/…}}',
  END_RAW_BLOCK: '{{{{/…}}}}',
  INVERSE: '{{else}}',
  OPEN_INVERSE_CHAIN: '{{else …}}',
}

/**
 * Where the parser stopped. Its message shows the 20 characters before that
 * point and the 20 from it, with newlines dropped, and a caret under the
 * point; its line is that of the last token it took, which can be above. The
 * one place in the source with that text around it is the point; if there is
 * not exactly one (or the parser's own record of the text is off, as after a
 * `{{!-- --}}` comment), the column is not known.
 */
function stopPosition(message: string, source: string, line: number): Position | undefined {
  const [, excerpt, caret] = message.split('\n')
  if (excerpt === undefined || caret === undefined || !/^-*\^$/.test(caret)) return undefined
  const before = excerpt.slice(0, caret.length - 1).replace(/^\.\.\./, '')
  const after = excerpt.slice(caret.length - 1)
  let lineStart = 0
  for (let n = 1; n < line; n++) {
    const next = source.indexOf('\n', lineStart)
    if (next === -1) return undefined
    lineStart = next + 1
  }
  const found: number[] = []
  for (let i = lineStart; i <= source.length && found.length < 2; i++) {
    // the message drops newlines, so a point just before one reads the same as just after it: take the after
    if (source[i] === '\n' || (after !== '' && source[i] !== after[0])) continue
    if (source.slice(Math.max(0, i - 20), i).replace(/\n/g, '') !== before) continue
    const next = source.slice(i, i + 20).replace(/\n/g, '')
    if (after === next || after === `${next}...` || (after.endsWith('...') && next.startsWith(after.slice(0, -3)))) found.push(i)
  }
  return found.length === 1 ? positionOf(source, found[0] as number) : undefined
}

function positionOf(source: string, offset: number): Position {
  const before = source.slice(0, offset)
  return { line: before.split('\n').length, col: offset - before.lastIndexOf('\n'), offset }
}

/** The `{{!--` whose comment has no `--}}`: a comment ends at the first `--}}` after it. */
function unclosedComment(source: string): Position | undefined {
  for (let open = source.indexOf('{{!--'); open !== -1; ) {
    const close = source.indexOf('--}}', open + 5)
    if (close === -1) return positionOf(source, open)
    open = source.indexOf('{{!--', close + 4)
  }
  return undefined
}

/**
 * The innermost block left open at the end of a template, where it opens:
 * the parser only says it reached the end of the file, which is no help in
 * finding the `{{#if}}` that lacks its `{{/if}}`.
 */
function unclosedBlock(source: string): (Position & { sigil: string; name: string }) | undefined {
  const open: Array<Position & { sigil: string; name: string }> = []
  const tag = /\{\{~?\s*(?:([#^])\s*(>?)\s*([^\s}~()]+)|\/\s*([^\s}~]+))/g
  for (let match = tag.exec(source); match; match = tag.exec(source)) {
    if (match[3] !== undefined) {
      open.push({ sigil: `${match[1]}${match[2] ? '> ' : ''}`, name: match[3], ...positionOf(source, match.index) })
    } else if (open.length > 0 && open[open.length - 1]?.name === match[4]) {
      open.pop()
    }
  }
  return open[open.length - 1]
}
