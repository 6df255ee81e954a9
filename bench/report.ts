/**
 * The benchmark's report: the machine, a table of medians and ratios, and the
 * targets of issue 6, each with ✔ or ✖ (– where the run did not measure it).
 */
import type { BenchResult, Rewritten, SizeResult } from './bench.js'

/** `850 ms`, `1.23 s`. */
export function formatMs(ms: number): string {
  return ms < 1000 ? `${Math.round(ms)} ms` : `${(ms / 1000).toFixed(2)} s`
}

const ratio = (a: number, b: number) => a / b
const formatRatio = (r: number) => `${r.toFixed(2)}×`
const formatMB = (mb: number | undefined) => (mb === undefined ? 'n/a' : `${Math.round(mb)} MB`)

/** `0` when every run agrees, else every run's count: `0, 0, 1, 0, 0`. */
function formatCounts(counts: readonly number[]): string {
  return counts.every((c) => c === counts[0]) ? String(counts[0] ?? 'n/a') : counts.join(', ')
}

function rewrittenText(rewritten: Rewritten): string {
  return `${formatCounts(rewritten.summary)} by its summary, ${formatCounts(rewritten.onDisk)} by inode/mtime`
}

function resultRows(size: SizeResult): string[][] {
  const n = String(size.apps)
  return [
    [n, 'render --check, empty folder', formatMs(size.check.median), 'helm template > /dev/null (umbrella chart)', formatMs(size.helmTemplate.median), formatRatio(ratio(size.check.median, size.helmTemplate.median))],
    [n, 'render --check, empty folder', formatMs(size.check.median), 'reference: helm template > /dev/null (flat chart)', formatMs(size.helmFlatTemplate.median), formatRatio(ratio(size.check.median, size.helmFlatTemplate.median))],
    [n, `render, new folder (${size.files} files)`, formatMs(size.render.median), 'helm template --output-dir (umbrella chart)', formatMs(size.helmOutputDir.median), formatRatio(ratio(size.render.median, size.helmOutputDir.median))],
    [n, `write floor: a bare node loop writing the same ${size.files} files`, formatMs(size.floor.median), 'render, new folder', formatMs(size.render.median), formatRatio(ratio(size.floor.median, size.render.median))],
    [n, `no-op re-render (files rewritten: ${rewrittenText(size.noopRewritten)})`, formatMs(size.noop.median), 'render, new folder', formatMs(size.render.median), formatRatio(ratio(size.noop.median, size.render.median))],
    [n, `one-app change (files rewritten: ${rewrittenText(size.changeRewritten)})`, formatMs(size.change.median), 'render, new folder', formatMs(size.render.median), formatRatio(ratio(size.change.median, size.render.median))],
    [
      n,
      `one-app change under render --watch, the render's own time (files rewritten: ${formatCounts(size.watchChange.written)} by its summary; from the config's write to the summary line: ${formatMs(size.watchChange.saveToSummary.median)})`,
      formatMs(size.watchChange.render.median),
      'render, new folder',
      formatMs(size.render.median),
      formatRatio(ratio(size.watchChange.render.median, size.render.median)),
    ],
    [n, 'peak memory: render / render --check', `${formatMB(size.memory.render)} / ${formatMB(size.memory.check)}`, 'helm template', formatMB(size.memory.helmTemplate), ''],
  ]
}

function table(header: string[], rows: string[][]): string {
  const line = (cells: string[]) => `| ${cells.join(' | ')} |`
  return [line(header), line(header.map(() => '---')), ...rows.map(line)].join('\n')
}

interface Target {
  text: string
  measured: string
  holds?: boolean
}

