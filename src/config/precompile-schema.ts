/**
 * Build step (after tsc): compile the config's JSON Schema once, with ajv's
 * standalone code generation, into dist/config/config-validator.cjs, so that
 * no command pays for compiling it at start-up; likewise template.yaml's schema
 * and the JSON Schema meta-schema, into dist/config/static-validators.cjs. The file records the hash of
 * the schema it came from; a schema edited after the build is compiled at
 * run time instead (see load-config.ts).
 */
import { createHash } from 'node:crypto'
import { readFileSync, writeFileSync } from 'node:fs'
import { createRequire } from 'node:module'
import { fileURLToPath } from 'node:url'
import { JSON_SCHEMA_DRAFT7, TEMPLATE_META_SCHEMA, createAjv } from './schema-check.js'

/** In dist/config/, beside load-config.js and schema-check.js, which import them (and the bundle holds them, bundle.ts). */
const PRECOMPILED_VALIDATOR = new URL('./config-validator.cjs', import.meta.url)
const STATIC_VALIDATORS = new URL('./static-validators.cjs', import.meta.url)

/** sha256 of the schema text: what a precompiled validator must match. */
export function schemaHash(text: string): string {
  return createHash('sha256').update(text).digest('hex')
}

/** The validators of schemas that never change: template.yaml's, and the JSON Schema meta-schema options schemas are checked against. */
async function precompileStatic(): Promise<void> {
  const ajv = await createAjv({ code: { source: true } })
  ajv.addSchema(TEMPLATE_META_SCHEMA as object, 'templateMeta')
  writeFileSync(STATIC_VALIDATORS, standaloneCode(ajv, { templateMeta: 'templateMeta', jsonSchema: JSON_SCHEMA_DRAFT7 }))
}

function standaloneCode(ajv: unknown, refs: unknown): string {
  const require = createRequire(import.meta.url)
  return (require('ajv/dist/standalone') as { default: (ajv: unknown, refs: unknown) => string }).default(ajv, refs)
}

async function precompile(): Promise<void> {
  const schemaText = readFileSync(new URL('../../schema/homelab.config.schema.json', import.meta.url), 'utf8')
  const ajv = await createAjv({ code: { source: true } })
  const validate = ajv.compile(JSON.parse(schemaText) as object)
  const code = standaloneCode(ajv, validate)
  writeFileSync(PRECOMPILED_VALIDATOR, `${code}\nmodule.exports.schemaHash = ${JSON.stringify(schemaHash(schemaText))};\n`)
}

// run by the build; no top-level await, which the CommonJS bundle this module is also part of cannot hold
if (process.argv[1] === fileURLToPath(import.meta.url)) {
  // a failure rejects unhandled: Node prints it and the build exits 1
  void precompile().then(precompileStatic)
}
