/**
 * Where homelab finds what a config depends on, without loading anything:
 * the render memo asks before a render loads the config (render-cache.ts).
 */
import path from 'node:path'
import { fileURLToPath } from 'node:url'

/** Where the JSON Schema of the config lives (also what editors use through the modeline). */
export const CONFIG_SCHEMA_PATH = new URL('../../schema/homelab.config.schema.json', import.meta.url)

/** Where templates are read from: `templates/` beside the config. */
export function templatesDirOf(loaded: { root: string }): string {
  return path.join(loaded.root, 'templates')
}

/** Folders beside the config whose whole tree is an input of a render (watched by render --watch; no output may go there). */
export const INPUT_FOLDERS = ['templates', 'crds'] as const

/**
 * The files and folders a render of `configFile` reads, besides homelab's
 * code: the config, templates/ beside it, and the config schema (its defaults
 * are filled into the config). crds/ is not among them: only validate reads it.
 */
export function renderInputPaths(configFile: string): string[] {
  const config = path.resolve(configFile)
  return [config, templatesDirOf({ root: path.dirname(config) }), fileURLToPath(CONFIG_SCHEMA_PATH)]
}
