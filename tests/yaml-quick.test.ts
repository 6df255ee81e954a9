/**
 * The quick YAML reader may only ever read what the yaml library reads: for
 * every text it takes, the library reports no error and builds the same data
 * (YAML 1.2 core schema: the same strings, numbers, booleans and nulls), and
 * as a config (readYamlData) the full path accepts it with the same data.
 * Held to that on the example config, a benchmark config, template.yaml
 * files, hand-written edge cases and thousands of seeded mutations of them.
 *
 * HOMELAB_FUZZ_SEED replays a run; HOMELAB_FUZZ_RUNS sets the mutations per file (default 150).
 */
import { readFileSync, readdirSync } from 'node:fs'
import path from 'node:path'
import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { parseAllDocuments } from 'yaml'
import { benchApps, homelabConfigText } from '../bench/generate.ts'
import { HomelabError } from '../src/index.ts'
import { BLOCK_NOT_READ, readPlainYaml } from '../src/yaml-quick.ts'
import { parseYamlSource, readYamlData, toData } from '../src/yaml-source.ts'
import { fuzzRuns, fuzzSeed, mutatedTexts } from './helpers/mutate.ts'
import { assertSameData } from './helpers/same-data.ts'

const SEED = fuzzSeed()
const RUNS = fuzzRuns(150)
const ROOT = path.join(import.meta.dirname, '..')

/** The library's reading: the data of each non-empty document, or its first error. */
function library(text: string): { values?: unknown[]; lines?: number[]; error?: string } {
  const documents = parseAllDocuments(text, { prettyErrors: false, logLevel: 'error' })
  if (!Array.isArray(documents)) return { values: [], lines: [] }
  const error = documents.flatMap((doc) => doc.errors)[0]
  if (error) return { error: error.message }
  const full = documents.filter((doc) => !(doc.contents === null || (doc.contents as { source?: string; value?: unknown }).source === ''))
  const lines = full.map((doc) => text.slice(0, doc.contents?.range?.[0] ?? 0).split('\n').length)
  try {
    return { values: full.map((doc) => doc.toJS({ maxAliasCount: 100 }) as unknown), lines }
  } catch (error) {
    return { error: (error as Error).message } // an alias the library cannot resolve
  }
}

/** The full config path's reading: data, or the error. */
function fullData(text: string): { data?: unknown; error?: string } {
  try {
    return { data: toData(parseYamlSource(text, 'c.yaml')) }
  } catch (error) {
    if (error instanceof HomelabError) return { error: error.message }
    throw error
  }
}

/** Fails when the reader takes `text` and reads it otherwise than the library; returns whether it took it. */
function agrees(text: string, label: string): boolean {
  const lib = library(text)
  const exact = readPlainYaml(text)
  const structure = readPlainYaml(text, { structureOnly: true })
  if (exact !== undefined) assert.ok(structure !== undefined, `${label}: read exactly, but not for structure:\n${text}`)
  if (structure === undefined) return false
  if (lib.error !== undefined) assert.unreachable(`${label}: the reader took a text the library rejects (${lib.error}):\n${text}`)
  assert.equal(structure.map((doc) => doc.line), lib.lines, `${label}: other document lines:\n${text}`)
  if (exact !== undefined) {
    assertSameData(exact.map((doc) => doc.value), lib.values, `${label}: other data than the library:\n${text}`)
  } else {
    // structure only: the same, but for the block scalars it did not read
    const blanked = (value: unknown, reference: unknown): unknown =>
      value === BLOCK_NOT_READ
        ? reference
        : Array.isArray(value)
          ? value.map((v, i) => blanked(v, (reference as unknown[])?.[i]))
          : value !== null && typeof value === 'object'
            ? Object.fromEntries(Object.entries(value).map(([k, v]) => [k, blanked(v, (reference as Record<string, unknown>)?.[k])]))
            : value
    assertSameData(structure.map((doc, i) => blanked(doc.value, lib.values?.[i])), lib.values, `${label}: other structure than the library:\n${text}`)
  }
  if (!/^---/m.test(text) && exact?.length === 1) {
    const full = fullData(text)
    if (full.error !== undefined) assert.unreachable(`${label}: read as a config, but the full path rejects it (${full.error}):\n${text}`)
    assertSameData(readYamlData(text, 'c.yaml').data, full.data, `${label}: other config data than the full path`)
  }
  return exact !== undefined
}

