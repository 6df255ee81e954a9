/**
 * The apps' dependency graph in three notations: plain text for a terminal,
 * Mermaid (GitHub renders a ```mermaid block as is) and Graphviz dot.
 * Edges point from a dependency to its dependent: the order Flux applies them.
 */
import type { ResolvedConfig } from './config/types.js'
import { dependencyOrder } from './dependency-graph.js'

export type GraphFormat = 'text' | 'mermaid' | 'dot'
export const GRAPH_FORMATS: readonly GraphFormat[] = ['text', 'mermaid', 'dot']

export interface GraphApp {
  id: string
  /** `flux: false`: rendered but not reconciled by Flux. */
  flux: boolean
  /** `bootstrap: true`: applied by `homelab bootstrap` before Flux starts. */
  bootstrap: boolean
}

export interface AppGraph {
  /** Enabled apps, every app after the apps it depends on (config order among equals). */
  apps: GraphApp[]
  /** `[dependency, dependent]` pairs, in the order of `apps`. */
  edges: Array<[string, string]>
}

/** The graph of the enabled apps (disabled apps are not part of the cluster, so not shown). */
export function appGraph(config: Pick<ResolvedConfig, 'apps'>): AppGraph {
  const byId = new Map(config.apps.map((app) => [app.id, app]))
  const order = dependencyOrder(config.apps)
  const apps = order.map((id) => {
    const app = byId.get(id)!
    return { id, flux: app.flux, bootstrap: app.bootstrap }
  })
  const edges: Array<[string, string]> = []
  for (const dependency of order) {
    for (const id of order) {
      if (byId.get(id)!.dependsOn.includes(dependency)) edges.push([dependency, id])
    }
  }
  return { apps, edges }
}

function marks(app: GraphApp): string[] {
  return [...(app.bootstrap ? ['bootstrap'] : []), ...(app.flux ? [] : ['flux: false'])]
}

/** One line per app, in dependency order: `id [marks] -> dependents`. */
export function formatText(graph: AppGraph): string {
  const lines = graph.apps.map((app) => {
    const mark = marks(app).map((m) => ` [${m}]`).join('')
    const dependents = graph.edges.filter(([from]) => from === app.id).map(([, to]) => to)
    return `${app.id}${mark}${dependents.length > 0 ? ` -> ${dependents.join(', ')}` : ''}`
  })
  return `${lines.join('\n')}\n`
}

/**
 * A Mermaid flowchart. Node ids are generated (`app0`, `app1`, …) because app
 * ids may be Mermaid keywords (`end`) or start like an edge (`o…`, `x…`);
 * the app id is the quoted label.
 */
export function formatMermaid(graph: AppGraph): string {
  const nodeId = new Map(graph.apps.map((app, i) => [app.id, `app${i}`]))
  const lines = ['flowchart LR']
  for (const app of graph.apps) {
    const label = [app.id, ...marks(app).map((m) => `(${m})`)].map(mermaidText).join('<br/>')
    lines.push(`  ${nodeId.get(app.id)}["${label}"]`)
  }
  for (const [from, to] of graph.edges) lines.push(`  ${nodeId.get(from)} --> ${nodeId.get(to)}`)
  // styles as in the dot output: bold border for bootstrap, dashed for not reconciled by Flux
  const styled = (pick: (app: GraphApp) => boolean) => graph.apps.filter(pick).map((app) => nodeId.get(app.id)).join(',')
  const bootstrap = styled((app) => app.bootstrap)
  const noFlux = styled((app) => !app.flux)
  if (bootstrap) lines.push('  classDef bootstrap stroke-width:3px', `  class ${bootstrap} bootstrap`)
  if (noFlux) lines.push('  classDef noflux stroke-dasharray:5 5', `  class ${noFlux} noflux`)
  return `${lines.join('\n')}\n`
}

/** Text inside a quoted Mermaid label: quotes and markup characters as entity codes. */
function mermaidText(text: string): string {
  return text.replace(/["#<>&]/g, (c) => `#${c.charCodeAt(0)};`)
}

/** A Graphviz digraph; every id is a quoted string, so any id is safe. */
export function formatDot(graph: AppGraph): string {
  const lines = ['digraph homelab {', '  rankdir=LR;', '  node [shape=box];']
  for (const app of graph.apps) {
    const attrs = [`label=${dotString([app.id, ...marks(app).map((m) => `(${m})`)].join('\n'))}`]
    const styles = [app.bootstrap ? 'bold' : '', app.flux ? '' : 'dashed'].filter(Boolean)
    if (styles.length > 0) attrs.push(`style=${dotString(styles.join(','))}`)
    lines.push(`  ${dotString(app.id)} [${attrs.join(', ')}];`)
  }
  for (const [from, to] of graph.edges) lines.push(`  ${dotString(from)} -> ${dotString(to)};`)
  lines.push('}')
  return `${lines.join('\n')}\n`
}

/** A dot double-quoted string: backslash and quote escaped, newlines as `\n` (centred lines). */
function dotString(text: string): string {
  return `"${text.replace(/[\\"]/g, (c) => `\\${c}`).replace(/\n/g, '\\n')}"`
}

/** The graph in the format asked for. */
export function formatGraph(graph: AppGraph, format: GraphFormat): string {
  return format === 'mermaid' ? formatMermaid(graph) : format === 'dot' ? formatDot(graph) : formatText(graph)
}
