import type Handlebars from 'handlebars'
import { HomelabError } from '../errors.js'
import { HELPER_USAGE } from './helpers.js'
import { unknownHelperError } from './template-errors.js'

type Program = hbs.AST.Program
type Node = hbs.AST.Node

/**
 * The helper every `{{> name}}` hands its context through, so that the
 * partial knows the line it was called from: Handlebars gives a partial no
 * location of its call. With a space in its name, a template can reach it
 * only as `[partial call site]`, which is refused as an unknown helper.
 */
export const CALL_SITE_HELPER = 'partial call site'

/** Handlebars' own block helpers, as they are called. */
const BLOCK_USAGE: Record<string, string> = {
  if: '#if condition',
  unless: '#unless condition',
  with: '#with object',
  each: '#each list',
}
const LOOKUP_USAGE = 'lookup object key'

/**
 * Parse a template or partial into the tree Handlebars compiles, check what
 * Handlebars would only fail on at render time (and then without a
 * position), and mark every partial call with its position.
 * Parse errors are thrown as Handlebars throws them.
 */
export function prepareTemplate(env: typeof Handlebars, source: string): Program {
  // whitespace control is left to the compiler, which runs it on the tree: the marks do not change what it sees
  const program = env.parseWithoutProcessing(source)
  forEachStatement(program, (node, chained) => {
    for (const call of callsOf(node)) checkCall(call, chained)
    if (node.type === 'PartialStatement' || node.type === 'PartialBlockStatement') markCall(node as hbs.AST.PartialStatement)
  })
  return program
}

/** Each statement, and whether it is the `{{else if …}}` of a chain (the only statement of a program marked chained). */
function forEachStatement(program: Program, visit: (node: Node, chained: boolean) => void): void {
  const chained = (program as { chained?: boolean }).chained === true
  for (const node of program.body) {
    visit(node, chained)
    const block = node as Partial<hbs.AST.BlockStatement>
    if (block.program) forEachStatement(block.program, visit)
    if (block.inverse) forEachStatement(block.inverse, visit)
  }
}

/**
 * `{{> name}}` becomes `{{> name ([partial call site] this)}}`, which is what
 * Handlebars compiles it to anyway (a partial's context is `this` unless
 * given), with the helper in between; `{{> name ctx}}` keeps `ctx`.
 */
function markCall(node: hbs.AST.PartialStatement): void {
  if (node.params.length > 1) return // Handlebars refuses it, at its position
  const path = (parts: string[], original: string): hbs.AST.PathExpression => ({ type: 'PathExpression', data: false, depth: 0, parts, original, loc: node.loc })
  const context = node.params[0] ?? path([], 'this')
  const call: hbs.AST.SubExpression = { type: 'SubExpression', path: path([CALL_SITE_HELPER], CALL_SITE_HELPER), params: [context], hash: undefined as unknown as hbs.AST.Hash, loc: node.loc }
  node.params = [call]
}

/** Each helper call of a statement, block or sub-expression, with its arguments. */
interface Call {
  kind: 'block' | 'value'
  name: string
  params: number
  loc: hbs.AST.SourceLocation
}

function callsOf(node: Node): Call[] {
  const calls: Call[] = []
  const expression = (value: Node | undefined): void => {
    if (!value) return
    const withParams = value as Partial<hbs.AST.SubExpression>
    if (value.type === 'SubExpression') add('value', value as hbs.AST.SubExpression)
    for (const param of withParams.params ?? []) expression(param)
    for (const pair of withParams.hash?.pairs ?? []) expression(pair.value)
  }
  const add = (kind: Call['kind'], call: hbs.AST.SubExpression | hbs.AST.MustacheStatement | hbs.AST.BlockStatement) => {
    const path = call.path as hbs.AST.PathExpression
    if (path.type !== 'PathExpression' || path.data || path.depth !== 0 || path.parts.length !== 1) return
    calls.push({ kind, name: path.original, params: call.params.length, loc: call.loc })
  }
  switch (node.type) {
    case 'MustacheStatement':
      add('value', node as hbs.AST.MustacheStatement)
      break
    case 'BlockStatement':
      add('block', node as hbs.AST.BlockStatement)
      break
    case 'PartialStatement':
    case 'PartialBlockStatement':
      expression((node as hbs.AST.PartialStatement).name) // a partial named by a (sub-expression)
      break
  }
  const withParams = node as Partial<hbs.AST.SubExpression>
  for (const param of withParams.params ?? []) expression(param)
  for (const pair of withParams.hash?.pairs ?? []) expression(pair.value)
  return calls
}

function checkCall(call: Call, chained: boolean): void {
  const location = { file: '', line: call.loc.start.line, col: call.loc.start.column + 1 }
  if (call.name === CALL_SITE_HELPER) throw unknownHelperError(call.name, location)
  // own keys only: a helper may be called "constructor"
  const block = Object.hasOwn(BLOCK_USAGE, call.name) ? BLOCK_USAGE[call.name] : undefined
  if (block !== undefined) {
    if (call.kind !== 'block') {
      throw new HomelabError(`${call.name} is a block: write {{${block}}}…{{/${call.name}}}`, { location })
    }
    if (call.params !== 1) {
      const chain = chained && call.kind === 'block'
      const written = chain ? `{{else ${block.slice(1)}}}` : `{{${block}}}…{{/${call.name}}}`
      throw new HomelabError(`${chain ? `{{else ${call.name}}}` : `{{#${call.name}}}`} takes one value, as ${written}, and was given ${call.params}`, { location })
    }
    return
  }
  if (call.name === 'lookup' && call.params !== 2) {
    throw new HomelabError(`lookup takes two values, as {{${LOOKUP_USAGE}}}, and was given ${call.params}`, { location })
  }
  if (call.kind === 'block' && Object.hasOwn(HELPER_USAGE, call.name)) {
    throw new HomelabError(`${call.name} is not a block: write {{${HELPER_USAGE[call.name]}}}, without # and {{/${call.name}}}`, { location })
  }
}
