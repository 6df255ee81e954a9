/**
 * Summarise a V8 CPU profile (`node --cpu-prof`): self time by function, by
 * file and by package, largest first, as Markdown tables.
 *
 *   node --import tsx bench/profile-summary.ts <file.cpuprofile | folder> [--top 15]
 *
 * A folder means the newest run's profiles in it: Node writes one file per
 * thread (CPU.<date>.<time>.<pid>.<thread>.<seq>.cpuprofile), and a render
 * that uses worker threads is only seen whole with all of them, added up.
 */
import { readdirSync, readFileSync, statSync } from 'node:fs'
import { SourceMap } from 'node:module'
import type { SourceMapPayload } from 'node:module'
import path from 'node:path'
import { fileURLToPath, pathToFileURL } from 'node:url'
import { parseArgs } from 'node:util'

/** The parts of the .cpuprofile format this reads. */
export interface CpuProfile {
  nodes: Array<{ id: number; callFrame: { functionName: string; url: string; lineNumber: number; columnNumber?: number }; children?: number[] }>
  startTime: number
  endTime: number
  samples: number[]
  /** Microseconds since the previous sample (the first: since startTime). */
  timeDeltas: number[]
}

export interface SelfTime {
  name: string
  ms: number
}

/** Read a profile file, or every thread's profile of the newest run in a folder (the files with the newest file's pid). */
export function loadProfiles(fileOrDir: string): CpuProfile[] {
  let files = [fileOrDir]
  if (statSync(fileOrDir).isDirectory()) {
    const all = readdirSync(fileOrDir)
      .filter((name) => name.endsWith('.cpuprofile'))
      .sort((a, b) => statSync(path.join(fileOrDir, b)).mtimeMs - statSync(path.join(fileOrDir, a)).mtimeMs)
    if (!all[0]) throw new Error(`no .cpuprofile in ${fileOrDir}`)
    const pidOf = (name: string) => /^CPU\.\d+\.\d+\.(\d+)\./.exec(name)?.[1]
    const pid = pidOf(all[0])
    files = (pid ? all.filter((name) => pidOf(name) === pid) : [all[0]]).map((name) => path.join(fileOrDir, name))
  }
  return files.map((file) => toSources(JSON.parse(readFileSync(file, 'utf8')) as CpuProfile))
}

/**
 * The profile with frames of bundled code (dist/bundle/, which the build
 * writes with source maps) moved to the file and line they came from, so that
 * yaml, handlebars and the project's own modules are told apart again.
 */
export function toSources(profile: CpuProfile): CpuProfile {
  const maps = new Map<string, SourceMap | undefined>()
  const mapOf = (file: string) => {
    if (!maps.has(file)) {
      let map: SourceMap | undefined
      try {
        map = new SourceMap(JSON.parse(readFileSync(`${file}.map`, 'utf8')) as SourceMapPayload)
      } catch {
        map = undefined // not bundled code
      }
      maps.set(file, map)
    }
    return maps.get(file)
  }
  for (const node of profile.nodes) {
    const frame = node.callFrame
    if (!frame.url.startsWith('file://')) continue
    const file = fileURLToPath(frame.url)
    const entry = mapOf(file)?.findEntry(frame.lineNumber, frame.columnNumber ?? 0) as { originalSource?: string; originalLine?: number } | undefined
    if (!entry?.originalSource) continue
    const source = entry.originalSource.startsWith('file://') ? fileURLToPath(entry.originalSource) : path.resolve(path.dirname(file), entry.originalSource)
    frame.url = pathToFileURL(source).href
    frame.lineNumber = entry.originalLine ?? frame.lineNumber
  }
  return profile
}

type Profiles = CpuProfile | readonly CpuProfile[]
const asList = (profiles: Profiles): readonly CpuProfile[] => (Array.isArray(profiles) ? profiles : [profiles as CpuProfile])

/** Self time in ms of every node id: each sample lasts until the next one (the last until endTime). */
function selfTimeByNode(profile: CpuProfile): Map<number, number> {
  const self = new Map<number, number>()
  let timestamp = profile.startTime
  const stamps = profile.timeDeltas.map((delta) => (timestamp += delta))
  profile.samples.forEach((id, i) => {
    const end = i + 1 < stamps.length ? (stamps[i + 1] as number) : profile.endTime
    const duration = Math.max(0, end - (stamps[i] as number)) / 1000
    self.set(id, (self.get(id) ?? 0) + duration)
  })
  return self
}

/** A url as a reader wants it: relative to `root`, or `node:…`; empty for V8's own entries like (garbage collector). */
function shortUrl(url: string, root: string): string {
  if (!url) return ''
  let file = url
  if (url.startsWith('file://')) file = fileURLToPath(url)
  const relative = path.relative(root, file)
  if (relative && !relative.startsWith('..') && !path.isAbsolute(relative)) return relative
  // a package outside root (a linked node_modules): from node_modules/ on
  const modules = file.indexOf(`${path.sep}node_modules${path.sep}`)
  return modules >= 0 ? file.slice(modules + 1) : file
}

/** Entries without a file: V8's own, e.g. `(garbage collector)`, `(program)`, `(idle)`. */
const V8_ENTRY = /^\(.*\)$/