function corpus(): Array<[string, string]> {
  const templates = path.join(ROOT, 'templates')
  const metas = readdirSync(templates)
    .map((name) => path.join(templates, name, 'template.yaml'))
    .filter((file) => {
      try {
        readFileSync(file)
        return true
      } catch {
        return false
      }
    })
  return [
    ['homelab.config.yaml', readFileSync(path.join(ROOT, 'homelab.config.yaml'), 'utf8')],
    ['bench config', homelabConfigText(benchApps(8))],
    ...metas.map((file): [string, string] => [path.relative(ROOT, file), readFileSync(file, 'utf8')]),
    ...EDGE_CASES.map((text, i): [string, string] => [`edge case ${i}`, text]),
  ]
}

const EDGE_CASES: readonly string[] = [
  'a: 1\nb: -2\nc: +3\nd: 0o17\ne: 0x1F\nf: 1.50\ng: .5\nh: 1e3\ni: -.inf\nj: .NaN\nk: 007\nl: 1_000\nm: ~\nn: null\no: True\np: FALSE\nq: yes\nr: 12345678901234567890\n',
  'a: |\n  one\n  two\n\nb: |-\n  x\nc: >\n  folded\n  text\nd: |+\n  kept\n\ne: end\n',
  'a:\n- 1\n- - 2\n  - 3\n-\n  b: c\n- d: e\n  f: g\nh: {}\ni: []\n',
  "a: 'it''s'\nb: \"q\\\"\\\\\\n\\t\\/\"\nc: \"\\x41\"\n'd e': f\n\"g\": h\n",
  'a: b # comment\n# whole line\nc: d#e\nf: ":8080"\ng: :8080\nh: -x\ni: ?y\n',
  'a: 1\na: 2\n',
  '__proto__: 1\n',
  'constructor: 1\nprototype: 2\ntoString: 3\n',
  'a:\n  b: 1\n c: 2\n',
  'a: |\n  x\n y\n',
  'a: |\n  x',
  'a: 1\n---\nb: 2\n',
  '---\na: 1\n',
  'a: "unclosed\n',
  'a: [1, 2]\n',
  'true: 1\n',
  '"true": 1\n"": 2\n',
  'a: [1, -2, .5, x, "y", \'z\', true, null, 0x1F, -x, ./p]\nb: { k: v, "q": 1, n: null, t: True }\nk: [a] # c\nl:\n  - [a, b]\n  - { c: d }\n',
  'c: [a b]\n',
  'd: {a:1}\n',
  'e: [a, ]\n',
  'f: { a: 1, a: 2 }\n',
  'g: [-]\n',
  'h: [[1]]\n',
  'i: { a: }\n',
  'j: [a]#c\n',
  'm: { 1: a }\n',
  'n: { __proto__: 1 }\n',
  'o: { a: http://x }\n',
]

test('agrees with the library on the example config, template.yaml files and edge cases', () => {
  let taken = 0
  for (const [label, text] of corpus()) if (agrees(text, label)) taken++
  assert.ok(agrees(homelabConfigText(benchApps(40)), 'a 40-app benchmark config'), 'the reader must take the benchmark config, or loading it is slow')
  assert.ok(taken >= 8, `the reader took only ${taken} texts`)
})

test(`agrees with the library on ${RUNS} mutations of each (seed ${SEED})`, () => {
  let taken = 0
  let valid = 0
  let total = 0
  for (const { text, label } of mutatedTexts(corpus(), SEED, RUNS)) {
    total++
    if (agrees(text, label)) taken++
    if (library(text).error === undefined) valid++
  }
  assert.ok(taken > valid / 5, `the reader took only ${taken} of the ${valid} valid mutated texts`)
  console.log(`  yaml quick: ${total} mutated texts, ${valid} valid; the reader took ${taken}, each as the library read it`)
})

test.run()
