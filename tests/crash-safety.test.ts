import { spawn } from 'node:child_process'
import { cpSync, existsSync, mkdirSync, rmSync, writeFileSync } from 'node:fs'
import path from 'node:path'
import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import { TEMP_MARK } from '../src/write-plan.ts'
import { BIN, cliEnv, removeDir, runCli, tempDir, writeFiles } from './helpers/cli.ts'
import { OUTSIDE_APPS, snapshot, snapshotDiff } from './helpers/fuzz-worker.ts'
import { fuzzSeed, mulberry32 } from './helpers/mutate.ts'

/**
 * Issue 7, crash safety: a render of 1500 apps killed with SIGKILL at random
 * moments. After each kill every file of the output is its old or its new
 * content, never torn; the next render leaves exactly the tree of a fresh
 * render. The kill moments come from a seeded PRNG (HOMELAB_FUZZ_SEED replays
 * them) within the render's measured duration.
 */
const SEED = fuzzSeed()
const APPS = 1500
/** Apps of the old config that the new one drops, and new ones it adds. */
const TURNOVER = 100
const MIN_KILLS = 8
/** Extra tries aimed at the write phase if no random kill landed in it. */
const MAX_AIMED = 6

const TEMPLATE = {
  'templates/svc/template.yaml': [
    'description: a service for the crash test',
    'options:',
    '  type: object',
    '  additionalProperties: false',
    '  properties:',
    '    replicas: { type: integer, default: 1 }',
    '',
  ].join('\n'),
  'templates/svc/configmap.yaml.hbs': [
    'apiVersion: v1',
    'kind: ConfigMap',
    'metadata:',
    '  name: {{quote app.id}}',
    '  namespace: {{quote app.namespace}}',
    'data:',
    '  revision: {{quote values.revision}}',
    '  replicas: {{quote options.replicas}}',
    '  padding: {{quote values.padding}}',
    '',
  ].join('\n'),
}

/** A config of APPS apps from `first` on; `revision` changes every ConfigMap, `replicas` every third one more. */
function configText(first: number, revision: string, replicas: number): string {
  const apps = Array.from({ length: APPS }, (_, k) => {
    const i = first + k
    const id = `app-${String(i).padStart(4, '0')}`
    return i % 3 === 0 ? `  - { template: svc, id: ${id}, options: { replicas: ${replicas} } }` : `  - { template: svc, id: ${id} }`
  })
  return [
    'cluster: { name: crash }',
    'flux: { repository: "https://example.com/manifests.git" }',
    `values: { revision: ${revision}, padding: "${'0123456789abcdef'.repeat(128)}" }`,
    'apps:',
    ...apps,
    '',
  ].join('\n')
}

interface Run {
  ms: number
  code: number | null
  killed: boolean
  /** When `watch` (a file the render removes first) disappeared, in ms from the start. */
  writesFrom?: number
  /** When `firstWrite` (the first file the render writes) appeared, in ms from the start. */
  firstWriteAt?: number
}

interface RenderOptions {
  /** SIGKILL this long after the start. */
  killAfterMs?: number
  /** A file the render removes first thing when it starts writing: noted (writesFrom), and the clock of killAfterWritesMs. */
  watch?: string
  /** SIGKILL this long after `watch` disappeared. */
  killAfterWritesMs?: number
  /** A file the render writes before any other (writePlan writes the added files first, in path order): noted (firstWriteAt). */
  firstWrite?: string
}

/** Run `homelab render` in `dir`, killing it as `options` say. */
function render(dir: string, out: string, options: RenderOptions = {}): Promise<Run> {
  return new Promise((resolve, reject) => {
    const started = performance.now()
    let writesFrom: number | undefined
    let firstWriteAt: number | undefined
    let timer: NodeJS.Timeout | undefined
    const child = spawn(process.execPath, [BIN, 'render', '--out', out], { cwd: dir, env: cliEnv(), stdio: 'ignore' })
    const kill = () => child.kill('SIGKILL')
    if (options.killAfterMs !== undefined) timer = setTimeout(kill, options.killAfterMs)
    const poll = options.watch === undefined ? undefined : setInterval(() => {
      if (options.firstWrite !== undefined && firstWriteAt === undefined && existsSync(options.firstWrite)) firstWriteAt = performance.now() - started
      if (writesFrom !== undefined || existsSync(options.watch as string)) return
      writesFrom = performance.now() - started
      if (options.killAfterWritesMs !== undefined) timer = setTimeout(kill, options.killAfterWritesMs)
    }, 1)
    child.on('error', reject)
    child.on('close', (code, signal) => {
      clearTimeout(timer)
      clearInterval(poll)
      resolve({ ms: performance.now() - started, code, killed: signal === 'SIGKILL', writesFrom, firstWriteAt })
    })
  })
}

