import Handlebars from 'handlebars'
import { HomelabError, isHomelabError } from '../errors.js'
import { HELPER_USAGE, helpers } from './helpers.js'
import type { TemplatePartial } from './load-templates.js'

export type CompiledTemplate = (context: object) => string

const compileOptions: CompileOptions = {
  noEscape: true, // YAML, not HTML: values go through quote/toYaml instead
  strict: true, // a missing field is an error, not an empty string
  // log is a Handlebars built-in that prints to stdout: the core never prints
  knownHelpers: { ...Object.fromEntries(Object.keys(helpers).map((name) => [name, true])), log: false },
  knownHelpersOnly: true, // a misspelt helper fails at compile time
}

/**
 * One isolated Handlebars environment with the helpers and the shared
 * partials. Prototype access stays blocked (the Handlebars default).
 */
export function createHandlebars(partials: readonly TemplatePartial[]): typeof Handlebars {
  const env = Handlebars.create()
  env.unregisterHelper('log')
  for (const [name, helper] of Object.entries(helpers)) env.registerHelper(name, checkedHelper(name, helper))
  for (const partial of partials) {
    try {
      env.registerPartial(partial.name, env.compile(partial.source, compileOptions))
    } catch (error) {
      throw templateError(error, partial.file, partial.source)
    }
  }
  return env
}

/** Helpers that may be handed a missing value on purpose. */
const TAKES_MISSING = new Set(['default', 'required', 'eq', 'ne', 'and', 'or', 'not'])

interface HelperOptions {
  loc?: { start?: { line: number; column: number } }
}

/**
 * Handlebars' strict mode checks `{{a.b}}` but not a helper's arguments, so a
 * misspelt `{{quote options.nmae}}` would render "". Reject missing arguments
 * here, and give every helper error the position of its call.
 */
function checkedHelper(name: string, helper: (...args: unknown[]) => unknown) {
  const takesMissing = TAKES_MISSING.has(name)
  // where the call is, for an error: worked out only then
  const locationOf = (args: unknown[]) => {
    const start = (args[args.length - 1] as HelperOptions)?.loc?.start
    return { file: '', line: start?.line, col: start === undefined ? undefined : start.column + 1 }
  }
  const usage = HELPER_USAGE[name] ?? name
  const named = usage.split(' ').length - 1
  const variadic = usage.endsWith('…')
  const wanted = variadic ? named - 1 : named
  return (...args: unknown[]) => {
    // the last argument is Handlebars' options object
    const given = args.length - 1
    if (variadic ? given < wanted : given !== wanted) {
      const count = `${variadic ? `${wanted} or more values` : wanted === 1 ? 'one value' : `${wanted} values`}`
      throw new HomelabError(`${name} takes ${count}, as {{${usage}}}, and was given ${given}`, { location: locationOf(args) })
    }
    if (!takesMissing) {
      // the last argument is Handlebars' options object
      for (let i = 0; i < args.length - 1; i++) {
        if (args[i] === undefined) {
          throw new HomelabError(`${name} was given a value that is not defined`, {
            location: locationOf(args),
            hint: 'check the spelling of the field; every option a template uses needs a default in template.yaml (or use default/required)',
          })
        }
      }
    }
    try {
      return helper(...args)
    } catch (error) {
      if (error instanceof HomelabError && !error.location) throw new HomelabError(error.message, { location: locationOf(args), hint: error.hint })
      throw error
    }
  }
}

/** Compile a template's source; syntax errors and unknown helpers become errors at its file and line. */
export function compileTemplate(env: typeof Handlebars, source: string, file: string): CompiledTemplate {
  let compiled: HandlebarsTemplateDelegate
  try {
    // compiled now, so that its checks (syntax, unknown helpers) fail here, not at the first render; and once:
    // compile() would compile the source again at its first call
    // precompile's typing says a spec object; it returns the spec's JavaScript source
    const spec = env.precompile(source, compileOptions) as unknown as string
    compiled = env.template(new Function(`return ${spec}`)() as ReturnType<typeof env.precompile>)
  } catch (error) {
    throw templateError(error, file, source)
  }
  return (context) => {
    try {
      return compiled(context)
    } catch (error) {
      throw templateError(error, file)
    }
  }
}

