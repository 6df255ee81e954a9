/**
 * What bin/homelab.js runs: cli/main.ts, which answers --version itself,
 * then the CLI from the bundle, through the code cache (code-cache.ts), whose
 * modules load only then.
 */
import { main } from './cli/main.js'

/** Run homelab with the command line `argv` (process.argv). */
export function start(argv: readonly string[]): Promise<void> {
  return main(argv, async () => (await import('./code-cache.js')).loadBundle(argv))
}
