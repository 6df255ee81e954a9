/**
 * The CLI from the bundle (dist/bundle/homelab.cjs, bundle.ts), started from
 * V8's code cache when there is one (start.ts loads this module once a
 * command needs the CLI; both run from dist/bundle/start.cjs).
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
 * a file is used only when the file opened (not a link) belongs to the user
 * running homelab and no one else can write it (a HOMELAB_CACHE_DIR on a
 * shared /tmp, say, could otherwise hand a command someone else's code), and
 * when the SHA-256 written before its content still matches (a damaged file is
 * never handed to V8). Saving goes only into a code/ folder of the user's own
 * that no one else can write, through a new temp file (never an existing path
 * or a link), and removes nothing but cache files.
 *
 * The cache holds the functions the run that saved it compiled: a short run
 * (`--help`, a render the memo skipped) saves a small one. A run that ends
 * with a fifth more compiled code (V8's bytecode size) than the run that
 * saved the cache it started from saves it again, so the cache grows to what
 * the longest runs compile, in a few saves. Other bundles' caches (another install, another Node) are
 * kept, the two newest per command besides this bundle's.
 *
 * A failure here (no cache folder, a file that cannot be read or written, or
 * is not safe to use) only means starting without the cache. HOMELAB_CACHE=0
 * turns it off; so does `--enable-source-maps`, whose stack traces need the
 * bundle loaded by require(). DEBUG=homelab says what happened (through the
 * CLI's output, cli/output.ts).
 */