/** The package a file belongs to: `handlebars`, `@scope/name`, `homelab (dist)`, `node (internal)`, or V8's entry name. */
function packageOf(file: string, functionName: string): string {
  if (!file) return V8_ENTRY.test(functionName) ? functionName : '(no file: RegExps, builtins, generated code such as ajv validators)'
  if (file.startsWith('node:')) return 'node (internal)'
  const parts = file.split(/[\\/]/)
  const at = parts.lastIndexOf('node_modules')
  if (at >= 0) {
    const name = parts[at + 1] ?? ''
    return name.startsWith('@') ? `${name}/${parts[at + 2] ?? ''}` : name
  }
  return `homelab (${parts[0] ?? file})`
}

const sorted = (totals: Map<string, number>): SelfTime[] =>
  [...totals].map(([name, ms]) => ({ name, ms })).sort((a, b) => b.ms - a.ms || a.name.localeCompare(b.name))

function aggregate(profiles: Profiles, root: string, key: (functionName: string, file: string, line: number) => string): SelfTime[] {
  const totals = new Map<string, number>()
  for (const profile of asList(profiles)) {
    const byNode = selfTimeByNode(profile)
    for (const node of profile.nodes) {
      const ms = byNode.get(node.id)
      if (!ms) continue
      const { functionName, url, lineNumber } = node.callFrame
      const name = key(functionName, shortUrl(url, root), lineNumber + 1)
      totals.set(name, (totals.get(name) ?? 0) + ms)
    }
  }
  return sorted(totals)
}

/** A file of the project itself (not node_modules, not Node's internals). */
const isOwnFile = (file: string) => file !== '' && !file.startsWith('node:') && !file.split(/[\\/]/).includes('node_modules')

/**
 * Total time (self plus callees) of the project's own functions: what each
 * step of the pipeline costs, wherever the time is finally spent (yaml,
 * handlebars, ...). A function that is several times on one stack counts once.
 */
export function ownInclusiveTimes(profiles: Profiles, root: string): SelfTime[] {
  const totals = new Map<string, number>()
  for (const profile of asList(profiles)) {
    const parent = new Map<number, number>()
    for (const node of profile.nodes) for (const child of node.children ?? []) parent.set(child, node.id)
    const nodes = new Map(profile.nodes.map((node) => [node.id, node]))
    for (const [id, ms] of selfTimeByNode(profile)) {
      const seen = new Set<string>()
      for (let at: number | undefined = id; at !== undefined; at = parent.get(at)) {
        const frame = nodes.get(at)?.callFrame
        if (!frame) break
        const file = shortUrl(frame.url, root)
        if (isOwnFile(file)) seen.add(`${frame.functionName || '(anonymous)'} ${file}:${frame.lineNumber + 1}`)
      }
      for (const name of seen) totals.set(name, (totals.get(name) ?? 0) + ms)
    }
  }
  return sorted(totals)
}

/** Self time by function (name and place), by file, and by package, largest first; several profiles (threads) are added up. */
export function selfTimes(profiles: Profiles, root: string): { functions: SelfTime[]; files: SelfTime[]; packages: SelfTime[] } {
  return {
    functions: aggregate(profiles, root, (fn, file, line) => (file ? `${fn || '(anonymous)'} ${file}:${line}` : fn || '(unknown)')),
    files: aggregate(profiles, root, (fn, file) => file || fn || '(unknown)'),
    packages: aggregate(profiles, root, (fn, file) => packageOf(file, fn)),
  }
}

/** The summary as Markdown: total sampled time, then the top entries of each grouping with ms and share. */
export function summarizeProfile(profiles: Profiles, options: { top?: number; root?: string } = {}): string {
  const top = options.top ?? 15
  const list = asList(profiles)
  const { functions, files, packages } = selfTimes(list, options.root ?? process.cwd())
  const total = functions.reduce((sum, t) => sum + t.ms, 0)
  const section = (title: string, rows: SelfTime[], column = 'self ms') => [
    `### ${title}`,
    '',
    `| ${column} | share | where |`,
    '| ---: | ---: | --- |',
    ...rows.slice(0, top).map((t) => `| ${t.ms.toFixed(1)} | ${((100 * t.ms) / total).toFixed(1)} % | \`${t.name}\` |`),
    '',
  ]
  return [
    `Sampled ${total.toFixed(0)} ms (${list.reduce((n, p) => n + p.samples.length, 0)} samples) in ${list.length} thread(s)${list.length > 1 ? ', added up' : ''}.`,
    '',
    ...section(`Top ${top} functions by self time`, functions),
    ...section(`Top ${top} files by self time`, files),
    ...section('By package', packages),
    ...section(`Top ${top} of the project's own functions by total time (self + callees)`, ownInclusiveTimes(list, options.root ?? process.cwd()), 'total ms'),
  ].join('\n')
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const { values, positionals } = parseArgs({ allowPositionals: true, options: { top: { type: 'string', default: '15' } } })
  if (!positionals[0]) {
    console.error('usage: node --import tsx bench/profile-summary.ts <file.cpuprofile | folder> [--top 15]')
    process.exitCode = 2
  } else {
    const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..')
    console.log(summarizeProfile(loadProfiles(positionals[0]), { top: Number(values.top), root }))
  }
}