/** A snapshot key that is one of writePlan's temp files. */
function isTemp(key: string): boolean {
  return path.posix.basename(key).startsWith('.') && key.includes(TEMP_MARK)
}

interface KillResult {
  label: string
  killed: boolean
  /** Files the new render adds or changes that already have their new content. */
  written: number
  /** Files the new render adds or changes that do not yet. */
  unwritten: number
  /** Files the new render drops that are gone. */
  removed: number
  temps: number
  problems: string[]
}

/** Check a killed render's output: every path old or new, never torn, never missing where both renders have it. */
function judge(after: Map<string, string>, oldTree: Map<string, string>, newTree: Map<string, string>): Omit<KillResult, 'label' | 'killed'> {
  const problems: string[] = []
  let written = 0
  let unwritten = 0
  let removed = 0
  let temps = 0
  for (const [key, content] of after) {
    if (key.endsWith('/')) continue
    if (isTemp(key)) temps++
    else if (content !== newTree.get(key) && content !== oldTree.get(key)) problems.push(`${key} is neither its old nor its new content (${content.length} bytes)`)
  }
  for (const key of new Set([...oldTree.keys(), ...newTree.keys()])) {
    if (key.endsWith('/')) continue
    const [before, wanted, now] = [oldTree.get(key), newTree.get(key), after.get(key)]
    if (before !== undefined && wanted !== undefined && now === undefined) problems.push(`${key} is missing, though both renders have it`)
    if (before === wanted) continue
    if (wanted === undefined) removed += now === undefined ? 1 : 0
    else if (now === wanted) written++
    else unwritten++
  }
  return { written, unwritten, removed, temps, problems }
}

const Crash = suite('crash safety: renders killed with SIGKILL')
const work = tempDir('homelab-crash-')

Crash.after(() => removeDir(work))

