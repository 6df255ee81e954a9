/**
 * Build step (after tsc): bundle the CLI (cli/index.ts), with the libraries
 * it always loads (yaml, handlebars, cac, globby, ajv) and the validators the
 * build compiled from schemas (dist/config/*.cjs), into one CommonJS
 * file, dist/bundle/homelab.cjs, which code-cache.ts runs; and start.ts, with
 * cli/main.ts and code-cache.ts, into dist/bundle/start.cjs, which
 * bin/homelab.js requires. Node then reads one
 * file at start-up instead of some 260 (about 100 ms off every command), and
 * code-cache.ts can keep V8's compiled code of it between runs, which Node 20
 * cannot do for ES modules. The commands' modules stay behind lazy imports
 * inside it: a command only runs the code it uses. Libraries found at run
 * time or used by a few commands stay outside: simple-git, execa,
 * kubernetes-models.
 *
 * dist/bundle/code-fingerprint.txt records a hash of the bundle, which the
 * render memo uses to forget renders made by other code.
 */
import { createHash } from 'node:crypto'
import { readFileSync, rmSync, writeFileSync } from 'node:fs'
import path from 'node:path'
import { fileURLToPath } from 'node:url'

/** The CLI's bundle, which code-cache.ts finds beside itself. */
const BUNDLE = fileURLToPath(new URL('./bundle/homelab.cjs', import.meta.url))
/** What bin/homelab.js requires: start.ts with cli/main.ts and code-cache.ts. */
const START = fileURLToPath(new URL('./bundle/start.cjs', import.meta.url))
/** The bundle's fingerprint file, which render-cache.ts reads from beside itself. */
const CODE_FINGERPRINT_FILE = 'code-fingerprint.txt'

async function bundle(): Promise<void> {
  const { build } = await import('esbuild')
  const outdir = path.dirname(BUNDLE)
  rmSync(outdir, { recursive: true, force: true })
  // both bundles are CommonJS (see code-cache.ts and start.ts)
  const common = {
    bundle: true,
    format: 'cjs',
    platform: 'node',
    target: 'node20',
    // import() becomes require(): a script run from V8's code cache (code-cache.ts) has lost what import() needs in
    // Node 20 ("A dynamic import callback was not specified"), and Node from 20.19 (package.json's engines) requires
    // ES modules such as execa
    supported: { 'dynamic-import': false },
    // the modules find files beside them (../../schema, code-fingerprint.txt) from import.meta.url: the bundle's own
    define: { 'import.meta.url': '__homelabModuleUrl' },
    banner: { js: "var __homelabModuleUrl = require('node:url').pathToFileURL(__filename).href;" },
    // less for Node to decode and parse on every start; names stay, for stack traces
    minifyWhitespace: true,
    minifySyntax: true,
    logLevel: 'warning',
  } as const
  await build({
    ...common,
    entryPoints: [fileURLToPath(new URL('./cli/index.js', import.meta.url))],
    outfile: BUNDLE,
    external: ['simple-git', 'execa', 'kubernetes-models', 'kubernetes-models/*'],
    // Handlebars loads the source-map library at start-up for a feature homelab does not use
    // (source maps of compiled templates), and falls back to its own code when it is missing
    plugins: [{ name: 'no-source-map', setup: (b) => {
      b.onResolve({ filter: /^source-map$/ }, () => ({ path: 'source-map', namespace: 'homelab-empty' }))
      b.onLoad({ filter: /.*/, namespace: 'homelab-empty' }, () => ({ contents: 'module.exports = {}', loader: 'js' }))
    } }],
    // for profiles (bench/profile-summary.ts) and `node --enable-source-maps` stack traces: the modules the code came from
    sourcemap: true,
    sourcesContent: false,
  })
  // what bin/homelab.js requires: a few KB, Node's own modules only
  await build({ ...common, entryPoints: [fileURLToPath(new URL('./start.js', import.meta.url))], outfile: START })
  // the validators compiled from schemas are inside it
  const hash = createHash('sha256').update(path.basename(BUNDLE)).update(readFileSync(BUNDLE))
  writeFileSync(path.join(outdir, CODE_FINGERPRINT_FILE), `${hash.digest('hex')}\n`)
}

if (process.argv[1] === fileURLToPath(import.meta.url)) await bundle()
