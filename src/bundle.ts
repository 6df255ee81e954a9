/**
 * Build step (after tsc): bundle the CLI, with the libraries it always loads
 * (yaml, handlebars, cac, globby), into a few files under dist/bundle/, which
 * bin/homelab.js runs. Node then reads a handful of files at start-up instead
 * of some 260, which takes about 100 ms off every command. Each command stays
 * its own chunk, loaded when it runs, as does ajv (loaded when a schema is
 * compiled). Libraries found at run time or used by a few commands stay
 * outside: simple-git, execa, kubernetes-models.
 *
 * dist/bundle/code-fingerprint.txt records a hash of the bundle and of the
 * validators compiled from schemas (dist/config/*.cjs), which the render memo
 * uses to forget renders made by other code.
 */
import { createHash } from 'node:crypto'
import { readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs'
import path from 'node:path'
import { fileURLToPath } from 'node:url'

/** Where the bundle goes, beside dist/cli and dist/config: paths relative to a module (`../../schema`) work from either. */
const BUNDLE_DIR = new URL('./bundle/', import.meta.url)
/** The bundle's fingerprint file, which render-cache.ts reads from beside itself. */
const CODE_FINGERPRINT_FILE = 'code-fingerprint.txt'

async function bundle(): Promise<void> {
  const { build } = await import('esbuild')
  const outdir = fileURLToPath(BUNDLE_DIR)
  rmSync(outdir, { recursive: true, force: true })
  await build({
    entryPoints: [fileURLToPath(new URL('./cli/main.js', import.meta.url))],
    outdir,
    bundle: true,
    splitting: true,
    format: 'esm',
    platform: 'node',
    target: 'node20',
    external: ['simple-git', 'execa', 'kubernetes-models', 'kubernetes-models/*'],
    // the CommonJS libraries inside call require() for Node's modules
    banner: { js: "import { createRequire as __homelabCreateRequire } from 'node:module'; const require = __homelabCreateRequire(import.meta.url);" },
    // Handlebars loads the source-map library at start-up for a feature homelab does not use
    // (source maps of compiled templates), and falls back to its own code when it is missing
    plugins: [{ name: 'no-source-map', setup: (b) => {
      b.onResolve({ filter: /^source-map$/ }, () => ({ path: 'source-map', namespace: 'homelab-empty' }))
      b.onLoad({ filter: /.*/, namespace: 'homelab-empty' }, () => ({ contents: 'module.exports = {}', loader: 'js' }))
    } }],
    // less for Node to decode and parse on every start; names stay, for stack traces
    minifyWhitespace: true,
    minifySyntax: true,
    // for profiles (bench/profile-summary.ts) and `node --enable-source-maps` stack traces: the modules the code came from
    sourcemap: true,
    sourcesContent: false,
    logLevel: 'warning',
  })
  const hash = createHash('sha256')
  for (const file of readdirSync(outdir).sort()) if (file.endsWith('.js')) hash.update(file).update(readFileSync(path.join(outdir, file)))
  // and the validators the build compiled from schemas, which the bundle loads from dist/config
  const validators = fileURLToPath(new URL('./config/', import.meta.url))
  for (const file of readdirSync(validators).sort()) if (file.endsWith('.cjs')) hash.update(file).update(readFileSync(path.join(validators, file)))
  writeFileSync(path.join(outdir, CODE_FINGERPRINT_FILE), `${hash.digest('hex')}\n`)
}

if (process.argv[1] === fileURLToPath(import.meta.url)) await bundle()