Crash(`a render of ${APPS} apps killed at ${MIN_KILLS}+ random moments: every file old or new; the next render gives a fresh render's tree`, async () => {
  const homelab = path.join(work, 'homelab')
  writeFiles(homelab, {
    ...TEMPLATE,
    'old.config.yaml': configText(0, 'old', 2),
    'homelab.config.yaml': configText(TURNOVER, 'new', 3),
  })
  const oldOut = path.join(work, 'old-out')
  const freshOut = path.join(work, 'fresh-out')
  for (const out of [oldOut, freshOut]) writeFiles(out, OUTSIDE_APPS)
  const oldRender = await runCli(['render', '--config', 'old.config.yaml', '--out', oldOut], { cwd: homelab, timeoutMs: 300_000 })
  assert.is(oldRender.code, 0, oldRender.stderr)
  const freshRender = await runCli(['render', '--out', freshOut], { cwd: homelab, timeoutMs: 300_000 })
  assert.is(freshRender.code, 0, freshRender.stderr)
  const oldTree = snapshot(oldOut)
  const freshTree = snapshot(freshOut)
  const changedPaths = [...new Set([...oldTree.keys(), ...freshTree.keys()])].filter((key) => !key.endsWith('/') && oldTree.get(key) !== freshTree.get(key))
  assert.ok(changedPaths.length > APPS, `old and new differ in many files (${changedPaths.length})`)

  const out = path.join(work, 'out')
  const reset = () => {
    rmSync(out, { recursive: true, force: true })
    cpSync(oldOut, out, { recursive: true })
  }
  // how long a render over the old tree takes, and how long its write phase: its first write removes the dropped apps' files
  const watch = path.join(out, 'apps/app-0000/configmap.yaml')
  // the first new app's first file: the first file written, after the removals and the empty folders' pruning
  const firstWrite = path.join(out, `apps/app-${String(APPS).padStart(4, '0')}/configmap.yaml`)
  assert.not.ok(oldTree.has(path.relative(out, firstWrite).split(path.sep).join('/')), 'the first written file is new')
  reset()
  const full = await render(homelab, out, { watch, firstWrite })
  assert.is(full.code, 0, 'the measuring render succeeds')
  assert.ok(full.writesFrom !== undefined, 'the measuring render was seen starting to write')
  const writeMs = Math.max(1, full.ms - full.writesFrom)
  // where in that phase the files themselves start being written (removals and pruning come first)
  const writeStart = full.firstWriteAt === undefined ? 0 : Math.min(writeMs, Math.max(0, full.firstWriteAt - full.writesFrom))

  const rng = mulberry32(SEED)
  const results: KillResult[] = []
  const problems: string[] = []
  const attempt = async (options: RenderOptions, label: string) => {
    reset()
    const run = await render(homelab, out, { watch, ...options })
    const verdict = judge(snapshot(out), oldTree, freshTree)
    results.push({ label, killed: run.killed, ...verdict })
    for (const problem of verdict.problems.slice(0, 5)) problems.push(`kill ${label}: ${problem}`)
    // the next render, uninterrupted, repairs everything: exactly the fresh tree, no temp file, no empty folder
    const next = await render(homelab, out)
    if (next.code !== 0) problems.push(`kill ${label}: the next render exits ${next.code}`)
    const diff = snapshotDiff(freshTree, snapshot(out))
    if (diff.length > 0) problems.push(`kill ${label}: the next render leaves a tree unlike a fresh render: ${diff.join(', ')}`)
  }
  // random moments: every other one anywhere in the render, the others in its (short) write phase
  for (let k = 0; results.filter((r) => r.killed).length < MIN_KILLS && k < 3 * MIN_KILLS; k++) {
    if (k % 2 === 0) {
      const delay = rng.next() * full.ms
      await attempt({ killAfterMs: delay }, `${Math.round(delay)} ms after the start`)
    } else {
      const delay = rng.next() * writeMs
      await attempt({ killAfterWritesMs: delay }, `${Math.round(delay)} ms into the writes`)
    }
  }
  // none landed while files were being written (a slower or faster machine): aim just after the first write, ever closer
  const midWrite = () => results.some((r) => r.killed && r.written > 0 && r.unwritten > 0)
  for (let k = 1; !midWrite() && k <= MAX_AIMED; k++) {
    const delay = writeStart + rng.next() * (writeMs - writeStart) * 0.5 ** k
    await attempt({ killAfterWritesMs: delay }, `${Math.round(delay)} ms into the writes`)
  }

  const table = results
    .map((r) => `${r.label}: ${r.killed ? 'killed' : 'finished'}, ${r.written} written/${r.unwritten} not yet/${r.removed} removed/${r.temps} temp`)
    .join('; ')
  console.log(`crash: seed ${SEED}; render ${Math.round(full.ms)} ms, writes ${Math.round(writeMs)} ms (files from ${Math.round(writeStart)} ms), ${changedPaths.length} files change; ${table}`)
  assert.ok(problems.length === 0, `seed ${SEED} (replay with HOMELAB_FUZZ_SEED=${SEED}):\n${problems.slice(0, 10).join('\n')}`)
  assert.ok(results.filter((r) => r.killed).length >= MIN_KILLS, `at least ${MIN_KILLS} renders were killed: ${table}`)
  assert.ok(midWrite(), `some kill landed while files were being written: ${table}`)
})

const Recovery = suite('crash safety: what a killed render leaves is cleaned up')

/** A one-app homelab rendered into `out`. */
async function smallHomelab(): Promise<{ dir: string; out: string; fresh: Map<string, string> }> {
  const dir = tempDir('homelab-recover-')
  writeFiles(dir, { ...TEMPLATE, 'homelab.config.yaml': configText(0, 'r', 1).split('\n').slice(0, 5).join('\n') + '\n' })
  const result = await runCli(['render', '--out', 'out'], { cwd: dir })
  assert.is(result.code, 0, result.stderr)
  return { dir, out: path.join(dir, 'out'), fresh: snapshot(path.join(dir, 'out')) }
}

Recovery('a temp file of an interrupted write is removed by the next render', async () => {
  const { dir, out, fresh } = await smallHomelab()
  try {
    writeFileSync(path.join(out, 'apps/app-0000', `.configmap.yaml${TEMP_MARK}0123456789ab`), 'apiVersion: v1\nkind: Conf')
    const result = await runCli(['render', '--out', 'out'], { cwd: dir })
    assert.is(result.code, 0, result.stderr)
    assert.equal(snapshotDiff(fresh, snapshot(out)), [])
  } finally {
    removeDir(dir)
  }
})

Recovery('folders emptied by an interrupted removal are removed by the next render', async () => {
  const { dir, out, fresh } = await smallHomelab()
  try {
    // a render killed after removing the files of a dropped app, before removing its folders
    mkdirSync(path.join(out, 'apps/dropped/nested'), { recursive: true })
    const result = await runCli(['render', '--out', 'out'], { cwd: dir })
    assert.is(result.code, 0, result.stderr)
    assert.equal(snapshotDiff(fresh, snapshot(out)), [])
  } finally {
    removeDir(dir)
  }
})

Crash.run()
Recovery.run()
