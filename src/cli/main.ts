import { readFileSync } from 'node:fs'
import { debugEnabled, write } from './output.js'

/**
 * The entry point of the `homelab` binary. `--version` is answered here,
 * before the CLI and its modules load, so it costs no more than starting node.
 */
export async function main(argv: readonly string[]): Promise<void> {
  if (wantsVersion(argv.slice(2))) {
    process.stdout.write(`homelab ${version()}\n`)
    return
  }
  const { runCli } = await import('./index.js')
  await runCli(argv)
}

/** A `debug:` line on stderr under DEBUG=homelab, for what happens before and after the CLI runs (start.ts). */
export function debugNote(line: string): void {
  if (debugEnabled()) write(`debug: ${line}\n`, process.stderr)
}

/** The version in package.json. */
export function version(): string {
  return (JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string }).version
}

/** `--version` / `-v` anywhere before `--`. */
function wantsVersion(args: readonly string[]): boolean {
  for (const arg of args) {
    if (arg === '--') return false
    if (arg === '--version' || arg === '-v') return true
  }
  return false
}
