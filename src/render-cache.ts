import { createHash } from 'node:crypto'
import { lstatSync, readFileSync, readdirSync } from 'node:fs'
import { mkdir, rename, writeFile } from 'node:fs/promises'
import { homedir } from 'node:os'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import type { ResolvedApp, ResolvedConfig } from './config/types.js'
import type { FileContent } from './render.js'
import { readIfExists } from './write-plan.js'
import type { Template, TemplateLibrary } from './templates/load-templates.js'

/**
 * A memo of renders, so that a re-render only renders the apps that changed.
 *
 * For each app it keeps a key (a hash of everything the app's files depend
 * on: its template's files, the partials, its id, namespace and options, the
 * values, cluster and flux settings, and homelab's own rendering code) and the
 * hashes of the files that render produced and checked. When the key is the
 * same and the output folder still holds exactly those bytes, rendering again
 * would give those bytes: the files are kept as they are. Anything else (a
 * changed input, a file edited by hand, a missing file) renders as usual.
 *
 * Whether a file still holds its bytes is known from its status when that is
 * the one recorded (size, inode, modification and change times, as git's index
 * does), else by reading and hashing it. A status is recorded only once it is
 * at least STAT_SETTLE_MS old, so that a file changed again within the clock's
 * resolution is never mistaken for the one written ("racily clean").
 *
 * The memo lives in the user's cache folder (HOMELAB_CACHE_DIR, else
 * $XDG_CACHE_HOME/homelab, else ~/.cache/homelab), one file per output folder,
 * never in the output. HOMELAB_CACHE=0 turns it off.
 */
export class RenderCache {
  private readonly entries: Map<string, CacheEntry>
  private readonly fresh = new Map<string, CacheEntry>()
  /** Apps rendered in this run: their files' contents, hashed when the memo is saved (see save's `differs`). */
  private readonly rendered = new Map<string, { key: string; files: ReadonlyArray<readonly [string, FileContent]> }>()

  private constructor(
    private readonly file: string,
    private readonly outDir: string,
    private readonly base: string,
    entries: Record<string, CacheEntry>,
  ) {
    this.entries = new Map(Object.entries(entries))
  }

  /** The memo of `outDir`, or undefined when caching is off. A missing or unreadable memo is an empty one. */
  static async open(outDir: string, config: ResolvedConfig, library: TemplateLibrary): Promise<RenderCache | undefined> {
    if (process.env.HOMELAB_CACHE === '0') return undefined
    const absolute = path.resolve(outDir)
    const file = path.join(cacheDir(), `${sha256(absolute).slice(0, 24)}.json`)
    let entries: Record<string, CacheEntry> = {}
    try {
      // synchronous, as every small read of a render (see readIfExists)
      const stored = JSON.parse(readFileSync(file, 'utf8')) as StoredCache
      if (stored.format === FORMAT && stored.outDir === absolute) entries = stored.apps
    } catch {
      // no memo yet, or an unreadable one: start empty
    }
    const base = sha256(JSON.stringify([await codeFingerprint(), partialsFingerprint(library), config.values, config.cluster, fluxContext(config)]))
    return new RenderCache(file, absolute, base, entries)
  }

  /** The key of an app: changes whenever anything its output depends on changes. */
  key(app: ResolvedApp, template: Template): string {
    return sha256(JSON.stringify([this.base, templateFingerprint(template), app.id, app.template, app.namespace, app.options]))
  }

  /**
   * The app's files (paths inside its folder) when the output folder holds
   * exactly what its last render produced: they can stay as they are.
   */
  reuse(app: ResolvedApp, key: string): string[] | undefined {
    const entry = this.entries.get(app.id)
    if (!entry || entry.key !== key) return undefined
    const files: CacheEntry['files'] = []
    for (const [file, hash, recorded] of entry.files) {
      const full = path.join(this.outDir, 'apps', app.id, file)
      const status = fileStatus(full)
      if (status === undefined) return undefined
      if (recorded === undefined || status.key !== recorded) {
        const content = readIfExists(full)
        if (!content || sha256(content) !== hash) return undefined
      }
      files.push([file, hash, settled(status) ? status.key : undefined])
    }
    this.fresh.set(app.id, { key, files })
    return files.map(([file]) => file)
  }

  /** Remember what an app rendered to (paths inside its folder → content; all checks passed). */
  record(app: ResolvedApp, key: string, files: ReadonlyArray<readonly [string, FileContent]>): void {
    this.rendered.set(app.id, { key, files })
  }

