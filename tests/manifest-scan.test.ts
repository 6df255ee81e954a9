/**
 * The quick manifest scan may only ever say what the full check says: for
 * every file it decides, the full check (the yaml library plus kubectl's
 * rules) accepts the file and finds the same objects at the same lines. It is
 * held to that on the example's and the benchmark's rendered files, on
 * hand-written edge cases, and on thousands of seeded mutations of them.
 * And it must decide the plain files templates render, or render is slow.
 *
 * HOMELAB_FUZZ_SEED replays a run; HOMELAB_FUZZ_RUNS sets the mutations per file (default 60).
 */
import { readFileSync, readdirSync } from 'node:fs'
import path from 'node:path'
import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import { benchApps, writeHomelab } from '../bench/generate.ts'
import { checkManifestFile, parseManifestFile } from '../src/check-manifests.ts'
import { HomelabError, renderHomelab } from '../src/index.ts'
import { scanManifest } from '../src/manifest-scan.ts'
import { removeDir, tempDir } from './helpers/cli.ts'
import { fuzzRuns, fuzzSeed, mutatedTexts } from './helpers/mutate.ts'
import { assertSameData } from './helpers/same-data.ts'

const SEED = fuzzSeed()
const RUNS = fuzzRuns(60)
const GOLDEN = path.join(import.meta.dirname, 'golden', 'example', 'apps')

/** What the full check says of a file: its objects, or its error. */
function fullCheck(text: string): { objects?: unknown; error?: string } {
  try {
    return { objects: parseManifestFile(text, 'f.yaml', 'test') }
  } catch (error) {
    if (error instanceof HomelabError) return { error: error.message }
    throw error
  }
}

/** Fails when the scan decides `text` differently from the full check; returns whether it decided. */
function agrees(text: string, label: string): boolean {
  // checkManifestFile runs checkPrintable before either path
  try {
    checkManifestFile(text, 'f.yaml', 'test')
  } catch (error) {
    if (!(error instanceof HomelabError)) throw error
  }
  const quick = scanManifest(text, 'f.yaml')
  if (quick === undefined) return false
  const full = fullCheck(text)
  if (full.error !== undefined) assert.unreachable(`${label}: the scan accepted a file the full check rejects (${full.error}):\n${text}`)
  assertSameData(quick, full.objects, `${label}: the scan read other objects than the full check:\n${text}`)
  return true
}

/** Files render checks as manifests: those of app folders, but for the generated kustomization.yaml (not the Flux folders, which it generates too). */
function isChecked(file: string): boolean {
  return !/(^|\/)(flux|flux-bootstrap)\//.test(file) && !file.endsWith('/kustomization.yaml')
}

function goldenFiles(): Array<[string, string]> {
  const files: Array<[string, string]> = []
  for (const folder of readdirSync(GOLDEN)) {
    for (const name of readdirSync(path.join(GOLDEN, folder))) files.push([`${folder}/${name}`, readFileSync(path.join(GOLDEN, folder, name), 'utf8')])
  }
  return files.filter(([file]) => isChecked(file))
}

async function benchFiles(count: number): Promise<Array<[string, string]>> {
  const dir = tempDir('scan-bench-')
  try {
    const { plan } = await renderHomelab(writeHomelab(dir, benchApps(count)))
    return [...plan].filter(([file]) => isChecked(file)).map(([file, content]) => [file, String(content)])
  } finally {
    removeDir(dir)
  }
}

const EDGE_CASES: readonly string[] = [
  '',
  '---\n---\n',
  '# only a comment\n',
  'apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: a\n',
  '# head\n---\n# c\napiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: a\n---\napiVersion: v1\nkind: Secret\nmetadata:\n  name: b\n  namespace: "x"\n',
  'apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: a\ndata:\n  k: |\n    line one\n\n    line: two # not a comment\n  j: >-\n    folded\n',
  'apiVersion: v1\nkind: List\nmetadata:\n  name: a\nitems:\n- a\n- - b\n  - c\n-\n  d: 1\nnext: {}\nempty: []\n',
  "apiVersion: 'v1'\nkind: \"Config\\u004dap\"\nmetadata:\n  name: 'it''s'\n",
  'apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: a\n  name: b\n',
  'apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: a\ndata:\n  "a": 1\n  a: 2\n',
  'apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: true\n',
  'apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: "true"\n',
  'apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: a\ndata:\n  k: a\n   b\n',
  'apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: a\ndata:\n  k: |\n   a\n  b\n',
  'apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: a\ndata:\n  k: "a\\\\ b\\"c\\0\\ d"\n',
  'apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: a\nspec:\n  x: -1\n  y: -a\n  z: a:b\n  w: a]b # c\n',
  'apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: a\nspec:\n  - a\n',
  'apiVersion: v1\nkind: ConfigMap\nmetadata:\n name: a\n labels:\n   x: y\n',
  'kind: ConfigMap\nmetadata:\n  name: a\n',
  '- a\n',
  'a\n',
  'apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: a\n...\n',
]

const test = suite('manifest scan')

test('agrees with the full check on hand-written edge cases', () => {
  let decided = 0
  for (const [i, text] of EDGE_CASES.entries()) if (agrees(text, `edge case ${i}`)) decided++
  assert.ok(decided >= 8, `the scan decided only ${decided} of ${EDGE_CASES.length} edge cases`)
})

test('decides every plain file the benchmark renders, and the example files without flow lists', async () => {
  const files = await benchFiles(12)
  for (const [file, text] of files) assert.ok(agrees(text, file), `the scan left ${file} to the full check:\n${text}`)
  let decided = 0
  const golden = goldenFiles()
  for (const [file, text] of golden) if (agrees(text, file)) decided++
  // the example uses flow lists (`command: ["sleep", "infinity"]`), which go to the full check
  assert.ok(decided >= golden.length - 4, `the scan decided ${decided} of ${golden.length} example files`)
})

test(`agrees with the full check on ${RUNS} mutations of every file (seed ${SEED})`, async () => {
  const files = [...goldenFiles(), ...(await benchFiles(4)), ...EDGE_CASES.map((text, i): [string, string] => [`edge ${i}`, text])]
  let decided = 0
  let valid = 0
  let total = 0
  for (const { text, label } of mutatedTexts(files, SEED, RUNS)) {
    total++
    if (agrees(text, label)) decided++
    if (fullCheck(text).objects) valid++
  }
  // the scan must decide a good share of the files the full check accepts, or this test proves little
  assert.ok(decided > valid / 2, `the scan decided only ${decided} of the ${valid} valid mutated files`)
  console.log(`  manifest scan: ${total} mutated files, ${valid} valid; the scan decided ${decided}, each as the full check did`)
})

test.run()
