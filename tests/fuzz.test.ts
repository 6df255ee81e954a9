import { cpSync, mkdirSync, writeFileSync } from 'node:fs'
import path from 'node:path'
import { Worker } from 'node:worker_threads'
import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import { HomelabError, renderHomelab, writePlan } from '../src/index.ts'
import type { Plan } from '../src/index.ts'
import { copyExample, removeDir, runCli, tempDir } from './helpers/cli.ts'
import { OUTSIDE_APPS, checkErrorLine, checkPrototype, checkSuccessTree, readHomelab, snapshot, snapshotDiff } from './helpers/fuzz-worker.ts'
import type { WorkerInput, WorkerMessage } from './helpers/fuzz-worker.ts'
import { caseRng, fuzzRuns, fuzzSeed, mutateHomelab } from './helpers/mutate.ts'
import { kustomizeBuild } from './helpers/tools.ts'

/**
 * Issue 7, fuzzing: mutations of the example config and its templates. Each
 * either renders (every file parses, every app folder builds with kubectl,
 * the output folder holds exactly the plan) or fails with one clear `error:`
 * line and leaves the output folder byte for byte as it was. Never a bug
 * error, a stack trace, a hang, or a polluted Object.prototype.
 *
 * HOMELAB_FUZZ_SEED replays a run, HOMELAB_FUZZ_RUNS sets the number of cases
 * (default 1000), HOMELAB_FUZZ_CASE runs one case alone (in process and
 * through the CLI), HOMELAB_FUZZ_HANG_MS changes what counts as a hang
 * (default 10 s).
 */
const SEED = fuzzSeed()
const RUNS = fuzzRuns(1000)
const ONLY_CASE = process.env.HOMELAB_FUZZ_CASE ? Number(process.env.HOMELAB_FUZZ_CASE) : undefined
/** A case that takes longer than this is a hang. */
const HANG_MS = Number(process.env.HOMELAB_FUZZ_HANG_MS ?? 10_000)
/** Fixed, not the number of cores: which cases share a worker (and its previous render) is part of the replay. */
const WORKERS = 2
/** Distinct successful outputs whose app folders are built with kubectl. */
const BUILD_QUOTA = 25
/** Cases also run through the built CLI (exit code, stderr, output folder), after the in-process ones. */
const CLI_RUNS = ONLY_CASE === undefined ? Math.max(4, Math.min(40, Math.round(RUNS / 25))) : 1

const inProcessIndices = ONLY_CASE === undefined ? Array.from({ length: RUNS }, (_, i) => i) : [ONLY_CASE]
const cliIndices = ONLY_CASE === undefined ? Array.from({ length: CLI_RUNS }, (_, i) => RUNS + i) : [ONLY_CASE]

interface Problem {
  index: number
  where: string
  steps: string[]
  message: string
}

const state = {
  problems: [] as Problem[],
  builds: [] as Array<{ dir: string; index: number; steps: string[] }>,
  ok: 0,
  errors: 0,
  slowestMs: 0,
  longestError: 0,
}

function replayHint(index?: number): string {
  const one = index === undefined ? '' : ` HOMELAB_FUZZ_CASE=${index}`
  return `seed ${SEED}; replay with HOMELAB_FUZZ_SEED=${SEED}${one} node --import tsx tests/fuzz.test.ts`
}

function report(): string {
  const shown = state.problems.slice(0, 10).map((p) => `  case ${p.index} (${p.where}) [${p.steps.join('; ')}]: ${p.message}`)
  const more = state.problems.length > 10 ? [`  … and ${state.problems.length - 10} more`] : []
  return [`fuzz found ${state.problems.length} problem(s), ${replayHint(state.problems[0]?.index)}`, ...shown, ...more].join('\n')
}

const TSX_API = import.meta.resolve('tsx/esm/api')
const WORKER_MODULE = new URL('./helpers/fuzz-worker.ts', import.meta.url).href

