import { createHash, hash as oneShotHash } from 'node:crypto'
import { lstatSync, readFileSync, readdirSync } from 'node:fs'
import type { Dirent } from 'node:fs'
import { mkdir, rename, writeFile } from 'node:fs/promises'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import { cacheDir, cacheEnabled } from './cache-dir.js'
import { CONFIG_SCHEMA_PATH, templatesDirOf } from './config/paths.js'
import type { ResolvedApp, ResolvedConfig } from './config/types.js'
import { compare } from './order.js'
import type { FileContent, Plan } from './render.js'
import { APPS_DIR, countOutput, readIfExists } from './write-plan.js'
import type { Template, TemplateLibrary } from './templates/load-templates.js'

/**
 * A memo of renders, so that a re-render only renders the apps that changed.
 *
 * For each app it keeps a key (a hash of everything the app's files depend
 * on or is checked against: its template's files, the partials, its id,
 * namespace, options and targetNamespace, the values, cluster and flux
 * settings, and homelab's own rendering code) and the
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
 * A render that left the output folder holding exactly its plan also records
 * its inputs (renderInputs: the config's bytes, every file under templates/,
 * the config schema, homelab's code) and the files outside app folders. The
 * next render with the same inputs, into a folder that still holds exactly
 * the recorded files with their recorded statuses, would change nothing: it
 * is known without reading the config (unchangedRender). A render with other
 * inputs still knows, from their digests and statuses, which of the files it
 * generates outside app folders the folder already holds (keepGenerated); an
 * app's Flux Kustomization file, from the digest of what it is generated
 * from, before generating it (keepFluxFile).
 *
 * The memo lives in the user's cache folder (HOMELAB_CACHE_DIR, else
 * $XDG_CACHE_HOME/homelab, else ~/.cache/homelab), one file per output folder,
 * never in the output. HOMELAB_CACHE=0 turns it off.
 */
export class RenderCache {
  private readonly entries: Map<string, CacheEntry>
  private readonly storedRun: RunRecord | undefined
  private base = ''
  private began = false
  private readonly fresh = new Map<string, CacheEntry>()
  /** Apps rendered in this run: their files' contents, hashed when the memo is saved (see save's `differs`). */
  private readonly rendered = new Map<string, { key: string; files: ReadonlyArray<readonly [string, FileContent]> }>()
  /** This render's inputs and its files outside app folders (recordRun), hashed when the memo is saved. */
  private run?: { inputs: string; apps: number; files: ReadonlyArray<readonly [string, FileContent]> }
  /** Files outside app folders this render generated that the output folder holds as the last run left them (keepGenerated, keepFluxFile). */
  private readonly keptGenerated = new Map<string, FileRecord>()
  /** The digest of the code and the inputs of each app's Flux Kustomization file this render generated (keepFluxFile), by file. */
  private readonly fluxInputs = new Map<string, string>()
  /** The stored run's files, by path (keepGenerated, keepFluxFile). */
  private recordedFiles?: Map<string, FileRecord>
  /** homelab's code (codeFingerprint), once begun: what turns a Flux Kustomization object into bytes. */
  private code = ''

  private constructor(
    private readonly file: string,
    private readonly outDir: string,
    stored: { entries: Map<string, CacheEntry>; run?: RunRecord } | undefined,
  ) {
    this.entries = stored?.entries ?? new Map()
    this.storedRun = stored?.run
  }

  /** The memo of `outDir`, or undefined when caching is off. A missing or unreadable memo is an empty one. */
  static open(outDir: string): RenderCache | undefined {
    if (!cacheEnabled()) return undefined
    const absolute = path.resolve(outDir)
    const file = memoFile(absolute)
    let stored: ReturnType<typeof decodeMemo>
    try {
      // synchronous, as every small read of a render (see readIfExists)
      const read = JSON.parse(readFileSync(file, 'utf8')) as StoredCache
      if (read.format === FORMAT && read.outDir === absolute) stored = decodeMemo(read)
    } catch {
      // no memo yet, or an unreadable one: start empty
    }
    return new RenderCache(file, absolute, stored)
  }

