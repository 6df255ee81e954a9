/**
 * The CLI from the bundle (dist/bundle/homelab.cjs, bundle.ts), started from
 * V8's code cache when there is one (start.ts loads this module once a
 * command needs the CLI).
 *
 * Every command parses the bundle (about 900 KB) and compiles each function
 * it calls, on every run: about 80 ms of a re-render of 1000 apps after one
 * app changed, a sixth of it. Node 22 can keep that work between runs
 * (module.enableCompileCache); Node 20, which homelab supports, cannot, and
 * keeps none for ES modules. So the bundle is CommonJS, compiled here with
 * vm.Script, and when there is no cache for it yet, what V8 compiled during
 * the command is saved as the process exits (createCachedData after the run
 * holds the functions compiled while it ran, not only the top level), one
 * file per command in <cache folder>/code/.
 *
 * A file's name holds a hash of the bundle, Node's version and the platform:
 * V8 checks only the length of the source and its own version, and a cache of
 * other code of the same length would run that other code. V8 refuses a
 * cache made under other flags; it is then saved again.
 *
 * V8 runs what a cache holds without checking it further, so a cache is code:
 * a file is used only when it, and its folder, belong to the user running
 * homelab and no one else can write them (a HOMELAB_CACHE_DIR on a shared
 * /tmp, say, could otherwise hand a command someone else's code), and when
 * the SHA-256 written before its content still matches (a damaged file is
 * never handed to V8). A failure here (no cache folder, a file that cannot be
 * read or written, or is not safe to use) only means starting without the
 * cache. HOMELAB_CACHE=0 turns it off; DEBUG=homelab says what happened
 * (through the CLI's output, cli/output.ts).
 */
import { createHash } from 'node:crypto'
import { existsSync, lstatSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs'
import type { Stats } from 'node:fs'
import { createRequire } from 'node:module'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import vm from 'node:vm'
import { cacheDir, cacheEnabled } from './cache-dir.js'
import type { Cli } from './cli/main.js'

/** The bundle bundle.ts builds, beside this module's folder. */
export const BUNDLE = fileURLToPath(new URL('./bundle/homelab.cjs', import.meta.url))
/** The exit codes of a command that ran its whole course (success; differences found), whose compiled code is worth keeping. */
const COMPLETE_RUN = new Set([0, 3])

/** What the bundle exports: cli/index.ts. */
interface Bundle extends Cli {
  debugNote(line: string): void
}

/** The CLI from the bundle, with the code cache of the command in `argv` when there is one. */
export function loadBundle(argv: readonly string[]): Bundle {
  const source = readFileSync(BUNDLE, 'utf8')
  const cacheFile = cacheEnabled() ? codeCacheFile(source, argv) : undefined
  const cached = cacheFile === undefined ? undefined : readCodeCache(cacheFile)
  const cachedData = typeof cached === 'object' ? cached : undefined
  // CommonJS's own wrapper, on a line of its own so that line numbers (and the source map) stay the bundle's
  const script = new vm.Script(`(function (exports, require, module, __filename, __dirname) {\n${source}\n})`, {
    filename: BUNDLE,
    lineOffset: -1,
    cachedData,
  })
  const bundle = { exports: {} as Bundle }
  ;(script.runInThisContext() as (...args: unknown[]) => void)(bundle.exports, createRequire(BUNDLE), bundle, BUNDLE, path.dirname(BUNDLE))
  if (cacheFile !== undefined) {
    const used = cachedData !== undefined && !script.cachedDataRejected
    const state = used ? 'started from' : cachedData === undefined ? (cached ?? 'none yet at') : 'refused by V8 at'
    bundle.exports.debugNote(`code cache: ${state} ${cacheFile}`)
    if (!used) process.once('exit', (code) => COMPLETE_RUN.has(code) && bundle.exports.debugNote(saveCodeCache(script, cacheFile)))
  }
  return bundle.exports
}

/**
 * The cache file of this bundle run by this Node for the command in `argv`
 * (its first word; the commands compile different functions).
 */
function codeCacheFile(source: string, argv: readonly string[]): string {
  const hash = createHash('sha256').update(`${process.version}\0${process.arch}\0${process.platform}\0`).update(source).digest('hex')
  const command = argv.slice(2).find((arg) => !arg.startsWith('-'))
  const name = command !== undefined && /^[a-z]{1,20}$/.test(command) ? command : 'cli'
  return path.join(cacheDir(), 'code', `${hash.slice(0, 24)}-${name}.bin`)
}

/** Where a cache file stands when it cannot be used, as DEBUG=homelab says it. */
type Unusable = 'none yet at' | 'not used, as not only its owner can write it:' | 'damaged, not used:'

const DIGEST_BYTES = 32

/** The code V8 compiled, saved by saveCodeCache: checked to be the user's own and whole. */
function readCodeCache(file: string): Buffer | Unusable {
  let status: Stats | undefined
  try {
    status = lstatSync(file, { throwIfNoEntry: false })
    if (!status) return 'none yet at'
    if (!status.isFile() || !ownOnly(status) || !ownOnly(lstatSync(path.dirname(file)))) return 'not used, as not only its owner can write it:'
    const saved = readFileSync(file)
    const data = saved.subarray(DIGEST_BYTES)
    return saved.length > DIGEST_BYTES && createHash('sha256').update(data).digest().equals(saved.subarray(0, DIGEST_BYTES)) ? data : 'damaged, not used:'
  } catch {
    return 'none yet at'
  }
}

/** A file or folder of the user running homelab that no one else can write (where there are users: not on Windows). */
function ownOnly(status: Stats): boolean {
  const uid = process.getuid?.()
  return uid === undefined || (status.uid === uid && (status.mode & 0o022) === 0)
}

/**
 * Save what V8 compiled, by a rename so that another homelab starting at the
 * same time reads the old file or the new one, never half of one; the caches
 * of other bundles (an earlier version of homelab) are removed. Says what it
 * did, for DEBUG=homelab.
 */
function saveCodeCache(script: vm.Script, file: string): string {
  const dir = path.dirname(file)
  const hash = path.basename(file).split('-')[0]
  try {
    // the code folder alone is private: the folders above it are the cache folder's, as the memo makes them
    mkdirSync(path.dirname(dir), { recursive: true })
    if (!existsSync(dir)) mkdirSync(dir, { mode: 0o700 })
    const temp = `${file}.${process.pid}.tmp`
    const data = script.createCachedData()
    writeFileSync(temp, Buffer.concat([createHash('sha256').update(data).digest(), data]), { mode: 0o600 })
    renameSync(temp, file)
    for (const name of readdirSync(dir)) if (!name.startsWith(`${hash}-`)) rmSync(path.join(dir, name), { force: true })
    return `code cache: saved ${file}`
  } catch (error) {
    return `code cache: not saved: ${(error as Error).message}`
  }
}