/** Run one worker over its cases; a case that runs past HANG_MS terminates it. */
function runWorker(input: WorkerInput): Promise<void> {
  // worker threads do not inherit --import tsx: register it, then load the worker module
  const code = `import(${JSON.stringify(TSX_API)}).then(({ register }) => { register(); return import(${JSON.stringify(WORKER_MODULE)}) })`
  const worker = new Worker(code, { eval: true, workerData: { fuzz: input } })
  return new Promise((resolve) => {
    let timer: NodeJS.Timeout | undefined
    let current: { index: number; steps: string[] } | undefined
    let finished = false
    let hung = false
    worker.on('message', (message: WorkerMessage) => {
      if (message.type === 'start') {
        current = { index: message.index, steps: message.steps }
        timer = setTimeout(() => {
          hung = true
          state.problems.push({ index: message.index, where: 'in process', steps: message.steps, message: `no result after ${HANG_MS} ms (hang); the rest of this worker's cases were skipped` })
          void worker.terminate()
        }, HANG_MS)
      } else if (message.type === 'done') {
        clearTimeout(timer)
        current = undefined
        if (message.outcome === 'ok') state.ok++
        else state.errors++
        state.slowestMs = Math.max(state.slowestMs, message.ms)
        state.longestError = Math.max(state.longestError, message.errorLine?.length ?? 0)
        for (const problem of message.problems) state.problems.push({ index: message.index, where: 'in process', steps: message.steps, message: problem })
        for (const dir of message.builds) state.builds.push({ dir, index: message.index, steps: message.steps })
      } else {
        finished = true
        void worker.terminate()
      }
    })
    worker.on('error', (error) => {
      const index = current?.index ?? -1
      state.problems.push({ index, where: 'worker', steps: current?.steps ?? [], message: `uncaught in the worker: ${error.stack ?? error.message}` })
    })
    worker.on('exit', () => {
      clearTimeout(timer)
      if (!finished && !hung) {
        state.problems.push({ index: current?.index ?? -1, where: 'worker', steps: current?.steps ?? [], message: 'the worker stopped before its last case' })
      }
      resolve()
    })
  })
}

/** Run `fn` over `items`, `lanes` at a time. */
async function inLanes<T>(items: readonly T[], lanes: number, fn: (item: T, lane: number) => Promise<void>): Promise<void> {
  let next = 0
  await Promise.all(
    Array.from({ length: lanes }, async (_, lane) => {
      while (next < items.length) await fn(items[next++] as T, lane)
    }),
  )
}

const work = tempDir('homelab-fuzz-')
const example = copyExample()
const original = readHomelab(example)

const Fuzz = suite('fuzz: mutated example config and templates')

Fuzz.after(() => {
  removeDir(work)
  removeDir(example)
})

Fuzz(`in process: ${inProcessIndices.length} mutations render into a good tree or fail with one HomelabError line, output untouched`, async () => {
  console.log(`fuzz: ${replayHint()}; ${inProcessIndices.length} cases in process, ${cliIndices.length} through the CLI`)
  await Promise.all(
    Array.from({ length: WORKERS }, (_, w) =>
      runWorker({
        seed: SEED,
        indices: inProcessIndices.filter((_, i) => i % WORKERS === w),
        homelabDir: example,
        workDir: path.join(work, `worker-${w}`),
        buildQuota: Math.ceil(BUILD_QUOTA / WORKERS),
      }),
    ),
  )
  console.log(
    `fuzz: ${state.ok} rendered, ${state.errors} failed with a HomelabError; slowest case ${Math.round(state.slowestMs)} ms; ` +
      `longest error line ${state.longestError} chars; ${state.builds.length} new app folders to build`,
  )
  assert.ok(state.problems.length === 0, report())
  assert.is(state.ok + state.errors, inProcessIndices.length, 'every case ran')
  if (ONLY_CASE === undefined) assert.ok(state.ok > 0 && state.errors > 0, `the mutations both succeed and fail (${state.ok} ok, ${state.errors} errors)`)
})

Fuzz('kubectl kustomize builds every new app folder of the first distinct successful outputs', async () => {
  if (ONLY_CASE === undefined) assert.ok(state.builds.length > 0, 'some folders to build')
  await inLanes(state.builds, 2, async (build) => {
    const result = await kustomizeBuild(build.dir)
    if (!result.ok) {
      state.problems.push({ index: build.index, where: 'kubectl', steps: build.steps, message: `kubectl kustomize ${path.basename(build.dir)}: ${result.stderr.trim().split('\n')[0]}` })
    }
  })
  assert.ok(state.problems.length === 0, report())
})