  /**
   * Whether a whole render with `inputs` (renderInputs) would change nothing:
   * the last render that left the output folder holding exactly its plan had
   * these inputs, and the folder still holds exactly the files it left, each
   * with its recorded status (every one settled), and no other file or empty
   * folder. The counts are for the summary line.
   */
  unchangedRender(inputs: string): { apps: number; files: number } | undefined {
    const run = this.storedRun
    if (!run || run.inputs !== inputs) return undefined
    // every recorded file is there, a regular file with its recorded status...
    let files = 0
    let folders = 0
    // ...and the folders holding them: every app's, and any folder below one or under apps/ (the Flux folders)
    const otherFolders = new Set<string>()
    const addFolders = (file: string, above: string) => {
      for (let folder = path.posix.dirname(file); folder !== above && !otherFolders.has(folder); folder = path.posix.dirname(folder)) otherFolders.add(folder)
    }
    for (const [id, entry] of this.entries) {
      const folder = `${this.outDir}/${APPS_DIR}/${id}/`
      const count = entry.names.length / 2
      for (let i = 0; i < count; i++) {
        const file = entry.names[2 * i] as string
        if (!sameStatus(fileStatus(folder + file), entry.statuses, 4 * i)) return undefined
        if (file.includes('/')) addFolders(`${APPS_DIR}/${id}/${file}`, `${APPS_DIR}/${id}`)
      }
      files += count
      if (count > 0) folders++
    }
    for (const [file, , status] of run.files) {
      if (!sameStatus(fileStatus(`${this.outDir}/${file}`), status)) return undefined
      addFolders(file, APPS_DIR)
    }
    files += run.files.length
    folders += otherFolders.size
    // ...and nothing else. The listing holds every one of them (they are files there), so as many
    // files means no other file; and it holds their folders, so as many folders means no empty one
    const listed = countOutput(this.outDir)
    if (listed.files !== files || listed.folders !== folders) return undefined
    return { apps: run.apps, files }
  }

  /** Before any key: what every app's output depends on besides its own settings (the config and templates being resolved). */
  async begin(config: ResolvedConfig, library: TemplateLibrary): Promise<void> {
    this.began = true
    this.code = await codeFingerprint()
    this.base = sha256(JSON.stringify([this.code, partialsFingerprint(library), config.values, config.cluster, fluxContext(config)]))
  }

  /** The key of an app: changes whenever anything its output depends on changes. */
  key(app: ResolvedApp, template: Template): string {
    if (!this.began) throw new Error('RenderCache.begin() comes before any key')
    // the targetNamespace does not change the files, but render checks the app's Namespace objects against it
    return digest(JSON.stringify([this.base, templateFingerprint(template), app.id, app.template, app.namespace, app.options, app.kustomization.targetNamespace ?? null]))
  }

  /**
   * The app's files (paths inside its folder) when the output folder holds
   * exactly what its last render produced: they can stay as they are.
   */
  reuse(app: ResolvedApp, key: string): string[] | undefined {
    const entry = this.entries.get(app.id)
    if (!entry || entry.key !== key) return undefined
    const count = entry.names.length / 2
    const files: string[] = new Array(count)
    const folder = `${this.outDir}/${APPS_DIR}/${app.id}/`
    // the stored statuses, copied only when one changes
    let statuses = entry.statuses
    for (let i = 0; i < count; i++) {
      const file = entry.names[2 * i] as string
      const full = folder + file
      const status = fileStatus(full)
      if (status === undefined) return undefined
      if (!sameStatus(status, entry.statuses, 4 * i)) {
        const content = readIfExists(full)
        if (!content || digest(content) !== entry.names[2 * i + 1]) return undefined
        if (statuses === entry.statuses) statuses = statuses.slice()
        setStatus(statuses, 4 * i, settled(status) ? status : undefined)
      }
      files[i] = file
    }
    this.fresh.set(app.id, statuses === entry.statuses ? entry : { key, names: entry.names, statuses })
    return files
  }

  /**
   * Of the files outside app folders (the Flux folders) that this render
   * generated, those the output folder holds as the last recorded run left
   * them: the same digest, and the file's recorded status, so known without
   * reading it. They need no writing, and are recorded as they are.
   */
  keepGenerated(files: Iterable<readonly [string, FileContent]>): Set<string> {
    const kept = new Set<string>()
    for (const [file, content] of files) {
      const record = this.recorded(file)
      if (!record || !sameStatus(fileStatus(`${this.outDir}/${file}`), record[2]) || digest(content) !== record[1]) continue
      kept.add(file)
      // a Kustomization kept by its bytes now records the inputs it is generated from (by other code, say, before)
      const inputs = this.fluxInputs.get(file)
      this.keptGenerated.set(file, inputs === undefined || inputs === record[3] ? record : [file, record[1], record[2], inputs])
    }
    return kept
  }

