import { readFileSync } from 'node:fs'

/** The command-line interface (cli/index.ts), from the bundle (code-cache.ts). */
export interface Cli {
  runCli(argv: readonly string[]): Promise<void>
}

/**
 * The entry point of the `homelab` binary. `--version` is answered here,
 * before the CLI and its modules load (or the bundle is read), so it costs
 * no more than starting node.
 */
export async function main(argv: readonly string[], loadCli: () => Cli | Promise<Cli>): Promise<void> {
  if (wantsVersion(argv.slice(2))) {
    process.stdout.write(`homelab ${version()}\n`)
    return
  }
  const { runCli } = await loadCli()
  await runCli(argv)
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