function targets(result: BenchResult): Target[] {
  const at = (apps: number) => result.sizes.find((s) => s.apps === apps)
  const k1 = at(1000)
  const k5 = at(5000)
  const out: Target[] = []
  const ratioTarget = (text: string, value: number | undefined, limit: number) =>
    out.push(value === undefined ? { text, measured: 'not measured (needs 1000 apps)' } : { text, measured: formatRatio(value), holds: value <= limit })
  ratioTarget('render --check ≤ 0.6× helm template (1000 apps)', k1 && ratio(k1.check.median, k1.helmTemplate.median), 0.6)
  ratioTarget('full render ≤ 0.8× helm template --output-dir (1000 apps)', k1 && ratio(k1.render.median, k1.helmOutputDir.median), 0.8)
  ratioTarget('no-op re-render ≤ 0.3× the full render (1000 apps)', k1 && ratio(k1.noop.median, k1.render.median), 0.3)
  if (k1) {
    const rewritten = Math.max(...k1.noopRewritten.summary, ...k1.noopRewritten.onDisk)
    out.push({ text: 'no-op re-render rewrites 0 files (1000 apps)', measured: `${rewrittenText(k1.noopRewritten)}`, holds: rewritten === 0 })
  } else {
    out.push({ text: 'no-op re-render rewrites 0 files (1000 apps)', measured: 'not measured (needs 1000 apps)' })
  }
  ratioTarget('one-app change ≤ 0.35× the full render (1000 apps)', k1 && ratio(k1.change.median, k1.render.median), 0.35)
  const version = ratio(result.version.homelab.median, result.version.node.median)
  out.push({ text: '--version ≤ 1.3× node -e 0', measured: `${formatRatio(version)} (${formatMs(result.version.homelab.median)} vs ${formatMs(result.version.node.median)})`, holds: version <= 1.3 })
  for (const [label, key] of [['render --check', 'check'], ['render', 'render']] as const) {
    const text = `5000 apps ≤ 5.5× the 1000-app time (${label})`
    if (k1 && k5) {
      const r = ratio(k5[key].median, k1[key].median)
      out.push({ text, measured: `${formatRatio(r)} (${formatMs(k5[key].median)} vs ${formatMs(k1[key].median)})`, holds: r <= 5.5 })
    } else {
      out.push({ text, measured: 'not measured (needs 1000 and 5000 apps)' })
    }
  }
  for (const [label, key] of [['render', 'render'], ['render --check', 'check']] as const) {
    const text = `peak memory < 500 MB at 5000 apps (${label})`
    const mb = k5?.memory[key]
    out.push(mb === undefined ? { text, measured: 'not measured (needs 5000 apps)' } : { text, measured: formatMB(mb), holds: mb < 500 })
  }
  return out
}

/** The whole report as Markdown: machine, results table, targets table. */
export function formatReport(result: BenchResult): string {
  const m = result.machine
  const memoryBy = result.rssMethod === 'gnu-time' ? 'GNU time %M (max RSS)' : 'the child’s own process.resourceUsage().maxRSS'
  const lines = [
    `Machine: ${m.cpus} × ${m.cpuModel}, ${m.memoryGiB} GiB, ${m.os}, Node ${m.node}, helm ${m.helm}; load average ${m.load[0].toFixed(1)} before, ${m.load[1].toFixed(1)} after.`,
    `Binary: dist/ built ${result.binary.builtAt.slice(0, 16).replace('T', ' ')} UTC at commit ${result.binary.commit}${result.binary.dirty ? ' with uncommitted changes in src/' : ''}.`,
    'Helm: the umbrella chart has one subchart per app (what the targets compare with); the flat chart ranges over all apps in one chart, Helm’s cheapest shape, as a reference.',
    `Medians of ${result.runs} timed runs after ${result.warmup} warm-up round(s), contenders alternating; peak memory by ${memoryBy}, one run each.`,
    '',
    table(['apps', 'homelab', 'median', 'compared with', 'median', 'ratio'], [
      ...result.sizes.flatMap(resultRows),
      ['–', 'homelab --version', formatMs(result.version.homelab.median), 'node -e 0', formatMs(result.version.node.median), formatRatio(ratio(result.version.homelab.median, result.version.node.median))],
    ]),
    '',
    table(
      ['target (issue 6)', 'measured', ''],
      targets(result).map((t) => [t.text, t.measured, t.holds === undefined ? '–' : t.holds ? '✔' : '✖']),
    ),
  ]
  return lines.join('\n')
}