  /**
   * Store the memo (atomically), unless the stored one already holds the same
   * (a re-render that kept everything). Apps not seen in this render are forgotten,
   * unless only some apps were rendered. `written`: the recorded apps' files
   * are now in the output folder as recorded, so their status can be kept;
   * it names the files just written (paths like the plan's), too fresh to
   * settle, which are not looked at. `differs` (render --check): files of
   * the plan the output folder does not hold as rendered; an app with any of
   * them is not recorded, as the next render could not keep its files anyway.
   */
  async save(options: { partial?: boolean; written?: ReadonlySet<string>; differs?: ReadonlySet<string> } = {}): Promise<void> {
    for (const [id, { key, files }] of this.rendered) {
      if (options.differs && files.some(([file]) => options.differs?.has(`apps/${id}/${file}`))) continue
      this.fresh.set(id, { key, files: files.map(([file, content]) => [file, sha256(content)]) })
    }
    this.rendered.clear()
    if (options.written) {
      for (const [id, entry] of this.fresh) {
        for (const item of entry.files) {
          if (item[2] !== undefined || options.written.has(`apps/${id}/${item[0]}`)) continue
          const status = fileStatus(path.join(this.outDir, 'apps', id, item[0]))
          if (status && settled(status)) item[2] = status.key
        }
      }
    }
    // a re-render that kept everything as it was: the stored memo already says so
    if (!options.partial && sameEntries(this.entries, this.fresh)) return
    const apps = Object.fromEntries(options.partial ? [...this.entries, ...this.fresh] : this.fresh)
    const stored: StoredCache = { format: FORMAT, outDir: this.outDir, apps }
    try {
      await mkdir(path.dirname(this.file), { recursive: true })
      const temp = `${this.file}.${process.pid}.tmp`
      await writeFile(temp, JSON.stringify(stored))
      await rename(temp, this.file)
    } catch {
      // a cache that cannot be written only costs the next render some time
    }
  }
}

interface CacheEntry {
  key: string
  /** Path inside the app's folder, sha256 of its bytes, and the file's status (FileStatus.key) once settled. */
  files: Array<[string, string, string?]>
}

/** Whether two memos hold the same apps, keys, files, hashes and statuses (a status stored as null is one not recorded). */
function sameEntries(a: ReadonlyMap<string, CacheEntry>, b: ReadonlyMap<string, CacheEntry>): boolean {
  if (a.size !== b.size) return false
  for (const [id, entry] of b) {
    const other = a.get(id)
    if (!other || other.key !== entry.key || other.files.length !== entry.files.length) return false
    for (let i = 0; i < entry.files.length; i++) {
      const [file, hash, status] = entry.files[i] as CacheEntry['files'][number]
      const [otherFile, otherHash, otherStatus] = other.files[i] as CacheEntry['files'][number]
      if (file !== otherFile || hash !== otherHash || (status ?? null) !== (otherStatus ?? null)) return false
    }
  }
  return true
}

interface StoredCache {
  format: number
  outDir: string
  apps: Record<string, CacheEntry>
}

const FORMAT = 2

/** How old a file's last change must be before its status stands for its content (well above any file system's clock resolution). */
const STAT_SETTLE_MS = 2000

interface FileStatus {
  /** size, inode, modification and change time (ns): changes whenever the content can have. */
  key: string
  changedMs: number
}

/** A regular file's status; undefined when it is missing or not a file. */
function fileStatus(file: string): FileStatus | undefined {
  const stat = lstatSync(file, { bigint: true, throwIfNoEntry: false })
  if (!stat?.isFile()) return undefined
  return { key: `${stat.size}:${stat.ino}:${stat.mtimeNs}:${stat.ctimeNs}`, changedMs: Number(stat.ctimeNs / 1_000_000n) }
}

function settled(status: FileStatus): boolean {
  return status.changedMs < Date.now() - STAT_SETTLE_MS
}

function cacheDir(): string {
  if (process.env.HOMELAB_CACHE_DIR) return path.resolve(process.env.HOMELAB_CACHE_DIR)
  const base = process.env.XDG_CACHE_HOME || path.join(homedir(), '.cache')
  return path.join(base, 'homelab')
}

function sha256(data: FileContent | string): string {
  return createHash('sha256').update(data).digest('hex')
}

function fluxContext(config: ResolvedConfig): object {
  return { repository: config.flux.repository, branch: config.flux.branch, path: config.flux.path }
}

const templateHashes = new WeakMap<Template, string>()

function templateFingerprint(template: Template): string {
  let hash = templateHashes.get(template)
  if (!hash) {
    const h = createHash('sha256')
    for (const file of template.files) h.update(`${file.relPath}\0${file.kind}\0`).update(file.content).update('\0')
    hash = h.digest('hex')
    templateHashes.set(template, hash)
  }
  return hash
}

function partialsFingerprint(library: TemplateLibrary): string {
  return sha256(JSON.stringify(library.partials.map((p) => [p.name, p.source])))
}

/**
 * homelab's rendering code and the libraries that shape its output: a new
 * version of any of them may render other bytes or check differently.
 */
async function codeFingerprint(): Promise<string> {
  // run from the bundle: the build's hash of it, yaml and handlebars included (bundle.ts)
  try {
    return readFileSync(new URL('./code-fingerprint.txt', import.meta.url), 'utf8')
  } catch {
    // run from the modules: every one of them (no list to keep up to date), and the libraries' versions
  }
  const root = fileURLToPath(new URL('.', import.meta.url))
  const extension = path.extname(fileURLToPath(import.meta.url))
  const modules = readdirSync(root, { recursive: true, encoding: 'utf8' })
    .filter((file) => file.endsWith(extension))
    .sort()
    .map((file) => [file, readFileSync(path.join(root, file), 'utf8')])
  const { createRequire } = await import('node:module')
  const require = createRequire(import.meta.url)
  const versions = ['yaml', 'handlebars'].map((name) => {
    try {
      return (require(`${name}/package.json`) as { version: string }).version
    } catch {
      return name
    }
  })
  return sha256(JSON.stringify([modules, versions]))
}