  /**
   * Whether the output folder holds an app's Flux Kustomization file (path
   * under the output folder) as it would be written from `inputs` (JSON, see
   * KeepFluxFile): the last recorded run wrote it from the same inputs with
   * the same code, and it still has the status recorded then, so it is known
   * without generating it or reading it. Kept files are recorded as they are.
   */
  keepFluxFile(file: string, inputs: string): boolean {
    if (!this.began) throw new Error('RenderCache.begin() comes before keepFluxFile()')
    const source = digest(`${this.code}\0${inputs}`)
    this.fluxInputs.set(file, source)
    const record = this.recorded(file)
    if (!record || record[3] !== source || !sameStatus(fileStatus(`${this.outDir}/${file}`), record[2])) return false
    this.keptGenerated.set(file, record)
    return true
  }

  private recorded(file: string): FileRecord | undefined {
    this.recordedFiles ??= new Map((this.storedRun?.files ?? []).map((record) => [record[0], record]))
    return this.recordedFiles.get(file)
  }

  /** Remember what an app rendered to (paths inside its folder → content; all checks passed). */
  record(app: ResolvedApp, key: string, files: ReadonlyArray<readonly [string, FileContent]>): void {
    this.rendered.set(app.id, { key, files })
  }

  /**
   * The output folder now holds exactly `plan` (plus the files reuse and
   * keepGenerated kept), rendered from `inputs` (renderInputs) for `apps`
   * apps: record it with its files outside the app folders, those of the plan
   * and those kept.
   */
  recordRun(inputs: string, apps: number, plan: Plan): void {
    const files: Array<readonly [string, FileContent]> = []
    for (const [file, content] of plan) {
      const id = file.split('/', 2)[1] as string
      if (!this.rendered.has(id) && !this.fresh.has(id)) files.push([file, content])
    }
    this.run = { inputs, apps, files }
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
      this.fresh.set(id, { key, names: files.flatMap(([file, content]) => [file, digest(content)]), statuses: new Float64Array(4 * files.length).fill(NaN) })
    }
    this.rendered.clear()
    const run: RunRecord | undefined = this.run && {
      inputs: this.run.inputs,
      apps: this.run.apps,
      files: [...this.run.files.map(([file, content]) => fileRecord(file, digest(content), this.fluxInputs.get(file))), ...this.keptGenerated.values()].sort((a, b) => compare(a[0], b[0])),
    }
    if (options.written) {
      const settledStatus = (file: string) => {
        if (options.written?.has(file)) return undefined
        const status = fileStatus(`${this.outDir}/${file}`)
        return status && settled(status) ? status : undefined
      }
      for (const [id, stored] of this.fresh) {
        let entry = stored
        // most files have their status: the path is built only for the others
        for (let i = 0, count = entry.names.length / 2; i < count; i++) {
          if (!Number.isNaN(entry.statuses[4 * i])) continue
          const status = settledStatus(`apps/${id}/${entry.names[2 * i]}`)
          if (!status) continue
          // an entry of the stored memo is not changed in place: sameEntries compares with it
          if (this.entries.get(id)?.statuses === entry.statuses) this.fresh.set(id, (entry = { ...entry, statuses: entry.statuses.slice() }))
          setStatus(entry.statuses, 4 * i, status)
        }
      }
      for (const item of run?.files ?? []) if (!item[2]) item[2] = settledStatus(item[0])
    }
    // a re-render that kept everything as it was: the stored memo already says so
    if (!options.partial && sameEntries(this.entries, this.fresh) && sameRun(this.storedRun, run)) return
    const stored = encodeMemo(this.outDir, options.partial ? new Map([...this.entries, ...this.fresh]) : this.fresh, options.partial ? undefined : run)
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

/**
 * A file outside app folders: its path under the output folder, the digest of
 * its bytes, its status once settled, and for an app's Flux Kustomization
 * file the digest of the code and the inputs it was generated from
 * (keepFluxFile).
 */
type FileRecord = [string, string, (Status | undefined)?, string?]

function fileRecord(file: string, hash: string, inputs: string | undefined): FileRecord {
  return inputs === undefined ? [file, hash] : [file, hash, undefined, inputs]
}

/**
 * An app: its key, its files (paths inside its folder) each followed by the
 * digest of its bytes, and their statuses, four numbers a file (NaN: not
 * recorded). Flat arrays, not an object a file: the memo of 1000 apps is read
 * and written on every render that changes something.
 */
interface CacheEntry {
  key: string
  names: string[]
  statuses: Float64Array
}

/** Whether two memos hold the same apps, keys, files, hashes and statuses. */
function sameEntries(a: ReadonlyMap<string, CacheEntry>, b: ReadonlyMap<string, CacheEntry>): boolean {
  if (a.size !== b.size) return false
  for (const [id, entry] of b) {
    const other = a.get(id)
    if (other === entry) continue
    if (!other || other.key !== entry.key || other.names.length !== entry.names.length || !other.names.every((name, i) => name === entry.names[i])) return false
    // bytes, so that two statuses not recorded (NaN) are the same
    if (!Buffer.from(other.statuses.buffer, other.statuses.byteOffset, other.statuses.byteLength).equals(Buffer.from(entry.statuses.buffer, entry.statuses.byteOffset, entry.statuses.byteLength))) return false
  }
  return true
}

function sameFiles(a: readonly FileRecord[], b: readonly FileRecord[]): boolean {
  if (a.length !== b.length) return false
  for (let i = 0; i < a.length; i++) {
    const [file, hash, status, inputs] = a[i] as FileRecord
    const [otherFile, otherHash, otherStatus, otherInputs] = b[i] as FileRecord
    if (file !== otherFile || hash !== otherHash || inputs !== otherInputs || !(status ? sameStatus(otherStatus, status) : !otherStatus)) return false
  }
  return true
}

/** A render that left the output folder holding exactly its plan. */
interface RunRecord {
  /** renderInputs() of that render. */
  inputs: string
  /** Enabled apps of its config. */
  apps: number
  /** Its files outside app folders (the Flux folders): path under the output folder, digest, status once settled. */
  files: FileRecord[]
}

/** Whether two run records are the same (a status stored as null is one not recorded). */
function sameRun(a: RunRecord | undefined, b: RunRecord | undefined): boolean {
  if (!a || !b) return a === b
  return a.inputs === b.inputs && a.apps === b.apps && sameFiles(a.files, b.files)
}

/**
 * The memo as stored: JSON, with every file's status in one block of 64-bit
 * numbers (base64), the apps' files first, in order, then the run's: JSON
 * spends more time on such numbers than on all the rest.
 */
interface StoredCache {
  format: number
  outDir: string
  /** Each app: id, key, then its files' paths and digests (CacheEntry.names). */
  apps: string[][]
  /** The run: its files' paths, digests and Flux inputs (FileRecord without the status). */
  run?: { inputs: string; apps: number; files: Array<[string, string, string?]> }
  statuses: string
}

const FORMAT = 6

function encodeMemo(outDir: string, entries: ReadonlyMap<string, CacheEntry>, run: RunRecord | undefined): StoredCache {
  let count = 0
  for (const entry of entries.values()) count += entry.statuses.length
  const statuses = new Float64Array(count + 4 * (run?.files.length ?? 0)).fill(NaN)
  let at = 0
  const apps: string[][] = []
  for (const [id, entry] of entries) {
    apps.push([id, entry.key, ...entry.names])
    statuses.set(entry.statuses, at)
    at += entry.statuses.length
  }
  const runFiles = (run?.files ?? []).map(([file, hash, status, inputs]): [string, string, string?] => {
    setStatus(statuses, at, status)
    at += 4
    return inputs === undefined ? [file, hash] : [file, hash, inputs]
  })
  return {
    format: FORMAT,
    outDir,
    apps,
    ...(run ? { run: { inputs: run.inputs, apps: run.apps, files: runFiles } } : {}),
    statuses: Buffer.from(statuses.buffer).toString('base64'),
  }
}

/** The memo read back; undefined when it does not hold together (then it is an empty one). */
function decodeMemo(stored: StoredCache): { entries: Map<string, CacheEntry>; run?: RunRecord } | undefined {
  const bytes = Buffer.from(stored.statuses, 'base64')
  // copied: a Float64Array needs its bytes aligned
  const statuses = new Float64Array(bytes.length >> 3)
  new Uint8Array(statuses.buffer).set(bytes.subarray(0, statuses.length << 3))
  const entries = new Map<string, CacheEntry>()
  let at = 0
  for (const [id, key, ...names] of stored.apps) {
    if (typeof id !== 'string' || typeof key !== 'string' || names.length % 2 !== 0) return undefined
    entries.set(id, { key, names, statuses: statuses.subarray(at, (at += 2 * names.length)) })
  }
  let run: RunRecord | undefined
  if (stored.run) {
    const files = stored.run.files.map(([file, hash, inputs]): FileRecord => {
      const status = Number.isNaN(statuses[at]) ? undefined : (Array.from(statuses.subarray(at, at + 4)) as Status)
      at += 4
      return [file, hash, status, inputs]
    })
    run = { inputs: stored.run.inputs, apps: stored.run.apps, files }
  }
  return at === statuses.length ? { entries, run } : undefined
}

/** How old a file's last change must be before its status stands for its content (well above any file system's clock resolution). */
const STAT_SETTLE_MS = 2000

/**
 * A file's status: size, inode, modification and change time, which change
 * whenever the content can have. Numbers, compared as numbers: JSON keeps
 * them exactly, and turning them into text costs more than the lstat.
 */
type Status = [size: number, ino: number, mtimeMs: number, ctimeMs: number]

/** A regular file's status; undefined when it is missing or not a file. */
function fileStatus(file: string): Status | undefined {
  // times in ms with their fraction (µs on Linux), not BigInt ns, which cost more to read: a change
  // after a status was recorded moves the change time by far more, as statuses settle for STAT_SETTLE_MS
  const stat = lstatSync(file, { throwIfNoEntry: false })
  if (!stat?.isFile()) return undefined
  return [stat.size, stat.ino, stat.mtimeMs, stat.ctimeMs]
}

/** Whether a file's status is the recorded one: a Status, or four numbers of `statuses` from `at` (NaN: none recorded). */
function sameStatus(status: Status | undefined, recorded: Status | Float64Array | undefined, at = 0): boolean {
  return !!status && !!recorded && status[0] === recorded[at] && status[1] === recorded[at + 1] && status[2] === recorded[at + 2] && status[3] === recorded[at + 3]
}

function setStatus(statuses: Float64Array, at: number, status: Status | undefined): void {
  if (status) statuses.set(status, at)
  else statuses.fill(NaN, at, at + 4)
}

function settled(status: Status): boolean {
  return status[3] < Date.now() - STAT_SETTLE_MS
}

/** The memo file of an output folder (absolute path). */
function memoFile(outDir: string): string {
  return path.join(cacheDir(), `${sha256(outDir).slice(0, 24)}.json`)
}

/**
 * What a whole render of `configPath` depends on, besides the output folder:
 * the config's path and bytes, every file under templates/ (path and bytes),
 * the config schema and homelab's code, hashed. Undefined when the memo is
 * off, or when it cannot be told surely: a link or anything but files and
 * folders under templates/, or a file that cannot be read.
 */
export async function renderInputs(configPath: string): Promise<string | undefined> {
  if (!cacheEnabled()) return undefined
  const config = path.resolve(configPath)
  const templates = templatesDirOf({ root: path.dirname(config) })
  try {
    const hash = createHash('sha256').update(`${FORMAT}\0${config}\0`).update(readFileSync(config))
    hash.update('\0').update(readFileSync(CONFIG_SCHEMA_PATH)).update('\0').update(await codeFingerprint())
    let entries: Dirent[] = []
    try {
      entries = readdirSync(templates, { recursive: true, withFileTypes: true })
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'ENOENT') return undefined
    }
    const files: string[] = []
    for (const entry of entries) {
      if (entry.isDirectory()) continue
      if (!entry.isFile()) return undefined
      files.push(path.relative(templates, path.join(entry.parentPath ?? entry.path, entry.name)))
    }
    for (const file of files.sort()) hash.update(`\0${file}\0`).update(readFileSync(path.join(templates, file)))
    return hash.digest('hex')
  } catch {
    return undefined
  }
}

