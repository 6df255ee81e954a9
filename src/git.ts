/**
 * The one module that talks to git (through simple-git 4): clone the manifest
 * repository, stage, commit, push, refresh after a rejected push, and read the
 * source repository's HEAD and its uncommitted changes.
 *
 * Credentials: for an http(s) remote, HOMELAB_GIT_TOKEN reaches git only
 * through its environment, read by a GIT_ASKPASS script in a private temp
 * folder. The token is never in argv, a remote URL, .git/config or a message.
 * Those git processes also get a private HOME and no system config, so no
 * credential helper of the machine can answer instead of the token or store
 * it afterwards. SSH remotes and local paths use the user's own setup.
 */
import { chmod, mkdir, mkdtemp, realpath, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import path from 'node:path'
import type { SimpleGit, SimpleGitOptions } from 'simple-git'
import { HomelabError } from './errors.js'
import { redact, redactUrl, registerSecret, urlHasPassword } from './redact.js'

export type RemoteKind = 'http' | 'ssh' | 'local'

/** Who commits. */
export interface Identity {
  name: string
  email: string
}

/** The commit of the source repository a publish renders. */
export interface SourceHead {
  sha: string
  subject: string
}

/** The variable the askpass script reads; git's children inherit it, nothing else sees it. */
const TOKEN_ENV = 'HOMELAB_GIT_TOKEN'
/** Variables git may need from the user's environment (network, SSH agent, temp). Nothing GIT_*. */
const PASS_THROUGH = [
  'PATH', 'HOME', 'USER', 'LOGNAME', 'TMPDIR', 'SystemRoot', 'SSH_AUTH_SOCK',
  'HTTP_PROXY', 'HTTPS_PROXY', 'NO_PROXY', 'ALL_PROXY', 'http_proxy', 'https_proxy', 'no_proxy', 'all_proxy',
]
const ASKPASS_SCRIPT = [
  '#!/bin/sh',
  '# git asks "Username for ..." then "Password for ...": the password is the token from the environment',
  'case "$1" in',
  "  Username*) printf '%s\\n' x-access-token ;;",
  `  *) printf '%s\\n' "$${TOKEN_ENV}" ;;`,
  'esac',
  '',
].join('\n')

type SimpleGitFactory = (options: Partial<SimpleGitOptions>) => SimpleGit
let factory: SimpleGitFactory | undefined

async function loadSimpleGit(): Promise<SimpleGitFactory> {
  if (!factory) {
    // simple-git's debug output prints each child's environment, token included:
    // keep its namespaces off whatever DEBUG says (`debug` reads DEBUG once, at load).
    const debug = process.env.DEBUG
    if (debug) process.env.DEBUG = `${debug},-simple-git,-simple-git:*`
    try {
      factory = (await import('simple-git')).simpleGit as SimpleGitFactory
    } finally {
      if (debug === undefined) delete process.env.DEBUG
      else process.env.DEBUG = debug
    }
  }
  return factory
}

/** How a repository address is reached: http(s) (token), ssh (the user's keys) or a local path. */
export function remoteKind(remote: string): RemoteKind {
  if (/^https?:\/\//i.test(remote)) return 'http'
  if (/^(ssh|git\+ssh|ssh\+git):\/\//i.test(remote) || /^[\w.-]+@[\w.-]+:/.test(remote)) return 'ssh'
  return 'local'
}

/** Refuse an address that carries a password (see urlHasPassword): git would get it in argv and write it into .git/config. */
export function checkRemote(remote: string): void {
  if (urlHasPassword(remote)) {
    throw new HomelabError(`the repository URL ${redactUrl(remote)} contains a password`, {
      hint: `remove it from the URL and put the token in ${TOKEN_ENV} instead`,
    })
  }
}

function baseEnv(source: NodeJS.ProcessEnv): Record<string, string> {
  const env: Record<string, string> = { LANG: 'C', LC_ALL: 'C' } // English messages: they are parsed and quoted
  for (const name of PASS_THROUGH) {
    const value = source[name]
    if (value !== undefined) env[name] = value
  }
  return env
}

/**
 * What the server said (`remote: …` lines: a hook's or the hosting service's
 * reason for refusing a push): its error lines, else its other lines, without
 * progress. Git itself then only says "failed to push some refs".
 */
function remoteMessage(lines: string[]): string[] {
  const said = lines
    .filter((line) => /^remote:/i.test(line))
    .map((line) => line.replace(/^remote:\s*/i, ''))
    .filter((line) => line !== '' && !/^(Enumerating|Counting|Compressing|Resolving|Total \d)/.test(line))
  const errors = said.filter((line) => /^(fatal|error):/i.test(line))
  return (errors.length > 0 ? errors : said).slice(0, 3).map((line) => line.replace(/^(fatal|error):\s*/i, ''))
}

/** Why the server refused a ref (`git push --porcelain` on stdout: `!<TAB>ref<TAB>[remote rejected] (reason)`). */
function rejectionReason(lines: string[]): string | undefined {
  for (const line of lines) {
    const reason = /^!\s.*\[(?:remote )?rejected\][^(]*\((.+)\)$/.exec(line)?.[1]
    if (reason) return reason
  }
  return undefined
}

/** A git error as one redacted HomelabError line, with a hint for the usual causes. */
export function gitFailure(what: string, error: unknown, remote?: string): HomelabError {
  // simple-git's message holds the command's stdout (push --porcelain's ref lines) and stderr
  const raw = error instanceof Error ? error.message : String(error)
  const lines = raw
    .split('\n')
    .map((line) => line.trim())
    .filter((line) => line !== '' && !/^(hint|warning):/i.test(line) && !/^(To|From) /.test(line))
  const said = remoteMessage(lines)
  const rejected = rejectionReason(lines)
  // git's own verdict (fatal:/error:) says it best, unless it is only "failed to push some refs" and the server said why; else the last lines
  let verdict = lines.filter((line) => /^(fatal|error):/i.test(line))
  if (said.length > 0 || rejected) verdict = verdict.filter((line) => !/failed to push some refs/i.test(line))
  const own = verdict.length > 0 || said.length > 0 || rejected ? verdict : lines.slice(-3)
  const reason = [...own.slice(-3).map((line) => line.replace(/^(fatal|error): /i, '')), ...said].join(' | ')
  const detail = [reason, rejected && `(${rejected})`].filter(Boolean).join(' ') || 'git failed'
  let hint: string | undefined
  if (/authentication failed|could not read (username|password)|returned error: (401|403)|terminal prompts disabled|permission to .* denied/i.test(raw)) {
    hint = remote && remoteKind(remote) === 'ssh'
      ? 'check that your SSH key may read and write the repository'
      : `set ${TOKEN_ENV} to a token with read and write access to the repository's contents`
  } else if (/permission denied \(publickey/i.test(raw)) {
    hint = 'check that your SSH key (or ssh-agent) may read and write the repository'
  } else if (/remote branch .* not found/i.test(raw)) {
    hint = 'the branch must exist in the manifest repository (flux bootstrap creates it); check --branch or flux.branch'
  }
  return new HomelabError(redact(`${what} failed: ${detail}`), { hint: hint && redact(hint) })
}

async function guarded<T>(what: string, remote: string | undefined, fn: () => Promise<T>): Promise<T> {
  try {
    return await fn()
  } catch (error) {
    throw gitFailure(what, error, remote)
  }
}

/** A push either lands or is rejected because the branch moved on (fetch and try again). */
export type PushOutcome = 'pushed' | 'rejected'

/** A line of `git push --porcelain` (or its stderr) saying the remote branch moved: worth a fetch and retry. */
export function isRaceRejection(output: string): boolean {
  return output.split('\n').some((line) =>
    /\[rejected\].*\((fetch first|non-fast-forward|stale info)\)/.test(line) ||
    /\[remote rejected\].*\((non-fast-forward|failed to update ref|failed to lock|cannot lock ref|incorrect old value.*)\)/.test(line),
  )
}

/**
 * A shallow clone of one branch in a private temp folder
 * (`$TMPDIR/homelab-publish-*`: the clone in `repo/`, the askpass script and
 * the private HOME beside it). `dispose()` deletes it all.
 */
export class ManifestClone {
  private constructor(
    /** The temp folder holding everything of this clone. */
    readonly workDir: string,
    /** The working tree. */
    readonly dir: string,
    readonly remote: string,
    readonly branch: string,
    private readonly git: SimpleGit,
  ) {}

  /** Shallow-clone `branch` of `remote` (a URL or a local path) into a new temp folder. */
  static async open(remote: string, branch: string, options: { token?: string; env?: NodeJS.ProcessEnv } = {}): Promise<ManifestClone> {
    checkRemote(remote)
    // the clone runs inside the temp folder: a relative local path means one relative to here
    if (remoteKind(remote) === 'local' && !/^file:\/\//i.test(remote)) remote = path.resolve(remote)
    const simpleGit = await loadSimpleGit()
    const workDir = await mkdtemp(path.join(tmpdir(), 'homelab-publish-'))
    try {
      const dir = path.join(workDir, 'repo')
      const env = baseEnv(options.env ?? process.env)
      const useToken = remoteKind(remote) === 'http' && Boolean(options.token)
      if (useToken) {
        registerSecret(options.token)
        const askpass = path.join(workDir, 'askpass.sh')
        await writeFile(askpass, ASKPASS_SCRIPT, { mode: 0o700 })
        await chmod(askpass, 0o700)
        const home = path.join(workDir, 'home')
        await mkdir(home, { mode: 0o700 })
        Object.assign(env, { HOME: home, GIT_ASKPASS: askpass, GIT_CONFIG_NOSYSTEM: '1', [TOKEN_ENV]: options.token as string })
      }
      const make = (baseDir: string) =>
        simpleGit({
          baseDir,
          maxConcurrentProcesses: 1,
          // the one guard lifted, and only for token auth: GIT_ASKPASS in the environment
          unsafe: useToken ? { allowUnsafeAskPass: true } : {},
          allowEnvironment: useToken ? ['GIT_ASKPASS', 'GIT_CONFIG_NOSYSTEM'] : [],
        }).env(env)
      await guarded(`git clone of ${redact(remote)} (branch ${branch})`, remote, () =>
        make(workDir).raw(['clone', '--quiet', '--depth', '1', '--no-tags', '--single-branch', '--branch', branch, '--', remote, dir]),
      )
      return new ManifestClone(workDir, dir, remote, branch, make(dir))
    } catch (error) {
      await rm(workDir, { recursive: true, force: true })
      throw error
    }
  }

  /** The commit the working tree is on. */
  async head(): Promise<string> {
    return (await guarded('git rev-parse', undefined, () => this.git.raw(['rev-parse', 'HEAD']))).trim()
  }

  /** Stage every change under `folder` (additions, edits, deletions); return the staged paths. */
  async stage(folder: string): Promise<string[]> {
    return guarded('git add', undefined, async () => {
      await this.git.raw(['add', '--all', '--', `:(top)${folder}`])
      const names = await this.git.raw(['diff', '--cached', '--name-only', '-z'])
      return names.split('\0').filter(Boolean)
    })
  }

  /** Commit what is staged; return the new commit's sha. Hooks of the user's config do not run. */
  async commit(message: string, author: Identity): Promise<string> {
    await guarded('git commit', undefined, () =>
      this.git.raw(['-c', `user.name=${author.name}`, '-c', `user.email=${author.email}`, 'commit', '--quiet', '--no-verify', '-m', message]),
    )
    return this.head()
  }

  /** Push HEAD to the branch, never forced. A push refused because the branch moved on is 'rejected'. */
  async push(): Promise<PushOutcome> {
    try {
      await this.git.raw(['push', '--porcelain', '--no-verify', 'origin', `HEAD:refs/heads/${this.branch}`])
      return 'pushed'
    } catch (error) {
      if (isRaceRejection(error instanceof Error ? error.message : String(error))) return 'rejected'
      throw gitFailure(`git push to ${redact(this.remote)} (branch ${this.branch})`, error, this.remote)
    }
  }

  /** After a rejected push: fetch the branch's new head and make the working tree exactly that commit; return its sha. */
  async resetToRemote(): Promise<string> {
    const tracking = `refs/remotes/origin/${this.branch}`
    await guarded(`git fetch of ${redact(this.remote)} (branch ${this.branch})`, this.remote, () =>
      this.git.raw(['fetch', '--quiet', '--depth', '1', '--no-tags', 'origin', `+refs/heads/${this.branch}:${tracking}`]),
    )
    await guarded('git reset', undefined, async () => {
      await this.git.raw(['reset', '--quiet', '--hard', tracking])
      await this.git.raw(['clean', '--quiet', '-d', '--force'])
    })
    return this.head()
  }

  /** Delete the temp folder (clone, askpass script, private HOME). */
  async dispose(): Promise<void> {
    await rm(this.workDir, { recursive: true, force: true })
  }
}

/** The HEAD commit of the repository holding `dir`; undefined when `dir` is not in a git repository. */
export async function readSourceHead(dir: string, env: NodeJS.ProcessEnv = process.env): Promise<SourceHead | undefined> {
  const git = (await loadSimpleGit())({ baseDir: dir }).env(baseEnv(env))
  try {
    const out = await git.raw(['log', '-1', '--format=%H%x00%s'])
    const [sha = '', subject = ''] = out.trim().split('\0')
    return sha ? { sha, subject } : undefined
  } catch {
    return undefined
  }
}

/** A path with its symbolic links resolved, as git reports the repository's top; a missing one through its nearest existing folder. */
async function realPath(file: string): Promise<string> {
  try {
    return await realpath(file)
  } catch {
    const parent = path.dirname(file)
    return parent === file ? file : path.join(await realPath(parent), path.basename(file))
  }
}

/**
 * The files under `paths` (absolute; files or folders) that differ from HEAD
 * in the repository holding `dir`: modified, staged, deleted or untracked (not
 * ignored), as absolute paths, sorted. Paths outside that repository are not
 * looked at. Undefined when `dir` is in no git repository, or git cannot tell.
 */
export async function readUncommitted(dir: string, paths: readonly string[], env: NodeJS.ProcessEnv = process.env): Promise<string[] | undefined> {
  const git = (await loadSimpleGit())({ baseDir: dir }).env(baseEnv(env))
  try {
    const top = (await git.raw(['rev-parse', '--show-toplevel'])).trim()
    if (!top) return undefined
    const pathspecs: string[] = []
    for (const file of paths) {
      const relative = path.relative(top, await realPath(file))
      if (relative === '..' || relative.startsWith(`..${path.sep}`) || path.isAbsolute(relative)) continue
      pathspecs.push(`:(top,literal)${relative.split(path.sep).join('/')}`)
    }
    if (pathspecs.length === 0) return []
    // no optional locks: only look, never refresh the index another git may be writing
    const out = await git.raw(['--no-optional-locks', 'status', '--porcelain=v1', '-z', '--no-renames', '--untracked-files=all', '--', ...pathspecs])
    // `XY path` entries, paths relative to the top; a file both staged as deleted and untracked comes twice
    const files = new Set(out.split('\0').filter((entry) => entry.length > 3).map((entry) => path.join(top, entry.slice(3))))
    return [...files].sort()
  } catch {
    return undefined
  }
}

/** The committer: GIT_AUTHOR_NAME/EMAIL, else the user's git config (as seen from `dir`), else homelab <homelab@localhost>. */
export async function readIdentity(dir: string, env: NodeJS.ProcessEnv = process.env): Promise<Identity> {
  const git = (await loadSimpleGit())({ baseDir: dir }).env(baseEnv(env))
  const configured = async (key: string): Promise<string | undefined> => {
    try {
      return (await git.raw(['config', '--get', key])).trim() || undefined
    } catch {
      return undefined
    }
  }
  return {
    name: env.GIT_AUTHOR_NAME || (await configured('user.name')) || 'homelab',
    email: env.GIT_AUTHOR_EMAIL || (await configured('user.email')) || 'homelab@localhost',
  }
}

/**
 * Run `fn` on a shallow clone of `branch` of `url` (read only by convention),
 * then delete the clone. The token defaults to HOMELAB_GIT_TOKEN of `env`.
 */
export async function withShallowClone<T>(
  options: { url: string; branch: string; token?: string; env?: NodeJS.ProcessEnv },
  fn: (dir: string) => Promise<T>,
): Promise<T> {
  const env = options.env ?? process.env
  const clone = await ManifestClone.open(options.url, options.branch, { token: options.token ?? (env.HOMELAB_GIT_TOKEN || undefined), env })
  try {
    return await fn(clone.dir)
  } finally {
    await clone.dispose()
  }
}
