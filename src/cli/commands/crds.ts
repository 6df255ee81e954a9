import { stat } from 'node:fs/promises'
import path from 'node:path'
import { displayPath } from '../../config/load-config.js'
import { pullClusterCrds, pullFluxCrds } from '../../crds.js'
import { HomelabError } from '../../errors.js'
import type { GlobalOptions } from '../index.js'
import { dim, formatDuration, green, info, plural } from '../output.js'

export interface CrdsCommandOptions extends GlobalOptions {
  fromCluster?: boolean
}

/** `homelab crds pull [--from-cluster]`: fill `crds/` beside the config, which `validate` reads (the action is checked with the arguments). */
export async function crdsCommand(options: CrdsCommandOptions): Promise<void> {
  const started = performance.now()
  const configPath = path.resolve(String(options.config))
  // crds/ belongs beside a config: refuse to scatter it into some other folder
  const isFile = await stat(configPath).then((s) => s.isFile(), () => false)
  if (!isFile) {
    throw new HomelabError('config file not found', {
      location: { file: displayPath(configPath) },
      hint: 'run homelab in the folder of your homelab.config.yaml, or pass --config <file>',
    })
  }
  const crdsDir = path.join(path.dirname(configPath), 'crds')
  const result = options.fromCluster ? await pullClusterCrds(crdsDir) : await pullFluxCrds(crdsDir)
  const from = options.fromCluster ? 'the current cluster' : `Flux ${result.fluxVersion ?? 'on PATH'}`
  info(`${green('✔')} wrote ${plural(result.names.length, 'CRD')} of ${from} to ${result.file} ${dim(`(${formatDuration(performance.now() - started)})`)}`)
}