Fuzz(`the built CLI: ${cliIndices.length} more mutations exit 0 or 1 with one error line, as the core decides`, async () => {
  const lanes = [0, 1].map((lane) => {
    const dir = path.join(work, `cli-${lane}`)
    cpSync(example, path.join(dir, 'homelab'), { recursive: true })
    for (const [file, text] of Object.entries(OUTSIDE_APPS)) {
      mkdirSync(path.dirname(path.join(dir, 'out', file)), { recursive: true })
      writeFileSync(path.join(dir, 'out', file), text)
    }
    return { dir, written: [] as string[] }
  })
  for (const lane of lanes) await writePlan(path.join(lane.dir, 'out'), (await renderHomelab(path.join(lane.dir, 'homelab', 'homelab.config.yaml'))).plan)

  await inLanes(cliIndices, lanes.length, async (index, laneIndex) => {
    const lane = lanes[laneIndex] as (typeof lanes)[number]
    const homelab = path.join(lane.dir, 'homelab')
    const out = path.join(lane.dir, 'out')
    const mutation = mutateHomelab(original, caseRng(SEED, index))
    for (const file of lane.written) writeFileSync(path.join(homelab, file), original.get(file) as string)
    for (const file of mutation.changed) writeFileSync(path.join(homelab, file), mutation.files.get(file) as string)
    lane.written = mutation.changed
    const problem = (message: string) => state.problems.push({ index, where: 'CLI', steps: mutation.steps, message })

    const before = snapshot(out)
    const started = performance.now()
    const result = await runCli(['render', '--config', 'homelab/homelab.config.yaml', '--out', 'out'], { cwd: lane.dir, timeoutMs: HANG_MS })
    if (performance.now() - started >= HANG_MS) return void problem(`no exit after ${HANG_MS} ms (hang)`)

    // the same case in process (it terminated in the CLI, so it cannot hang here): the CLI must agree with the core
    let plan: Plan | undefined
    let coreLine: string | undefined
    try {
      plan = (await renderHomelab(path.join(homelab, 'homelab.config.yaml'))).plan
    } catch (error) {
      if (!(error instanceof HomelabError)) return void problem(`not a HomelabError: ${String(error)}`)
      coreLine = `error: ${error.oneLine.split(`${lane.dir}${path.sep}`).join('')}`
    }
    for (const message of checkPrototype()) problem(message)
    const stderrLines = result.stderr.split('\n').filter((line) => line !== '')
    if (/^\s+at /m.test(result.stderr)) problem(`stack trace on stderr: ${result.stderr.slice(0, 300)}`)
    if (result.code === 0) {
      if (!plan) return void problem(`the CLI exits 0, the core fails: ${coreLine}`)
      if (result.stderr !== '') problem(`exit 0 with stderr: ${result.stderr.slice(0, 200)}`)
      if (!/^✔ rendered [^\n]*\n$/.test(result.stdout)) problem(`exit 0, but stdout is not the one summary line: ${result.stdout.slice(0, 200)}`)
      for (const message of checkSuccessTree(out, plan, before)) problem(message)
    } else if (result.code === 1) {
      const [first = '', second] = stderrLines
      if (!first.startsWith('error: ') || first.startsWith('error: unexpected')) problem(`stderr does not start with a clear error line: ${result.stderr.slice(0, 300)}`)
      for (const message of checkErrorLine(first)) problem(message)
      if (stderrLines.length > 2 || (second !== undefined && !second.startsWith('hint: '))) problem(`more than an error and a hint on stderr: ${result.stderr.slice(0, 300)}`)
      if (coreLine !== first) problem(`the CLI says ${JSON.stringify(first)}, the core ${JSON.stringify(coreLine ?? 'success')}`)
      const diff = snapshotDiff(before, snapshot(out))
      if (diff.length > 0) problem(`the output folder changed on error: ${diff.join(', ')}`)
    } else {
      problem(`exit code ${result.code}: ${result.stderr.slice(0, 300)}`)
    }
  })
  assert.ok(state.problems.length === 0, report())
})

Fuzz.run()
