import { HomelabError } from './errors.js'
import { SECRET_ENV_VARS, redact, registerSecret } from './redact.js'

/**
 * The one way homelab runs another program (flux, kubectl): arguments as an
 * array, never a shell string; secrets only through the environment; every
 * message and output that can reach the user passed through redact().
 */
export interface RunOptions {
  /** Variables added to the inherited environment (undefined removes one). Values of secret variables are registered for redaction. */
  env?: Record<string, string | undefined>
  /** Names in `env` whose values are secrets (registered for redaction). Of the known token variables, only these reach the program. */
  secretEnv?: readonly string[]
  /** Text piped to stdin. */
  input?: string
  /**
   * Give the program this process's stdin, stdout and stderr, for one that may
   * ask a person a question. Its output is then neither captured nor redacted:
   * only for a program whose environment holds no secret.
   */
  interactive?: boolean
  cwd?: string
  timeoutMs?: number
}

export interface RunResult {
  exitCode: number
  /** Redacted. */
  stdout: string
  /** Redacted. */
  stderr: string
}

type Execa = typeof import('execa').execa
let execaFn: Execa | undefined

/** Run a program and return its (redacted) output whatever its exit code; only a missing program throws. */
export async function run(file: string, args: readonly string[], options: RunOptions = {}): Promise<RunResult> {
  for (const name of options.secretEnv ?? []) registerSecret(options.env?.[name])
  execaFn ??= (await import('execa')).execa
  // a program gets only the tokens it is given: one that writes its environment into a log or cache cannot spill the others
  const withheld = SECRET_ENV_VARS.filter((name) => !options.secretEnv?.includes(name))
  const result = await execaFn(file, [...args], {
    env: { ...Object.fromEntries(withheld.map((name) => [name, undefined])), ...options.env },
    extendEnv: true,
    // NODE_DEBUG=execa would otherwise print every command and its raw output to stderr, past redact()
    verbose: 'none',
    // without input, stdin is closed: a program that prompts (flux asks for a missing token) must fail, not wait
    ...(options.interactive ? { stdio: 'inherit' as const } : options.input === undefined ? { stdin: 'ignore' as const } : { input: options.input }),
    cwd: options.cwd,
    timeout: options.timeoutMs,
    reject: false,
    stripFinalNewline: false,
    encoding: 'utf8',
  })
  if ((result as { code?: string }).code === 'ENOENT' || (result.failed && result.exitCode === undefined && /ENOENT/.test(result.message ?? ''))) {
    throw new HomelabError(`${file} not found on PATH`)
  }
  if (result.timedOut) {
    throw new HomelabError(`${commandLine(file, args)} did not finish within ${Math.round((options.timeoutMs ?? 0) / 1000)} s`)
  }
  return {
    exitCode: result.exitCode ?? 1,
    stdout: redact(String(result.stdout ?? '')),
    stderr: redact(String(result.stderr ?? '')),
  }
}

/** Run a program; a non-zero exit becomes a HomelabError quoting its (redacted) stderr. */
export async function runChecked(file: string, args: readonly string[], options: RunOptions = {}): Promise<RunResult> {
  const result = await run(file, args, options)
  if (result.exitCode !== 0) {
    const output = lastLines(result.stderr || result.stdout)
    throw new HomelabError(`${commandLine(file, args)} failed (exit ${result.exitCode})${output ? `: ${output}` : ''}`)
  }
  return result
}

/** A command as shown to people: redacted, values quoted where needed. */
export function commandLine(file: string, args: readonly string[]): string {
  return redact([file, ...args].map(shellWord).join(' '))
}

/** One argument as a POSIX shell reads it back: as is when safe, else single-quoted. Not redacted. */
export function shellWord(arg: string): string {
  return /^[\w@%+=:,./-]+$/.test(arg) ? arg : `'${arg.replace(/'/g, `'\\''`)}'`
}

function lastLines(text: string, count = 3): string {
  return text
    .trim()
    .split('\n')
    .filter((line) => line.trim() !== '')
    .slice(-count)
    .join(' | ')
}
