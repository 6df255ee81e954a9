/**
 * Test stand-ins for `flux` and `kubectl` on a private PATH (see ./README.md).
 *
 * `createShimEnv()` makes a temp folder with `bin/` (symlinks to the shims), `tools/` (symlinks to the real
 * `node`, `git`, `sh`), a fake cluster state file and a call log, and returns an environment whose PATH holds
 * only those two folders: no real kubectl or flux from the machine can answer instead of a shim.
 */
import { accessSync, constants, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { delimiter, dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'

/** Folder holding the shim executables. */
export const SHIMS_DIR = join(dirname(fileURLToPath(import.meta.url)), 'shims')

export type ShimTool = 'flux' | 'kubectl'

/** Environment variables whose values the shims record. */
export type RecordedEnvVar =
  | 'GITHUB_TOKEN'
  | 'GITLAB_TOKEN'
  | 'GITEA_TOKEN'
  | 'BITBUCKET_TOKEN'
  | 'GIT_PASSWORD'
  | 'GIT_USERNAME'
  | 'HOMELAB_GIT_TOKEN'

/** One recorded call (one JSON line of the log). */
export interface ShimCall {
  tool: ShimTool
  argv: string[]
  /** The values of the recorded variables that were set. */
  env: Partial<Record<RecordedEnvVar, string>>
  /** What was piped to stdin (null: nothing, a TTY, or /dev/null). */
  stdin: string | null
  /** False when the caller left stdin open (the shim stopped waiting). */
  stdinClosed: boolean
  cwd: string
  exitCode: number
}

/** A GitRepository of the fake cluster, keyed `<namespace>/<name>` in `KubeState.gitRepositories`. */
export interface GitRepositoryEntry {
  url: string
  branch?: string
  path?: string
  interval?: string
  secretRef?: string
  /** The full object, when it was applied with kubectl. */
  object?: Record<string, unknown>
}

/** The fake cluster both shims read and write (JSON file named by SHIM_KUBE_STATE). */
export interface KubeState {
  /** `kubectl config current-context`; null/empty: "current-context is not set". */
  context: string | null
  /** Contexts that exist for --context (default: just `context`). */
  contexts?: string[]
  /** Whether the Flux CRDs are installed (default: true iff a GitRepository is recorded). */
  fluxInstalled?: boolean
  /** Server version for `flux check` / `kubectl version` (default 1.33.0). */
  kubernetesVersion?: string
  /** When set, namespaced objects can only be applied into these (plus Namespaces applied). */
  namespaces?: string[]
  gitRepositories: Record<string, GitRepositoryEntry>
  /** Every object applied with kubectl, in order (re-applying replaces the earlier entry). */
  applied: Array<Record<string, any>>
}

export interface ShimEnvOptions {
  /** Leave these shims out of bin/ (to test "flux not on PATH"). */
  omit?: ShimTool[]
  /** Initial fake cluster (merged over the defaults). */
  state?: Partial<KubeState>
  /** Extra variables (tokens, SHIM_FLUX_FAIL, …); undefined values are left out. */
  env?: Record<string, string | undefined>
  /** Real tools linked into tools/ (default node, git, sh). */
  tools?: string[]
}

export interface ShimEnv {
  dir: string
  binDir: string
  toolsDir: string
  logFile: string
  stateFile: string
  /** A complete environment for the process under test: pass it whole (execa: `extendEnv: false`). */
  env: Record<string, string>
  readLog(tool?: ShimTool): ShimCall[]
  readState(): KubeState
  writeState(state: KubeState): void
  cleanup(): void
}

/** Find an executable on the real PATH. */
function whichReal(name: string): string {
  if (name === 'node') return process.execPath
  for (const d of (process.env.PATH ?? '').split(delimiter)) {
    if (!d) continue
    const candidate = join(d, name)
    try {
      accessSync(candidate, constants.X_OK)
      return candidate
    } catch {
      // not here
    }
  }
  throw new Error(`createShimEnv: "${name}" is not on PATH`)
}

/** Make a temp folder with the shims on a private PATH, an empty fake cluster and a call log. */
export function createShimEnv(options: ShimEnvOptions = {}): ShimEnv {
  const dir = mkdtempSync(join(tmpdir(), 'homelab-shims-'))
  const binDir = join(dir, 'bin')
  const toolsDir = join(dir, 'tools')
  const home = join(dir, 'home')
  for (const d of [binDir, toolsDir, home]) mkdirSync(d)
  // Symlinks, not copies: the shims find their library and the `yaml` package from their real location.
  for (const tool of ['flux', 'kubectl'] as const) {
    if (!options.omit?.includes(tool)) symlinkSync(join(SHIMS_DIR, tool), join(binDir, tool))
  }
  for (const tool of options.tools ?? ['node', 'git', 'sh']) symlinkSync(whichReal(tool), join(toolsDir, tool))

  const logFile = join(dir, 'calls.jsonl')
  const stateFile = join(dir, 'cluster.json')
  const writeState = (state: KubeState) => writeFileSync(stateFile, JSON.stringify(state, null, 2) + '\n')
  writeState({ context: 'homelab-test', gitRepositories: {}, applied: [], ...options.state })

  const env: Record<string, string> = {
    PATH: [binDir, toolsDir].join(delimiter),
    HOME: home,
    SHIM_LOG: logFile,
    SHIM_KUBE_STATE: stateFile,
  }
  if (process.env.TMPDIR) env.TMPDIR = process.env.TMPDIR
  for (const [k, v] of Object.entries(options.env ?? {})) if (v !== undefined) env[k] = v

  return {
    dir,
    binDir,
    toolsDir,
    logFile,
    stateFile,
    env,
    readLog(tool) {
      if (!existsSync(logFile)) return []
      const calls = readFileSync(logFile, 'utf8')
        .split('\n')
        .filter((l) => l.trim() !== '')
        .map((l) => JSON.parse(l) as ShimCall)
      return tool ? calls.filter((c) => c.tool === tool) : calls
    },
    readState: () => JSON.parse(readFileSync(stateFile, 'utf8')) as KubeState,
    writeState,
    cleanup: () => rmSync(dir, { recursive: true, force: true }),
  }
}
