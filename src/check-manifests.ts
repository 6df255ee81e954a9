import { isMap } from 'yaml'
import type { Document } from 'yaml'
import { HomelabError } from './errors.js'
import { parseYamlStream } from './yaml-source.js'

/**
 * Check a rendered or copied Kubernetes YAML file: it parses as a YAML stream
 * and every non-empty document is a mapping with apiVersion, kind and
 * metadata.name. Returns false when every document is empty (the file is
 * left out). Reads fields off the parse tree without building plain objects.
 */
export function checkManifestFile(text: string, file: string, context: string): boolean {
  let parsed: ReturnType<typeof parseYamlStream>
  try {
    parsed = parseYamlStream(text, file)
  } catch (error) {
    if (error instanceof HomelabError) {
      throw new HomelabError(`${error.message} (${context})`, { location: error.location, hint: 'the rendered YAML is invalid: check indentation, and pass values through quote, toYaml or nindent' })
    }
    throw error
  }
  let nonEmpty = 0
  for (const doc of parsed.documents) {
    if (doc.contents === null) continue
    nonEmpty++
    const where = () => {
      const { line, col } = parsed.lineCounter.linePos(doc.contents?.range?.[0] ?? 0)
      return { file, line, col }
    }
    if (!isMap(doc.contents)) {
      throw new HomelabError(`a YAML document must be a Kubernetes object (a mapping), not ${describeNode(doc)} (${context})`, { location: where() })
    }
    for (const field of ['apiVersion', 'kind'] as const) {
      const value = doc.get(field)
      if (typeof value !== 'string' || value === '') {
        throw new HomelabError(`a Kubernetes object without ${field} (${context})`, { location: where() })
      }
    }
    const name = doc.getIn(['metadata', 'name'])
    if (typeof name !== 'string' || name === '') {
      throw new HomelabError(`${String(doc.get('kind'))} without metadata.name (${context})`, { location: where() })
    }
  }
  return nonEmpty > 0
}

function describeNode(doc: Document): string {
  const contents = doc.contents as { items?: unknown; value?: unknown } | null
  if (contents && Array.isArray(contents.items)) return 'a list'
  return `the scalar ${JSON.stringify(String(contents?.value)).slice(0, 40)}`
}
