import { spawn } from 'node:child_process'
import { cpSync, mkdtempSync, mkdirSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { fileURLToPath } from 'node:url'

/** The repository root. */
export const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..')
/** The built binary, exactly as a user runs it (npm run build first: `npm test` does). */
export const BIN = path.join(ROOT, 'bin', 'homelab.js')
/** The shared fixtures beside the repository. */
export const SHARED = path.resolve(ROOT, '..', 'shared')
export const FLUX_CRDS_DIR = path.join(SHARED, 'fixtures', 'flux-crds')

/** Where the CLIs that tests run keep their render memo. */
export const TEST_CACHE_DIR = mkdtempSync(path.join(tmpdir(), 'homelab-test-cache-'))
process.on('exit', () => rmSync(TEST_CACHE_DIR, { recursive: true, force: true }))

/** The environment the tests run the CLI in: no colour, and the render memo in TEST_CACHE_DIR, not the user's cache. */
export function cliEnv(extra: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv {
  return { ...process.env, NO_COLOR: '1', HOMELAB_CACHE_DIR: TEST_CACHE_DIR, ...extra }
}

export interface CliResult {
  code: number
  stdout: string
  stderr: string
}

/** Run the built `homelab` binary in `cwd`. `env` replaces the environment when `replaceEnv` is set, else extends it. */
export function runCli(
  args: readonly string[],
  options: { cwd?: string; env?: NodeJS.ProcessEnv; replaceEnv?: boolean; input?: string; timeoutMs?: number } = {},
): Promise<CliResult> {
  return new Promise((resolve, reject) => {
    const env = options.replaceEnv ? options.env : cliEnv(options.env)
    const child = spawn(process.execPath, [BIN, ...args], { cwd: options.cwd ?? ROOT, env, stdio: ['pipe', 'pipe', 'pipe'] })
    let stdout = ''
    let stderr = ''
    child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d))
    child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d))
    const timer = setTimeout(() => child.kill('SIGKILL'), options.timeoutMs ?? 60_000)
    child.on('error', reject)
    child.on('close', (code, signal) => {
      clearTimeout(timer)
      resolve({ code: code ?? (signal ? 128 : 1), stdout, stderr })
    })
    child.stdin.end(options.input ?? '')
  })
}

/** A fresh temp folder. */
export function tempDir(prefix = 'homelab-test-'): string {
  return mkdtempSync(path.join(tmpdir(), prefix))
}

/** Write files (path → content) under `dir`, making folders. */
export function writeFiles(dir: string, files: Record<string, string>): void {
  for (const [file, content] of Object.entries(files)) {
    const full = path.join(dir, file)
    mkdirSync(path.dirname(full), { recursive: true })
    writeFileSync(full, content)
  }
}

/** A temp copy of the example homelab of this repository (config + templates). */
export function copyExample(): string {
  const dir = tempDir('homelab-example-')
  cpSync(path.join(ROOT, 'homelab.config.yaml'), path.join(dir, 'homelab.config.yaml'))
  cpSync(path.join(ROOT, 'templates'), path.join(dir, 'templates'), { recursive: true })
  return dir
}

/** Every file under `dir` (relative paths with `/`) → content, for byte-for-byte comparisons. */
export function readTree(dir: string): Map<string, string> {
  const out = new Map<string, string>()
  const walk = (sub: string) => {
    let entries: string[]
    try {
      entries = readdirSync(path.join(dir, sub))
    } catch {
      return
    }
    for (const entry of entries.sort()) {
      const rel = sub ? `${sub}/${entry}` : entry
      if (statSync(path.join(dir, rel)).isDirectory()) walk(rel)
      else out.set(rel, readFileSync(path.join(dir, rel), 'latin1'))
    }
  }
  walk('')
  return out
}

export function removeDir(dir: string): void {
  rmSync(dir, { recursive: true, force: true })
}

/**
 * A minimal homelab in a temp folder: one template `web` (a ConfigMap with an
 * option) and the config given (YAML text). Extra files override or add.
 */
export function minimalHomelab(config: string, extra: Record<string, string> = {}): string {
  const dir = tempDir('homelab-min-')
  writeFiles(dir, {
    'homelab.config.yaml': config,
    'templates/web/template.yaml': [
      'description: a tiny test app',
      'options:',
      '  type: object',
      '  additionalProperties: false',
      '  properties:',
      '    greeting: { type: string, default: hello }',
      '    replicas: { type: integer, minimum: 0, default: 1 }',
      '',
    ].join('\n'),
    'templates/web/configmap.yaml.hbs': [
      'apiVersion: v1',
      'kind: ConfigMap',
      'metadata:',
      '  name: {{app.id}}',
      '  namespace: {{app.namespace}}',
      'data:',
      '  greeting: {{quote options.greeting}}',
      '  replicas: {{quote options.replicas}}',
      '',
    ].join('\n'),
    ...extra,
  })
  return dir
}

/** The config text of a minimal homelab with the given `apps:` block (YAML lines, indented by two). */
export function minimalConfig(apps: string): string {
  return ['cluster:', '  name: test', 'flux:', '  repository: https://github.com/example/manifests.git', 'apps:', apps, ''].join('\n')
}
