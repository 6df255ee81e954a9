import { readFileSync } from 'node:fs'
import path from 'node:path'
import type { ValidateFunction } from 'ajv'
import { HomelabError } from '../errors.js'
import { readYamlData } from '../yaml-source.js'
import type { YamlSource } from '../yaml-source.js'
import { CONFIG_SCHEMA_PATH } from './paths.js'
import { assertValid, createAjv } from './schema-check.js'
import type { RawConfig } from './types.js'


/** The config as written, checked against the schema, with its source kept for error locations. */
export interface LoadedConfig {
  /** The config file as shown to the user. */
  file: string
  /** Absolute path of the folder holding the config. */
  root: string
  source: YamlSource
  raw: RawConfig
}

let validateConfig: ValidateFunction | undefined

/** The config validator: the one compiled at build time when it matches the schema, else compiled now. */
async function configValidator(): Promise<ValidateFunction> {
  if (!validateConfig) {
    const schemaText = readFileSync(CONFIG_SCHEMA_PATH, 'utf8')
    const { schemaHash } = await import('./precompile-schema.js')
    try {
      // the build's (dist/config/config-validator.cjs), which the bundle holds: V8's code cache keeps it compiled
      const precompiled = (await import('./config-validator.cjs')).default
      if (precompiled.schemaHash === schemaHash(schemaText)) validateConfig = precompiled
    } catch {
      // not built (run from source): compile below
    }
    validateConfig ??= (await createAjv()).compile(JSON.parse(schemaText) as object)
  }
  return validateConfig
}

/** Shown path of a file: relative to the working directory when that is shorter. */
export function displayPath(file: string, cwd = process.cwd()): string {
  const relative = path.relative(cwd, file)
  return relative && !relative.startsWith('..') && !path.isAbsolute(relative) ? relative : file
}

/** Parse `text` as a homelab config and check it against the schema. */
export async function parseConfig(text: string, file: string, root: string): Promise<LoadedConfig> {
  const { source, data } = readYamlData(text, file)
  if (data === null || data === undefined) {
    throw new HomelabError('the config is empty', {
      location: { file, line: 1, col: 1 },
      hint: 'start from the example homelab.config.yaml of the homelab repository',
    })
  }
  if (data === null || typeof data !== 'object' || Array.isArray(data)) {
    throw new HomelabError('the config must be a mapping with cluster, flux and apps', { location: { file, line: 1, col: 1 } })
  }
  assertValid(await configValidator(), data, source)
  return { file, root, source, raw: data as RawConfig }
}

/** Read, parse and schema-check the config file. */
export async function loadConfig(configPath: string): Promise<LoadedConfig> {
  const absolute = path.resolve(configPath)
  const file = displayPath(absolute)
  let text: string
  try {
    // synchronous: one small file, and nothing else to do meanwhile
    text = readFileSync(absolute, 'utf8')
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code
    throw new HomelabError(code === 'ENOENT' ? 'config file not found' : `cannot read the config: ${(error as Error).message}`, {
      location: { file },
      hint: code === 'ENOENT' ? 'run homelab in the folder of your homelab.config.yaml, or pass --config <file>' : undefined,
    })
  }
  return parseConfig(text, file, path.dirname(absolute))
}
