/**
 * `npm run bench [-- --apps N]`: times the built `homelab` binary against
 * `helm template` on synthetic homelabs of 100, 1000 and 5000 apps (see
 * generate.ts), alternating the contenders in every round, and prints the
 * medians, the ratios and the targets of issue 6. See docs/benchmark.md.
 */
import { spawnSync } from 'node:child_process'
import { cpSync, existsSync, mkdirSync, mkdtempSync, readdirSync, renameSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { pathToFileURL } from 'node:url'
import { parseArgs } from 'node:util'
import { ROOT } from '../tests/helpers/cli.js'
import { helmPath } from '../tests/helpers/tools.js'
import { benchApps, homelabConfigText, objectFileCount, writeFlatHelmChart, writeHelmChart, writeHomelab } from './generate.js'
import { MemoryMeter, expectExit, median, countTouched, readRenderSummary, runTimed, snapshotFiles } from './measure.js'
import type { Command, RssMethod, RunResult } from './measure.js'
import { formatReport } from './report.js'
import { loadProfiles, summarizeProfile } from './profile-summary.js'
import { timeWatchChanges } from './watch-change.js'
import type { WatchChangeResult } from './watch-change.js'

export interface BenchOptions {
  /** App counts to measure. */
  sizes: number[]
  /** Timed runs of every contender, after the warm-up. */
  runs: number
  /** Untimed rounds first. */
  warmup: number
  /** Run `npm run build` first, so the binary matches src/. */
  build: boolean
  /** Keep the temp folder (its path is logged). */
  keep?: boolean
  /** Progress lines. */
  log?: (line: string) => void
}

export interface Timing {
  samples: number[]
  median: number
}

/** Files a re-render rewrote, per timed run: as its summary line says, and as inode/mtime changes show. */
export interface Rewritten {
  summary: number[]
  onDisk: number[]
}

export interface SizeResult {
  apps: number
  /** Files a full render writes. */
  files: number
  /** `helm template` of the umbrella chart: one subchart per app. */
  helmTemplate: Timing
  /** `helm template` of the flat reference chart: one chart ranging over all apps. */
  helmFlatTemplate: Timing
  check: Timing
  helmOutputDir: Timing
  render: Timing
  /** A bare node loop writing the same files: what writing them costs on this disk at the least. */
  floor: Timing
  noop: Timing
  noopRewritten: Rewritten
  change: Timing
  changeRewritten: Rewritten
  /** The same one-app change made while `render --watch` runs (watch-change.ts): the render's own time, and from the config's write to the summary line. */
  watchChange: WatchChangeResult
  /** Peak memory (max RSS) in MB (10^6 bytes) of one run each; undefined where it could not be measured. */
  memory: { render?: number; check?: number; helmTemplate?: number }
}

export interface Machine {
  cpus: number
  cpuModel: string
  memoryGiB: number
  os: string
  node: string
  helm: string
  /** 1-minute load average before and after the run: other work on the machine skews the times. */
  load: [number, number]
}

/** Which build was measured. */
export interface Binary {
  commit: string
  /** src/ had uncommitted changes. */
  dirty: boolean
  /** When dist/ was built (ISO time). */
  builtAt: string
}

export interface BenchResult {
  machine: Machine
  binary: Binary
  runs: number
  warmup: number
  rssMethod: RssMethod
  sizes: SizeResult[]
  version: { homelab: Timing; node: Timing }
}

/** One contender of an alternating comparison: the command, its expected exit code, and checks around each run. */
interface Contender {
  name: string
  command: () => Command
  expectExit: number
  before?: () => void
  after?: (result: RunResult, timed: boolean) => void
}

/** Run the contenders in rounds, rotating who goes first so none always runs on a warmer (or dirtier) machine; times of timed rounds by name. */
function alternate(contenders: readonly Contender[], warmup: number, runs: number): Map<string, Timing> {
  const samples = new Map(contenders.map((c) => [c.name, [] as number[]]))
  for (let round = 0; round < warmup + runs; round++) {
    const timed = round >= warmup
    for (let i = 0; i < contenders.length; i++) {
      const contender = contenders[(i + round) % contenders.length] as Contender
      contender.before?.()
      settleDisk()
      const result = expectExit(runTimed(contender.command()), contender.expectExit, contender.name)
      contender.after?.(result, timed)
      if (timed) samples.get(contender.name)?.push(result.ms)
    }
  }
  return new Map([...samples].map(([name, s]) => [name, { samples: s, median: median(s) }]))
}

/**
 * Have the kernel write earlier runs' files to disk now (`sync`), so that a run
 * is not timed while the kernel writes back what the runs before it wrote.
 * Where there is no `sync` command, runs go on without it.
 */
function settleDisk(): void {
  spawnSync('sync', { stdio: 'ignore' })
}

/** `N written` of render's summary line. */
function writtenCount(result: RunResult): number {
  const summary = readRenderSummary(result.stdout)
  if (!summary) throw new Error(`no "N written" in the render summary:\n${result.stdout.slice(-500)}`)
  return summary.written
}

interface Context {
  tmp: string
  /**
   * Where the new folders of timed runs go when done, deleted only when the
   * whole benchmark ends. Deleting them between runs would time the file
   * system, not the contenders: ext4 without a journal skips inodes deleted
   * in the last minute (five while their block is dirty) when it creates a
   * file, reading each one's inode block, and right after a run's 7,000 files
   * are deleted, creating as many again takes 15 to 20 times as long.
   */
  trash: string
  /** The homelab binary under test (a frozen copy). */
  bin: string
  helm: string
  env: NodeJS.ProcessEnv
  helmEnv: NodeJS.ProcessEnv
  meter: MemoryMeter
  options: BenchOptions
}

async function benchSize(apps: number, ctx: Context): Promise<SizeResult> {
  const log = ctx.options.log ?? (() => {})
  const dir = path.join(ctx.tmp, `apps-${apps}`)
  const list = benchApps(apps)
  const home = path.join(dir, 'homelab')
  const changeHome = path.join(dir, 'homelab-change')
  const watchHome = path.join(dir, 'homelab-watch')
  const chart = path.join(dir, 'chart')
  const flatChart = path.join(dir, 'flat-chart')
  const empty = path.join(dir, 'empty')
  const steady = path.join(dir, 'steady')
  const changing = path.join(dir, 'changing')
  writeHomelab(home, list)
  writeHomelab(changeHome, list)
  writeHomelab(watchHome, list)
  writeHelmChart(chart, list)
  writeFlatHelmChart(flatChart, list)
  mkdirSync(empty, { recursive: true })

  const homelab = (source: string, ...args: string[]): Command => ({
    cmd: process.execPath,
    args: [ctx.bin, ...args, '--config', path.join(source, 'homelab.config.yaml')],
    cwd: dir,
    env: ctx.env,
  })
  const helm = (...args: string[]): Command => ({ cmd: ctx.helm, args: ['template', 'bench', chart, ...args], cwd: dir, env: ctx.helmEnv, discardStdout: true })
  const helmFlat = (): Command => ({ ...helm(), args: ['template', 'bench', flatChart] })
  let freshCount = 0
  let fresh = ''
  const nextFresh = () => (fresh = path.join(dir, `fresh-${freshCount++}`))
  // set aside, not deleted: see Context.trash
  const removeFresh = () => renameSync(fresh, path.join(ctx.trash, `${apps}-${path.basename(fresh)}`))

  // the folders the re-renders start from; the first render says how many files a full render writes
  let files = 0
  for (const [source, out] of [[home, steady], [changeHome, changing]] as const) {
    const written = writtenCount(expectExit(runTimed(homelab(source, 'render', '--out', out)), 0, 'first render'))
    files = snapshotFiles(out).size
    if (written !== files || files < objectFileCount(list) + apps) {
      throw new Error(`a first render of ${apps} apps wrote ${written} files by its summary, ${files} on disk; expected at least ${objectFileCount(list) + apps}`)
    }
  }

  // the disk's floor: a bare node loop writing files of the same paths and sizes as render does (temp file, rename, one after another)
  const floorList = path.join(dir, 'floor-files.json')
  writeFileSync(floorList, JSON.stringify([...snapshotFiles(steady).keys()].map((file) => [file, statSync(path.join(steady, file)).size])))
  const floorScript = path.join(dir, 'write-floor.mjs')
  writeFileSync(floorScript, WRITE_FLOOR_SCRIPT)

  const noopRewritten: Rewritten = { summary: [], onDisk: [] }
  const changeRewritten: Rewritten = { summary: [], onDisk: [] }
  let before = new Map<string, string>()
  let variant = 0
  const contenders: Contender[] = [
    { name: 'helm template', command: () => helm(), expectExit: 0 },
    { name: 'helm template, flat chart', command: () => helmFlat(), expectExit: 0 },
    // into an empty folder every file differs: exit 3
    { name: 'render --check', command: () => ({ ...homelab(home, 'render', '--check', '--out', empty), discardStdout: true }), expectExit: 3 },
    {
      name: 'helm template --output-dir',
      command: () => helm('--output-dir', nextFresh()),
      expectExit: 0,
      after: () => {
        // bench/charts/<app>/templates/<file>: a file per object file, as homelab writes them
        const written = readdirSync(path.join(fresh, 'bench', 'charts')).reduce((sum, app) => sum + readdirSync(path.join(fresh, 'bench', 'charts', app, 'templates')).length, 0)
        if (written !== objectFileCount(list)) throw new Error(`helm --output-dir wrote ${written} files, expected ${objectFileCount(list)}`)
        removeFresh()
      },
    },
    {
      name: 'render',
      command: () => homelab(home, 'render', '--out', nextFresh()),
      expectExit: 0,
      after: (result) => {
        if (writtenCount(result) !== files) throw new Error(`render wrote ${writtenCount(result)} files, expected ${files}`)
        removeFresh()
      },
    },
    {
      name: 'write floor',
      command: () => ({ cmd: process.execPath, args: [floorScript, floorList, nextFresh()], cwd: dir, env: ctx.env }),
      expectExit: 0,
      after: () => {
        if (snapshotFiles(fresh).size !== files) throw new Error(`the write floor wrote ${snapshotFiles(fresh).size} files, expected ${files}`)
        removeFresh()
      },
    },
    {
      name: 'no-op re-render',
      command: () => homelab(home, 'render', '--out', steady),
      expectExit: 0,
      before: () => (before = snapshotFiles(steady)),
      after: (result, timed) => {
        if (!timed) return
        noopRewritten.summary.push(writtenCount(result))
        noopRewritten.onDisk.push(countTouched(before, snapshotFiles(steady)))
      },
    },
    {
      name: 'one-app change',
      command: () => homelab(changeHome, 'render', '--out', changing),
      expectExit: 0,
      before: () => {
        // 1, 2, 1, 2, ...: every run differs from the one before in one app's options
        variant = (variant % 2) + 1
        writeFileSync(path.join(changeHome, 'homelab.config.yaml'), homelabConfigText(benchApps(apps, variant)))
        before = snapshotFiles(changing)
      },
      after: (result, timed) => {
        if (!timed) return
        changeRewritten.summary.push(writtenCount(result))
        changeRewritten.onDisk.push(countTouched(before, snapshotFiles(changing)))
      },
    },
  ]
  log(`${apps} apps: ${ctx.options.warmup} warm-up + ${ctx.options.runs} timed rounds of ${contenders.length} contenders`)
  const times = alternate(contenders, ctx.options.warmup, ctx.options.runs)
  if (readdirSync(empty).length > 0) throw new Error('render --check wrote into its output folder')

  log(`${apps} apps: peak memory`)
  const memory = {
    render: ctx.meter.maxRssMiB(homelab(home, 'render', '--out', nextFresh()), 0, true),
    check: ctx.meter.maxRssMiB({ ...homelab(home, 'render', '--check', '--out', empty), discardStdout: true }, 3, true),
    helmTemplate: ctx.meter.maxRssMiB(helm(), 0, false),
  }
  removeFresh()

  log(`${apps} apps: one-app changes under render --watch`)
  const watchChange = await timeWatchChanges({
    bin: ctx.bin,
    configPath: path.join(watchHome, 'homelab.config.yaml'),
    out: path.join(dir, 'watching'),
    cwd: dir,
    env: ctx.env,
    // as the one-app row: 1, 2, 1, ... from the base config, one app's options differing each time
    variants: [homelabConfigText(benchApps(apps, 1)), homelabConfigText(benchApps(apps, 2))],
    warmup: ctx.options.warmup,
    runs: ctx.options.runs,
  })
  const toMB = (mib: number | undefined) => (mib === undefined ? undefined : (mib * 1024 * 1024) / 1e6)
  const timing = (name: string) => times.get(name) as Timing
  return {
    apps,
    files,
    helmTemplate: timing('helm template'),
    helmFlatTemplate: timing('helm template, flat chart'),
    check: timing('render --check'),
    helmOutputDir: timing('helm template --output-dir'),
    render: timing('render'),
    floor: timing('write floor'),
    noop: timing('no-op re-render'),
    noopRewritten,
    change: timing('one-app change'),
    changeRewritten,
    watchChange,
    memory: { render: toMB(memory.render), check: toMB(memory.check), helmTemplate: toMB(memory.helmTemplate) },
  }
}

/**
 * The write floor: `node write-floor.mjs <list.json> <out>` writes files of the
 * listed paths and sizes as render writes its output (folders first, then each
 * file to a temp name and renamed, one after another), with no rendering at all.
 */
const WRITE_FLOOR_SCRIPT = `import { mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs'
import path from 'node:path'
const [list, out] = process.argv.slice(2)
const files = JSON.parse(readFileSync(list, 'utf8'))
for (const folder of new Set(files.map(([file]) => path.dirname(path.join(out, file))))) mkdirSync(folder, { recursive: true })
for (const [file, size] of files) {
  const target = path.join(out, file)
  const temp = target + '.tmp'
  writeFileSync(temp, Buffer.alloc(size, 120))
  renameSync(temp, target)
}
`

function machine(helm: string, env: NodeJS.ProcessEnv, loadBefore: number): Machine {
  const version = spawnSync(helm, ['version', '--template', '{{.Version}}'], { encoding: 'utf8', env })
  return {
    cpus: os.cpus().length,
    cpuModel: os.cpus()[0]?.model.trim() ?? 'unknown',
    memoryGiB: Math.round(os.totalmem() / 2 ** 30),
    os: `${os.type()} ${os.release()}`,
    node: process.version,
    helm: version.stdout.trim() || 'unknown',
    load: [loadBefore, os.loadavg()[0] ?? 0],
  }
}

/**
 * The child environment: no colour, no NODE_OPTIONS of the caller (a loader
 * there would be timed too), and the render memo on (the re-render rows
 * measure it), kept in the temp folder with the outputs it is about rather
 * than in the user's cache.
 */
function childEnv(tmp: string): { env: NodeJS.ProcessEnv; helmEnv: NodeJS.ProcessEnv } {
  const env: NodeJS.ProcessEnv = { ...process.env, NO_COLOR: '1', HOMELAB_CACHE_DIR: path.join(tmp, 'homelab-cache') }
  delete env.NODE_OPTIONS
  delete env.DEBUG
  delete env.HOMELAB_CACHE
  // helm keeps its caches and config in the temp folder, never in the user's home
  const helmEnv: NodeJS.ProcessEnv = { ...env, KUBECONFIG: '/dev/null' }
  for (const name of ['HELM_CACHE_HOME', 'HELM_CONFIG_HOME', 'HELM_DATA_HOME']) helmEnv[name] = path.join(tmp, 'helm-home', name.toLowerCase())
  return { env, helmEnv }
}

/**
 * A frozen copy of the built CLI (bin, dist, schema, package.json; node_modules
 * linked) in `dir`: a rebuild of the work tree during a long run, by a person
 * or a test, must not change the binary halfway. Returns its bin/homelab.js.
 */
function snapshotBinary(dir: string): { bin: string; binary: Binary } {
  const entry = path.join(ROOT, 'dist', 'cli', 'index.js')
  if (!existsSync(entry)) throw new Error('dist/ is missing: run npm run build')
  const git = (...args: string[]) => spawnSync('git', args, { cwd: ROOT, encoding: 'utf8' }).stdout?.trim() ?? ''
  const binary = { commit: git('rev-parse', '--short', 'HEAD') || 'unknown', dirty: git('status', '--porcelain', '--', 'src') !== '', builtAt: statSync(entry).mtime.toISOString() }
  for (const name of ['bin', 'dist', 'schema', 'package.json']) cpSync(path.join(ROOT, name), path.join(dir, name), { recursive: true })
  symlinkSync(path.join(ROOT, 'node_modules'), path.join(dir, 'node_modules'), 'dir')
  return { bin: path.join(dir, 'bin', 'homelab.js'), binary }
}

function build(log: (line: string) => void): void {
  log('npm run build')
  const result = spawnSync('npm', ['run', 'build'], { cwd: ROOT, stdio: ['ignore', 2, 2] })
  if (result.status !== 0) throw new Error('npm run build failed')
}

/** Run the whole benchmark (see BenchOptions) in a temp folder under os.tmpdir(), removed afterwards. */
export async function runBenchmark(options: BenchOptions): Promise<BenchResult> {
  const log = options.log ?? (() => {})
  if (options.build) build(log)
  const helm = await helmPath()
  const loadBefore = os.loadavg()[0] ?? 0
  const tmp = mkdtempSync(path.join(os.tmpdir(), 'homelab-bench-'))
  try {
    const { bin, binary } = snapshotBinary(path.join(tmp, 'homelab-cli'))
    const { env, helmEnv } = childEnv(tmp)
    const trash = path.join(tmp, 'trash')
    mkdirSync(trash)
    const ctx: Context = { tmp, trash, bin, helm, env, helmEnv, meter: new MemoryMeter(tmp), options }
    const sizes: SizeResult[] = []
    for (const apps of options.sizes) sizes.push(await benchSize(apps, ctx))
    log('homelab --version vs node -e 0')
    const node = (...args: string[]): Command => ({ cmd: process.execPath, args, cwd: tmp, env })
    const version = alternate(
      [
        {
          name: 'homelab --version',
          command: () => node(bin, '--version'),
          expectExit: 0,
          after: (result) => {
            if (!/^homelab \d/.test(result.stdout)) throw new Error(`homelab --version printed ${JSON.stringify(result.stdout)}`)
          },
        },
        { name: 'node -e 0', command: () => node('-e', '0'), expectExit: 0 },
      ],
      options.warmup * 3,
      options.runs * 4,
    )
    return {
      machine: machine(helm, helmEnv, loadBefore),
      binary,
      runs: options.runs,
      warmup: options.warmup,
      rssMethod: ctx.meter.method,
      sizes,
      version: { homelab: version.get('homelab --version') as Timing, node: version.get('node -e 0') as Timing },
    }
  } finally {
    if (options.keep) log(`kept ${tmp}`)
    else rmSync(tmp, { recursive: true, force: true })
  }
}

/** `--profile`: a CPU profile of one `render --check` of `apps` apps (after one run that saves the code cache), and its summary. */
async function profileCheck(apps: number, profileDir: string, log: (line: string) => void): Promise<string> {
  const tmp = mkdtempSync(path.join(os.tmpdir(), 'homelab-prof-'))
  try {
    writeHomelab(tmp, benchApps(apps))
    mkdirSync(path.join(tmp, 'empty'))
    const cli = path.join(tmp, 'homelab-cli')
    const { bin } = snapshotBinary(cli)
    rmSync(profileDir, { recursive: true, force: true })
    log(`profiling render --check of ${apps} apps into ${profileDir}`)
    const { env } = childEnv(tmp)
    const command: Command = {
      cmd: process.execPath,
      args: ['--cpu-prof', `--cpu-prof-dir=${profileDir}`, bin, 'render', '--check', '--out', 'empty', '--config', 'homelab.config.yaml'],
      cwd: tmp,
      env,
      discardStdout: true,
    }
    // a first run saves the code cache (code-cache.ts): the profile is of a run as users mostly see it, the second on
    expectExit(runTimed({ ...command, args: command.args.filter((arg) => !arg.startsWith('--cpu-prof')) }), 3, 'render --check (before the profiled run)')
    expectExit(runTimed(command), 3, 'render --check (profiled)')
    return summarizeProfile(loadProfiles(profileDir), { top: 15, root: cli })
  } finally {
    rmSync(tmp, { recursive: true, force: true })
  }
}

const USAGE = `usage: npm run bench [-- --apps N] [--runs 5] [--warmup 1] [--no-build] [--keep] [--json FILE] [--quick] [--profile [--profile-dir DIR]]`

async function main(argv: string[]): Promise<void> {
  const { values } = parseArgs({
    args: argv,
    options: {
      apps: { type: 'string' },
      runs: { type: 'string', default: '5' },
      warmup: { type: 'string', default: '1' },
      'no-build': { type: 'boolean', default: false },
      keep: { type: 'boolean', default: false },
      json: { type: 'string' },
      quick: { type: 'boolean', default: false },
      profile: { type: 'boolean', default: false },
      'profile-dir': { type: 'string', default: path.join(os.tmpdir(), 'homelab-prof') },
      help: { type: 'boolean', default: false },
    },
  })
  if (values.help) return void console.log(USAGE)
  const count = (value: string | undefined, name: string, min: number) => {
    const n = Number(value)
    if (!Number.isInteger(n) || n < min) throw new Error(`--${name} takes a whole number ≥ ${min}, got ${value}\n${USAGE}`)
    return n
  }
  const log = (line: string) => process.stderr.write(`bench: ${line}\n`)
  const build = !values['no-build']
  if (values.profile) {
    if (build) spawnSync('npm', ['run', 'build'], { cwd: ROOT, stdio: ['ignore', 2, 2] })
    console.log(await profileCheck(values.apps ? count(values.apps, 'apps', 1) : 1000, values['profile-dir'], log))
    return
  }
  const options: BenchOptions = values.quick
    ? { sizes: [5], runs: 1, warmup: 0, build, keep: values.keep, log }
    : {
        sizes: values.apps ? [count(values.apps, 'apps', 1)] : [100, 1000, 5000],
        runs: count(values.runs, 'runs', 1),
        warmup: count(values.warmup, 'warmup', 0),
        build,
        keep: values.keep,
        log,
      }
  const result = await runBenchmark(options)
  if (values.json) writeFileSync(values.json, `${JSON.stringify(result, null, 2)}\n`)
  console.log(formatReport(result))
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  main(process.argv.slice(2)).catch((error: unknown) => {
    console.error(error instanceof Error ? error.message : error)
    process.exitCode = 1
  })
}
