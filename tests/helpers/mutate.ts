/**
 * The seeded mutation engine of the fuzz tests: a small PRNG (mulberry32; no
 * Math.random, so a seed replays a run exactly) and mutations of a homelab's
 * files (config, template files, template.yaml, partials): deleted, duplicated
 * and swapped lines, changed indentation, hostile values and keys in any
 * field, random template edits.
 */
import { randomInt } from 'node:crypto'
import { isMap, isScalar, parseDocument, visit } from 'yaml'

/** A deterministic source of random numbers. */
export interface Rng {
  /** A float in [0, 1). */
  next(): number
  /** An integer in [0, max). */
  int(max: number): number
  pick<T>(items: readonly T[]): T
  chance(probability: number): boolean
}

/** mulberry32: 32 bits of state, good enough to spread mutations, and identical on every machine. */
export function mulberry32(seed: number): Rng {
  let state = seed >>> 0
  const next = () => {
    state = (state + 0x6d2b79f5) >>> 0
    let t = state
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
  const int = (max: number) => Math.floor(next() * max)
  return { next, int, pick: (items) => items[int(items.length)] as (typeof items)[number], chance: (p) => next() < p }
}

/** The generator of case `index` of a run: independent of the other cases, so one case replays alone. */
export function caseRng(seed: number, index: number): Rng {
  return mulberry32((Math.imul(seed >>> 0, 0x9e3779b1) ^ Math.imul(index + 1, 0x85ebca77)) >>> 0)
}

/** The run's seed: HOMELAB_FUZZ_SEED (to reproduce a failure), else a fresh one. */
export function fuzzSeed(env: NodeJS.ProcessEnv = process.env): number {
  const given = env.HOMELAB_FUZZ_SEED
  if (given !== undefined && given !== '') {
    const seed = Number(given)
    if (!Number.isInteger(seed) || seed < 0 || seed > 0xffffffff) throw new Error(`HOMELAB_FUZZ_SEED must be an integer 0..4294967295, not ${given}`)
    return seed
  }
  return randomInt(0, 0xffffffff)
}

/** How many cases to run: HOMELAB_FUZZ_RUNS, else `fallback`. */
export function fuzzRuns(fallback: number, env: NodeJS.ProcessEnv = process.env): number {
  const given = env.HOMELAB_FUZZ_RUNS
  if (given === undefined || given === '') return fallback
  const runs = Number(given)
  if (!Number.isInteger(runs) || runs < 1) throw new Error(`HOMELAB_FUZZ_RUNS must be a positive integer, not ${given}`)
  return runs
}

/** Values that break naive YAML, templates, paths and terminals. */
export const HOSTILE_VALUES: readonly string[] = [
  '[', ']', '{', '}', '[]', '{}', '&a', '*a', '&a [*a, *a]', '!!binary', '!!binary aGVsbG8=', '!!js/function "f(){}"',
  '!<tag:yaml.org,2002:str> x', '!!map', '__proto__', 'constructor', 'prototype', '../../x', '../../../etc/passwd', '/', '..',
  'x'.repeat(5000), '\u0000', '\u0007\u001b[31mred\u001b[0m', '\u007f', '\u0085', '\u2028', '\ufeff', '\t', '\r\n', '\n',
  '🏠🚀', 'é', '"', "'", '\\', ': ', ':', '#', ' # comment', '- x', '? x', '|', '>', '@', '`', '%', '---', '...', '<<',
  '~', 'null', 'no', 'yes', 'on', 'y', '0755', '1:30', '1e999', '-0', '.nan', '9'.repeat(30), '{{app.id}}', '{{', '}}',
  '', ' ', 'a\nb: c', 'x\n---\napiVersion: v1\nkind: Secret\nmetadata:\n  name: pwned',
]

/** Keys that try to reach an object's prototype. */
export const HOSTILE_KEYS: readonly string[] = ['__proto__', 'constructor', 'prototype', '"__proto__"', "'constructor'", '<<', '? x', '"a\\nb"', '🏠']

/** Template edits: Handlebars syntax, prototype walks, helpers misused. */
const TEMPLATE_SNIPPETS: readonly string[] = [
  '{{', '}}', '{{{', '}}}', '{{/if}}', '{{else}}', '{{#if options.host}}', '{{#each options.env}}{{@key}}: {{this}}{{/each}}',
  '{{> labels}}', '{{> missing}}', '{{> (lookup this "x")}}', '{{options.__proto__}}', '{{constructor.constructor}}',
  '{{lookup this "constructor"}}', '{{lookup (lookup this "constructor") "constructor"}}', '{{app.__proto__.polluted}}',
  '{{[__proto__]}}', '{{options.[constructor]}}', '{{@root.app.id}}', '{{../app}}', '{{this}}', '{{quote}}', '{{quote app}}',
  '{{toYaml options}}', '{{toYaml values}}', '{{nindent 4 (toYaml options)}}', '{{indent -1 "x"}}', '{{indent 99999 "x"}}',
  '{{json app}}', '{{b64enc options.image}}', '{{required "boom" options.nothing}}', '{{default "x" options.nothing}}',
  '{{join "," options.env}}', '{{helperMissing}}', '{{blockHelperMissing}}', '{{#with app}}{{id}}{{/with}}', '{{!-- open',
  '{{! comment }}', '\\{{escaped}}', '{{upper 5}}', '{{eq}}', '{{#unless}}{{/unless}}', '{{#each app}}{{this}}{{/each}}',
  '{{log "from a template"}}', '{{app.id.length}}', '{{values.__proto__.x}}', '{{#each values}}{{@key}}{{/each}}', '{{quote values.timezone}}',
  '\n---\n', '\n---\nkind: ConfigMap\n', '\n- a\n', ': x', '  extra: {{quote app.id}}\n',
]

/** The files of a homelab: path relative to its folder (with `/`) → text. */
export type HomelabFiles = ReadonlyMap<string, string>

export interface Mutation {
  /** The whole mutated homelab. */
  files: Map<string, string>
  /** Paths whose text differs from the original. */
  changed: string[]
  /** What was done, for the failure report. */
  steps: string[]
}

/** Apply one to three random mutations to a homelab's files. */
export function mutateHomelab(original: HomelabFiles, rng: Rng): Mutation {
  const files = new Map(original)
  const steps: string[] = []
  const paths = [...files.keys()]
  const config = paths.filter((p) => !p.startsWith('templates/'))
  const templateFiles = paths.filter((p) => p.startsWith('templates/') && !p.includes('/_partials/') && !p.endsWith('/template.yaml'))
  const metas = paths.filter((p) => p.endsWith('/template.yaml'))
  const partials = paths.filter((p) => p.includes('/_partials/'))
  const count = rng.chance(0.65) ? 1 : 2 + rng.int(2)
  for (let i = 0; i < count; i++) {
    const roll = rng.next()
    const pool = roll < 0.5 ? config : roll < 0.85 ? templateFiles : roll < 0.95 ? metas : partials
    const file = rng.pick(pool.length > 0 ? pool : paths)
    const text = files.get(file) as string
    const { text: mutated, step } = file.endsWith('.hbs') ? mutateTemplate(text, rng) : mutateYaml(text, rng)
    files.set(file, mutated)
    steps.push(`${file}: ${step}`)
  }
  const changed = paths.filter((p) => files.get(p) !== original.get(p))
  return { files, changed, steps }
}

type Edit = { text: string; step: string }

/** A YAML file (config, template.yaml, a plain resource): values, keys or lines. */
function mutateYaml(text: string, rng: Rng): Edit {
  const roll = rng.next()
  if (roll < 0.45) return replaceScalar(text, rng) ?? mutateLines(text, rng)
  if (roll < 0.6) return insertKey(text, rng) ?? mutateLines(text, rng)
  if (roll < 0.95) return mutateLines(text, rng)
  return mutateWhole(text, rng)
}

/** A Handlebars file: snippets, deletions, helpers dropped, or line edits. */
function mutateTemplate(text: string, rng: Rng): Edit {
  const roll = rng.next()
  if (roll < 0.3) {
    const at = rng.int(text.length + 1)
    const snippet = rng.chance(0.8) ? rng.pick(TEMPLATE_SNIPPETS) : rng.pick(HOSTILE_VALUES)
    return { text: text.slice(0, at) + snippet + text.slice(at), step: `insert ${show(snippet)} at offset ${at}` }
  }
  if (roll < 0.4) {
    const at = rng.int(text.length)
    const length = 1 + rng.int(20)
    return { text: text.slice(0, at) + text.slice(at + length), step: `delete ${length} chars at offset ${at}` }
  }
  if (roll < 0.5) {
    const helpers = ['quote ', 'toYaml ', 'nindent 4 ', 'json ']
    const helper = rng.pick(helpers)
    if (text.includes(helper)) {
      const replacement = rng.chance(0.5) ? '' : rng.pick(helpers)
      return { text: text.replace(helper, replacement), step: `replace the first ${show(helper)} with ${show(replacement)}` }
    }
  }
  if (roll < 0.55) return mutateWhole(text, rng)
  return mutateLines(text, rng)
}

/** Delete, duplicate, swap or re-indent lines. */
export function mutateLines(text: string, rng: Rng): Edit {
  const lines = text.split('\n')
  const a = rng.int(lines.length)
  const b = rng.chance(0.5) ? Math.min(a + 1, lines.length - 1) : rng.int(lines.length)
  const op = rng.int(4)
  if (op === 0) {
    lines.splice(a, 1)
    return { text: lines.join('\n'), step: `delete line ${a + 1}` }
  }
  if (op === 1) {
    lines.splice(a, 0, lines[a] as string)
    return { text: lines.join('\n'), step: `duplicate line ${a + 1}` }
  }
  if (op === 2) {
    ;[lines[a], lines[b]] = [lines[b] as string, lines[a] as string]
    return { text: lines.join('\n'), step: `swap lines ${a + 1} and ${b + 1}` }
  }
  const line = lines[a] as string
  const change = rng.pick(['+1', '+2', '-1', '-2', 'tab', '+4'])
  const indent = /^ */.exec(line)?.[0].length ?? 0
  const next =
    change === 'tab' ? `\t${line}` : change.startsWith('+') ? ' '.repeat(Number(change.slice(1))) + line : line.slice(Math.min(indent, Number(change.slice(1))))
  lines[a] = next
  return { text: lines.join('\n'), step: `indent line ${a + 1} ${change}` }
}

/** Replace a key or value with a hostile value, raw, quoted or as a flow collection. */
function replaceScalar(text: string, rng: Rng): Edit | undefined {
  const ranges: Array<[number, number]> = []
  const doc = parseDocument(text, { keepSourceTokens: false })
  if (doc.errors.length > 0) return undefined
  visit(doc, {
    Scalar(_key, node) {
      if (node.range && node.range[1] > node.range[0]) ranges.push([node.range[0], node.range[1]])
    },
  })
  if (ranges.length === 0) return undefined
  const [start, end] = rng.pick(ranges)
  const value = rng.pick(HOSTILE_VALUES)
  const form = rng.pick(['raw', 'double', 'single', 'flow'] as const)
  const written =
    form === 'raw' ? value : form === 'double' ? JSON.stringify(value) : form === 'single' ? `'${value.replace(/'/g, "''")}'` : `[${JSON.stringify(value)}]`
  return { text: text.slice(0, start) + written + text.slice(end), step: `replace ${show(text.slice(start, end))} with ${form} ${show(value)}` }
}

/** Add a key (a prototype name, a merge key, …) to a random mapping. */
function insertKey(text: string, rng: Rng): Edit | undefined {
  const doc = parseDocument(text)
  if (doc.errors.length > 0) return undefined
  const starts: number[] = []
  visit(doc, {
    Map(_key, node) {
      for (const pair of node.items) if (isScalar(pair.key) && pair.key.range && !node.flow) starts.push(pair.key.range[0])
    },
  })
  if (starts.length === 0 || !isMap(doc.contents)) return undefined
  const at = rng.pick(starts)
  const lineStart = text.lastIndexOf('\n', at - 1) + 1
  const indent = text.slice(lineStart, at)
  if (!/^[ -]*$/.test(indent)) return undefined
  const key = rng.pick(HOSTILE_KEYS)
  const value = rng.pick(['{polluted: yes}', '{prototype: {polluted: yes}}', 'yes', JSON.stringify(rng.pick(HOSTILE_VALUES)), '[]'])
  const line = `${indent.replace(/-/g, ' ')}${key}: ${value}\n`
  return { text: text.slice(0, lineStart) + line + text.slice(lineStart), step: `insert ${show(line.trim())} at offset ${lineStart}` }
}

/** Rare whole-file damage: emptied, cut short, CRLF, a byte-order mark, a NUL, a second document. */
function mutateWhole(text: string, rng: Rng): Edit {
  const op = rng.int(6)
  if (op === 0) return { text: '', step: 'empty the file' }
  if (op === 1) {
    const at = rng.int(text.length)
    return { text: text.slice(0, at), step: `cut at offset ${at}` }
  }
  if (op === 2) return { text: text.replace(/\n/g, '\r\n'), step: 'CRLF line ends' }
  if (op === 3) return { text: `\ufeff${text}`, step: 'byte-order mark' }
  if (op === 4) return { text: `${text}\u0000`, step: 'append NUL' }
  return { text: `${text}\n---\n${text}`, step: 'append a copy as a second document' }
}

/** A value in a step description: JSON, long ones shortened. */
function show(value: string): string {
  const json = JSON.stringify(value).replace(/[\u007f-\u009f\u2028\u2029\ufeff]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`)
  return json.length > 60 ? `${json.slice(0, 40)}…(${value.length} chars)` : json
}

/** One random edit of a YAML text, the kinds that turn valid YAML into nearly valid YAML. */
export function mutateText(text: string, rng: Rng): string {
  const lines = text.split('\n')
  const line = rng.int(lines.length)
  const pieces = [' ', '  ', ':', ': ', '-', '- ', '#', ' #', '"', "'", '|', '>', '{', '}', '{}', '[', ']', '[]', '&a ', '*a', '!t ', '\n', 'x', '\\', '\\n', '\\x41', '0', '?', ',', 'é', '---\n', '...', 'true', 'null', '1', '<<: ', '%']
  switch (rng.int(7)) {
    case 0: {
      const at = rng.int(text.length + 1)
      return text.slice(0, at) + (pieces[rng.int(pieces.length)] as string) + text.slice(at)
    }
    case 1: {
      const at = rng.int(Math.max(1, text.length))
      return text.slice(0, at) + text.slice(at + 1 + rng.int(3))
    }
    case 2:
      lines.splice(line, 0, lines[line] ?? '')
      return lines.join('\n')
    case 3:
      lines[line] = rng.int(2) ? ` ${lines[line]}` : (lines[line] ?? '').replace(/^ {1,2}/, '')
      return lines.join('\n')
    case 4:
      lines.splice(line, 1)
      return lines.join('\n')
    case 5: {
      const other = rng.int(lines.length)
      ;[lines[line], lines[other]] = [lines[other] as string, lines[line] as string]
      return lines.join('\n')
    }
    default: {
      const at = rng.int(text.length + 1)
      return text.slice(0, at) + (pieces[rng.int(pieces.length)] as string) + (pieces[rng.int(pieces.length)] as string) + text.slice(at)
    }
  }
}

/** Each text of `corpus` mutated `runs` times (one to three edits of mutateText), labelled so that a failure names its seed. */
export function* mutatedTexts(corpus: ReadonlyArray<readonly [string, string]>, seed: number, runs: number): Generator<{ text: string; label: string }> {
  for (const [index, [name, original]] of corpus.entries()) {
    const rng = caseRng(seed, index)
    for (let run = 0; run < runs; run++) {
      let text = original
      for (let edits = 1 + rng.int(3); edits > 0; edits--) text = mutateText(text, rng)
      yield { text, label: `${name}, mutation ${run} (HOMELAB_FUZZ_SEED=${seed})` }
    }
  }
}
