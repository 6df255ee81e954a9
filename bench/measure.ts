/**
 * How the benchmark measures: wall time of one process, its peak memory, and
 * which files of a folder a run replaced. Processes run one at a time with
 * spawnSync, so nothing else of the benchmark competes with them.
 */
import { spawnSync } from 'node:child_process'
import { existsSync, lstatSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import path from 'node:path'

export interface Command {
  cmd: string
  args: string[]
  cwd: string
  env: NodeJS.ProcessEnv
  /** Send stdout to /dev/null instead of capturing it (as `> /dev/null` would). */
  discardStdout?: boolean
}

export interface RunResult {
  ms: number
  code: number
  stdout: string
  stderr: string
}

/** Run a command to its end and time it, from just before the spawn to just after the exit. */
export function runTimed(command: Command): RunResult {
  const started = performance.now()
  const result = spawnSync(command.cmd, command.args, {
    cwd: command.cwd,
    env: command.env,
    stdio: ['ignore', command.discardStdout ? 'ignore' : 'pipe', 'pipe'],
    encoding: 'utf8',
    maxBuffer: 512 * 1024 * 1024,
  })
  const ms = performance.now() - started
  if (result.error) throw result.error
  return { ms, code: result.status ?? 128, stdout: result.stdout ?? '', stderr: result.stderr ?? '' }
}

/** Throw with the command's output when it did not exit with `expected`. */
export function expectExit(result: RunResult, expected: number, what: string): RunResult {
  if (result.code !== expected) {
    throw new Error(`${what} exited ${result.code}, expected ${expected}\n${result.stdout.slice(-2000)}\n${result.stderr.slice(-2000)}`)
  }
  return result
}

/**
 * How peak memory (max RSS) is read: GNU time's `%M` (the kernel's rusage of
 * the child, taken at its exit) where /usr/bin/time is GNU time; otherwise, for
 * Node processes only, a preload that writes `process.resourceUsage().maxRSS`
 * from the child's own 'exit' event (the child's peak, not a wrapper's).
 */
export type RssMethod = 'gnu-time' | 'preload'

const PRELOAD = `import { writeFileSync } from 'node:fs'
const file = process.env.HOMELAB_BENCH_RSS_FILE
if (file) process.on('exit', () => writeFileSync(file, String(process.resourceUsage().maxRSS)))
`

export class MemoryMeter {
  readonly method: RssMethod
  private readonly preload: string
  private readonly resultFile: string

  constructor(private readonly tmp: string) {
    this.preload = path.join(tmp, 'max-rss-preload.mjs')
    this.resultFile = path.join(tmp, 'max-rss.txt')
    writeFileSync(this.preload, PRELOAD)
    this.method = this.gnuTimeWorks() ? 'gnu-time' : 'preload'
  }

  private gnuTimeWorks(): boolean {
    if (!existsSync('/usr/bin/time')) return false
    rmSync(this.resultFile, { force: true })
    const probe = spawnSync('/usr/bin/time', ['-f', '%M', '-o', this.resultFile, 'true'], { stdio: 'ignore' })
    return probe.status === 0 && /^\d+\s*$/.test(this.readResult() ?? '')
  }

  private readResult(): string | undefined {
    try {
      return readFileSync(this.resultFile, 'utf8').trim().split('\n').pop()
    } catch {
      return undefined
    }
  }

  /** Peak memory of one run of the command, in MiB; undefined where it cannot be measured (a non-Node program without GNU time). */
  maxRssMiB(command: Command, expectedExit: number, isNode: boolean): number | undefined {
    rmSync(this.resultFile, { force: true })
    let run: Command
    if (this.method === 'gnu-time') {
      run = { ...command, cmd: '/usr/bin/time', args: ['-f', '%M', '-o', this.resultFile, command.cmd, ...command.args] }
    } else if (isNode) {
      run = { ...command, args: ['--import', this.preload, ...command.args], env: { ...command.env, HOMELAB_BENCH_RSS_FILE: this.resultFile } }
    } else {
      return undefined
    }
    expectExit(runTimed(run), expectedExit, `${command.cmd} ${command.args.join(' ')} (memory run)`)
    const kib = Number(this.readResult())
    if (!Number.isFinite(kib) || kib <= 0) throw new Error(`no max RSS recorded for ${command.cmd}`)
    return kib / 1024
  }
}

/** Every file under `dir`: relative path → inode and modification time in ns. A rewrite (temp file + rename) changes the inode, an in-place write the mtime. */
export function snapshotFiles(dir: string): Map<string, string> {
  const out = new Map<string, string>()
  if (!existsSync(dir)) return out
  for (const entry of readdirSync(dir, { recursive: true }) as string[]) {
    const stat = lstatSync(path.join(dir, entry), { bigint: true })
    if (!stat.isDirectory()) out.set(entry, `${stat.ino}:${stat.mtimeNs}`)
  }
  return out
}

/** How many files were written, added or removed between two snapshots. */
export function countTouched(before: ReadonlyMap<string, string>, after: ReadonlyMap<string, string>): number {
  let touched = 0
  for (const [file, id] of after) if (before.get(file) !== id) touched++
  for (const file of before.keys()) if (!after.has(file)) touched++
  return touched
}

/** What a render's summary line says: `✔ rendered 5 apps into out/: 2 written, 0 removed, 31 unchanged (120 ms)`. */
export interface RenderSummary {
  written: number
  /** The render's own time as printed: whole ms below 1 s, tenths of a second above. */
  ms: number
}

/** The summary line in `text` (colours off), or undefined when there is none. */
export function readRenderSummary(text: string): RenderSummary | undefined {
  const match = /rendered \d+ apps? into .*: (\d+) written, \d+ removed, \d+ unchanged \(([\d.]+) (ms|s)\)/.exec(text)
  return match ? { written: Number(match[1]), ms: Number(match[2]) * (match[3] === 's' ? 1000 : 1) } : undefined
}

/** The median of the samples (the mean of the middle two for an even count). */
export function median(samples: readonly number[]): number {
  if (samples.length === 0) return Number.NaN
  const sorted = [...samples].sort((a, b) => a - b)
  const mid = Math.floor(sorted.length / 2)
  return sorted.length % 2 ? (sorted[mid] as number) : ((sorted[mid - 1] as number) + (sorted[mid] as number)) / 2
}