function sha256(data: FileContent | string): string {
  return oneShotHash('sha256', data, 'hex')
}

/**
 * The digest the memo keeps of a file or a key: SHA-256 cut to 128 bits, in
 * base64url (22 characters). Plenty to tell contents apart, and a third of the
 * hex length: the memo of 1000 apps is read and written on every render.
 */
function digest(data: FileContent | string): string {
  // the one-shot hash: several times cheaper than a Hash object for the small files of a render
  return oneShotHash('sha256', data, 'base64url').slice(0, 22)
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

let codeHash: Promise<string> | undefined

/**
 * homelab's rendering code and the libraries that shape its output: a new
 * version of any of them may render other bytes or check differently.
 */
async function codeFingerprint(): Promise<string> {
  codeHash ??= computeCodeFingerprint()
  return codeHash
}

async function computeCodeFingerprint(): Promise<string> {
  // run from the bundle: the build's hash of it, yaml and handlebars included (bundle.ts)
  try {
    return readFileSync(new URL('./code-fingerprint.txt', import.meta.url), 'utf8')
  } catch {
    // run from the modules: every one of them (no list to keep up to date), and the libraries' versions
  }
  const root = fileURLToPath(new URL('.', import.meta.url))
  const extension = path.extname(fileURLToPath(import.meta.url))
  const modules = readdirSync(root, { recursive: true, encoding: 'utf8' })
    // the modules, and the validators the build compiles from schemas (.cjs)
    .filter((file) => file.endsWith(extension) || file.endsWith('.cjs'))
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
