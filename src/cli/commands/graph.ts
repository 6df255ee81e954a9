import { loadConfig } from '../../config/load-config.js'
import { resolveConfig } from '../../config/resolve-config.js'
import { appGraph, formatGraph, GRAPH_FORMATS } from '../../graph.js'
import type { GraphFormat } from '../../graph.js'
import { UsageError } from '../handle-error.js'
import type { GlobalOptions } from '../index.js'
import { write } from '../output.js'

export interface GraphOptions extends GlobalOptions {
  format?: string
}

/** `homelab graph`: print the apps' dependency graph (the config is checked as for render, nothing is rendered). */
export async function graphCommand(options: GraphOptions): Promise<void> {
  const format = String(options.format ?? 'text')
  if (!GRAPH_FORMATS.includes(format as GraphFormat)) {
    throw new UsageError(`--format must be one of ${GRAPH_FORMATS.join(', ')}, not "${format}"`)
  }
  const { config } = await resolveConfig(await loadConfig(String(options.config)))
  write(formatGraph(appGraph(config), format as GraphFormat))
}