import { createHash, randomBytes } from 'node:crypto'
import { closeSync, constants, fstatSync, lstatSync, mkdirSync, openSync, readdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs'
import type { Stats } from 'node:fs'
import { createRequire } from 'node:module'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import { getHeapCodeStatistics } from 'node:v8'
import vm from 'node:vm'
import { cacheDir, cacheEnabled } from './cache-dir.js'
import type { Cli } from './cli/main.js'

/** The CLI's bundle: beside this module, which runs bundled into dist/bundle/start.cjs (bundle.ts). */
const BUNDLE = fileURLToPath(new URL('./homelab.cjs', import.meta.url))
/** The exit codes of a command that ran its whole course (success; differences found), whose compiled code is worth keeping. */
const COMPLETE_RUN = new Set([0, 3])
/** A saved cache: SHA-256 of the rest, then the size of the compiled code when the run that saved it ended (bytes, uint32), then V8's data. */
const DIGEST_BYTES = 32
const HEADER_BYTES = DIGEST_BYTES + 4
/** A cache file's name: the bundle's key, the command; a temp file adds a random suffix. */
const CACHE_NAME = /^([0-9a-f]{24})-([a-z]{1,20})\.bin(\.[0-9a-f]{16}\.tmp)?$/
/** Other bundles' caches kept per command (another install, another Node, other flags). */
const OTHER_BUNDLES_KEPT = 2

/** What the bundle exports: cli/index.ts. */
interface Bundle extends Cli {
  debugNote(line: string): void
}

/** A cache file read: V8's data and the compiled code's size when the run that saved it ended, or why there is none to use. */
type Cached = { data: Buffer; savedCodeSize: number } | string

/** A run that ends with this much more compiled code than the run that saved its cache took a longer path: it saves again. */
const GROWN_ENOUGH = 1.2

/** The CLI from the bundle, with the code cache of the command in `argv` when there is one. */
export function loadBundle(argv: readonly string[]): Bundle {
  const require = createRequire(BUNDLE)
  // Node maps stack traces only of code it loads itself
  if (process.sourceMapsEnabled) return require(BUNDLE) as Bundle
  const source = readFileSync(BUNDLE, 'utf8')
  const cacheFile = cacheEnabled() ? codeCacheFile(source, argv) : undefined
  const cached: Cached | undefined = cacheFile === undefined ? undefined : readCodeCache(cacheFile)
  const cachedData = typeof cached === 'object' ? cached.data : undefined
  // CommonJS's own wrapper, on a line of its own so that line numbers (and the source map) stay the bundle's
  const script = new vm.Script(`(function (exports, require, module, __filename, __dirname) {\n${source}\n})`, {
    filename: BUNDLE,
    lineOffset: -1,
    cachedData,
  })
  const bundle = { exports: {} as Bundle }
  ;(script.runInThisContext() as (...args: unknown[]) => void)(bundle.exports, require, bundle, BUNDLE, path.dirname(BUNDLE))
  if (cacheFile !== undefined) {
    const used = typeof cached === 'object' && !script.cachedDataRejected
    const state = used ? 'started from' : typeof cached === 'object' ? 'refused by V8 at' : cached
    bundle.exports.debugNote(`code cache: ${state} ${cacheFile}`)
    process.once('exit', (code) => {
      if (!COMPLETE_RUN.has(code)) return
      const codeSize = getHeapCodeStatistics().bytecode_and_metadata_size
      // a run that compiled little saved a small cache: a run that compiled much more saves what it compiled
      const grown = used && codeSize > GROWN_ENOUGH * (cached as { savedCodeSize: number }).savedCodeSize
      if (!used || grown) bundle.exports.debugNote(saveCodeCache(script, cacheFile, codeSize))
    })
  }
  return bundle.exports
}

/**
 * The cache file of this bundle run by this Node, with these flags, for the
 * command in `argv` (its first word that is not an option's value; the
 * commands compile different functions).
 */
function codeCacheFile(source: string, argv: readonly string[]): string {
  const hash = createHash('sha256')
    .update(JSON.stringify([process.version, process.arch, process.platform, process.execArgv, process.env.NODE_OPTIONS ?? '']))
    .update(source)
    .digest('hex')
  return path.join(cacheDir(), 'code', `${hash.slice(0, 24)}-${commandName(argv.slice(2))}.bin`)
}

/** The first word of the command line, skipping the value of an option written `--name value`. */
function commandName(args: readonly string[]): string {
  let afterOption = false
  for (const arg of args) {
    if (arg.startsWith('-')) {
      afterOption = !arg.includes('=')
      continue
    }
    if (!afterOption) return /^[a-z]{1,20}$/.test(arg) ? arg : 'cli'
    afterOption = false
  }
  return 'cli'
}

/** A cache file saved by saveCodeCache, opened without following a link, and used only when the user's own, private and whole. */
function readCodeCache(file: string): Cached {
  let fd: number
  try {
    fd = openSync(file, constants.O_RDONLY | (constants.O_NOFOLLOW ?? 0))
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code
    return code === 'ENOENT' || code === 'ENOTDIR' ? 'none yet at' : code === 'ELOOP' ? 'not used, as it is a link:' : `not readable (${code}):`
  }
  try {
    // the file opened, not the path: nothing can be swapped in between
    if (!ownOnly(fstatSync(fd))) return 'not used, as not only its owner can write it:'
    const saved = readFileSync(fd)
    const rest = saved.subarray(DIGEST_BYTES)
    if (saved.length <= HEADER_BYTES || !createHash('sha256').update(rest).digest().equals(saved.subarray(0, DIGEST_BYTES))) return 'damaged, not used:'
    return { data: rest.subarray(HEADER_BYTES - DIGEST_BYTES), savedCodeSize: rest.readUInt32LE(0) }
  } catch (error) {
    return `not readable (${(error as NodeJS.ErrnoException).code}):`
  } finally {
    closeSync(fd)
  }
}

/** A regular file or a folder of the user running homelab that no one else can write (where there are users: not on Windows). */
function ownOnly(status: Stats): boolean {
  const uid = process.getuid?.()
  return (status.isFile() || status.isDirectory()) && (uid === undefined || (status.uid === uid && (status.mode & 0o022) === 0))
}

/**
 * Save what V8 compiled, by a new temp file and a rename, so that another
 * homelab starting at the same time reads the old file or the new one, never
 * half of one; then keep only the newest caches of other bundles. Says what
 * it did, for DEBUG=homelab.
 */
function saveCodeCache(script: vm.Script, file: string, codeSize: number): string {
  const dir = path.dirname(file)
  const temp = `${file}.${randomBytes(8).toString('hex')}.tmp`
  try {
    // the code folder alone is private: the folders above it are the cache folder's, as the memo makes them
    mkdirSync(path.dirname(dir), { recursive: true })
    try {
      mkdirSync(dir, { mode: 0o700 })
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error
    }
    // a folder of the user's own that only they can write, not a link to one: nothing else can be put in it
    const folder = lstatSync(dir)
    if (!folder.isDirectory() || !ownOnly(folder)) return `code cache: not saved: ${dir} is not a folder of the user's own that only they can write`
    const data = script.createCachedData()
    const rest = Buffer.alloc(HEADER_BYTES - DIGEST_BYTES + data.length)
    rest.writeUInt32LE(Math.min(codeSize, 0xffffffff), 0)
    data.copy(rest, HEADER_BYTES - DIGEST_BYTES)
    // 'wx': a new file, never an existing path or a link
    writeFileSync(temp, Buffer.concat([createHash('sha256').update(rest).digest(), rest]), { mode: 0o600, flag: 'wx' })
    renameSync(temp, file)
    pruneOtherBundles(dir, path.basename(file))
    return `code cache: saved ${file}`
  } catch (error) {
    try {
      rmSync(temp, { force: true })
    } catch {
      // no temp file could be made either
    }
    return `code cache: not saved: ${(error as Error).message}`
  }
}

/** Remove the caches of other bundles for this command beyond the newest few, and temp files left by runs that stopped before renaming theirs. */
function pruneOtherBundles(dir: string, saved: string): void {
  const [, key, command] = CACHE_NAME.exec(saved) as RegExpExecArray
  const others: Array<{ name: string; mtimeMs: number }> = []
  for (const name of readdirSync(dir)) {
    const match = CACHE_NAME.exec(name)
    if (!match || name === saved) continue
    const full = path.join(dir, name)
    const { mtimeMs } = statSync(full)
    if (match[3] !== undefined) {
      // another run's temp file: its rename is due within moments
      if (mtimeMs < Date.now() - 60_000) rmSync(full, { force: true })
    } else if (match[2] === command && match[1] !== key) others.push({ name, mtimeMs })
  }
  others.sort((a, b) => b.mtimeMs - a.mtimeMs)
  for (const { name } of others.slice(OTHER_BUNDLES_KEPT)) rmSync(path.join(dir, name), { force: true })
}