/**
 * Handlebars puts positions only in its message text: `Parse error on line 3:`,
 * `"x" not defined in [object Object] - 5:13` (column from 0). Pull them out so
 * the error points at the template file.
 */
export function templateError(error: unknown, file: string, source?: string): HomelabError {
  if (isHomelabError(error)) {
    if (error.location?.file) return error
    return new HomelabError(error.message, { location: { ...error.location, file }, hint: error.hint })
  }
  const message = error instanceof Error ? error.message : String(error)
  const parse = /^Parse error on line (\d+):/.exec(message)
  if (parse) {
    const expecting = /Expecting (.*?), got '?([A-Z_]+)'?$/m.exec(message)
    if (expecting?.[2] === 'EOF' && source !== undefined) {
      const open = unclosedBlock(source)
      if (open) {
        return new HomelabError(`{{${open.sigil}${open.name}}} is not closed: add {{/${open.name}}} where its block ends`, {
          location: { file, line: open.line, col: open.col },
        })
      }
    }
    const tokens = expecting?.[1]?.split(', ').map((token) => token.replace(/'/g, '')) ?? []
    // a tag not closed is the usual mistake: say that, not the parser's dozen alternatives
    const expected = tokens.includes('CLOSE') ? ['}} to end the {{…}}'] : tokens.map((token) => TOKEN_WORDS[token] ?? token.toLowerCase())
    const got = expecting?.[2]
    const detail = got ? `: expected ${[...new Set(expected)].slice(0, 4).join(' or ')}, got ${TOKEN_WORDS[got] ?? got.toLowerCase()}` : ''
    return new HomelabError(`template syntax error${detail}`, { location: { file, line: Number(parse[1]) } })
  }
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
    return new HomelabError(`unknown helper "${unknownHelper[1]}"`, {
      location: { file, line: Number(unknownHelper[2]), col: Number(unknownHelper[3]) + 1 },
      hint: `helpers: ${Object.keys(helpers).join(', ')}, and the built-in if, unless, each, with`,
    })
  }
  const positioned = / - (\d+):(\d+)$/.exec(message)
  return new HomelabError(message.split('\n')[0]?.replace(/ - \d+:\d+$/, '') ?? message, {
    location: positioned ? { file, line: Number(positioned[1]), col: Number(positioned[2]) + 1 } : { file },
  })
}

/** The parser's token names, in the words of a template. */
const TOKEN_WORDS: Record<string, string> = {
  CLOSE: '}}',
  CLOSE_UNESCAPED: '}}}',
  CLOSE_RAW_BLOCK: '}}}}',
  OPEN_SEXPR: '(',
  CLOSE_SEXPR: ')',
  ID: 'a name',
  STRING: 'a string',
  NUMBER: 'a number',
  BOOLEAN: 'true or false',
  DATA: '@name',
  SEP: '.',
  INVALID: 'a character that cannot stand there',
  EOF: 'the end of the file',
  OPEN_ENDBLOCK: '{{/…}}',
  INVERSE: '{{else}}',
  OPEN_INVERSE_CHAIN: '{{else …}}',
}

/**
 * The innermost block left open at the end of a template, where it opens:
 * the parser only says it reached the end of the file, which is no help in
 * finding the `{{#if}}` that lacks its `{{/if}}`.
 */
function unclosedBlock(source: string): { sigil: string; name: string; line: number; col: number } | undefined {
  const open: Array<{ sigil: string; name: string; line: number; col: number }> = []
  const tag = /\{\{~?\s*(?:([#^])\s*>?\s*([^\s}~()]+)|\/\s*([^\s}~]+))/g
  for (let match = tag.exec(source); match; match = tag.exec(source)) {
    if (match[2] !== undefined) {
      const before = source.slice(0, match.index)
      const line = before.split('\n').length
      open.push({ sigil: match[1] as string, name: match[2], line, col: match.index - before.lastIndexOf('\n') })
    } else if (open.length > 0 && open[open.length - 1]?.name === match[3]) {
      open.pop()
    }
  }
  return open[open.length - 1]
}
