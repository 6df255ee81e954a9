/**
 * What bin/homelab.js runs, bundled as CommonJS into dist/bundle/start.cjs
 * (bundle.ts): cli/main.ts, which answers --version itself, then the CLI from
 * its bundle through the code cache (code-cache.ts), whose modules load only
 * then. CommonJS from the first line (bin/ is a CommonJS package): Node then
 * never starts its ES module loader, about 10 ms of every command.
 */
import { main } from './cli/main.js'

/** Run homelab with the command line `argv` (process.argv). */
export function start(argv: readonly string[]): Promise<void> {
  return main(argv, async () => (await import('./code-cache.js')).loadBundle(argv))
}
