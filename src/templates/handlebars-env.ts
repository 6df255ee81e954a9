import Handlebars from 'handlebars'
import { HomelabError } from '../errors.js'
import { HELPER_USAGE, helpers } from './helpers.js'
import type { TemplatePartial } from './load-templates.js'
import { PartialCalls } from './partial-calls.js'
import type { TracedRender } from './partial-calls.js'
import { CALL_SITE_HELPER, prepareTemplate } from './template-ast.js'
import { templateError } from './template-errors.js'

export interface CompiledTemplate {
  (context: object): string
  /**
   * Render again, telling where each shared partial's output went in
   * `rendered` (what the first render gave); undefined when that cannot be told.
   */
  trace(context: object, rendered: string): TracedRender | undefined
}

const compileOptions: CompileOptions = {
  noEscape: true, // YAML, not HTML: values go through quote/toYaml instead
  strict: true, // a missing field is an error, not an empty string
  // log is a Handlebars built-in that prints to stdout: the core never prints
  knownHelpers: { ...Object.fromEntries(Object.keys(helpers).map((name) => [name, true])), [CALL_SITE_HELPER]: true, log: false },
  knownHelpersOnly: true, // a misspelt helper fails at compile time
}

/** What each environment knows of the partial calls running in it. */
const partialCalls = new WeakMap<typeof Handlebars, PartialCalls>()

/**
 * One isolated Handlebars environment with the helpers and the shared
 * partials, each compiled now: a syntax error in a partial is reported at
 * the partial's file, whether or not a template uses it. Prototype access
 * stays blocked (the Handlebars default).
 */
export function createHandlebars(partials: readonly TemplatePartial[]): typeof Handlebars {
  const env = Handlebars.create()
  env.unregisterHelper('log')
  for (const [name, helper] of Object.entries(helpers)) env.registerHelper(name, checkedHelper(name, helper))
  const calls = new PartialCalls(partials.map((partial) => partial.name))
  partialCalls.set(env, calls)
  env.registerHelper(CALL_SITE_HELPER, calls.noteCall)
  env.registerDecorator('inline', calls.inlineDecorator)
  for (const partial of partials) {
    const compiled = compileSource(env, partial.source, partial.file)
    env.registerPartial(partial.name, calls.partial(partial.file, partial.source, compiled) as unknown as Handlebars.Template)
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

/** Compile a template's source; syntax errors and unknown helpers become errors at its file, line and column. */
export function compileTemplate(env: typeof Handlebars, source: string, file: string): CompiledTemplate {
  const compiled = compileSource(env, source, file)
  const calls = partialCalls.get(env) as PartialCalls
  const render = (context: object) => calls.renderTemplate(file, () => compiled(context), source)
  const trace = (context: object, rendered: string) => {
    // a render that has the marks in its own text cannot be told apart from them
    if (/[\u0000-\u0002]/.test(rendered)) return undefined
    const traced = calls.trace(file, () => compiled(context), source)
    return traced?.text === rendered ? traced : undefined
  }
  return Object.assign(render, { trace })
}

type Delegate = (context: unknown, options?: object) => string

function compileSource(env: typeof Handlebars, source: string, file: string): Delegate {
  try {
    // compiled now, so that its checks (syntax, unknown helpers) fail here, not at the first render; and once:
    // compile() would compile the source again at its first call
    // precompile's typing says a spec object; it returns the spec's JavaScript source
    const spec = env.precompile(prepareTemplate(env, source), compileOptions) as unknown as string
    return env.template(new Function(`return ${spec}`)() as ReturnType<typeof env.precompile>) as Delegate
  } catch (error) {
    throw templateError(error, file, source)
  }
}
