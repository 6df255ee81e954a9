import { randomBytes } from 'node:crypto'
import { mkdir, rename, rm, writeFile } from 'node:fs/promises'
import path from 'node:path'
import { stringify } from 'yaml'
import { displayPath } from './config/load-config.js'
import { HomelabError } from './errors.js'
import { runChecked } from './exec.js'
import { extractCrdObjects } from './validate/crd-index.js'

/** What `crds pull` wrote. */
export interface CrdsPullResult {
  /** The file written, as shown to the user. */
  file: string
  /** Names of the CRDs written, sorted. */
  names: string[]
  /** The Flux version the CRDs carry in their labels, when they say. */
  fluxVersion?: string
}

/** The file `crds pull` fills from flux, and the one `--from-cluster` fills. */
export const FLUX_CRDS_FILE = 'flux.yaml'
export const CLUSTER_CRDS_FILE = 'cluster.yaml'

/**
 * Write the CRDs of the flux on PATH into `<crdsDir>/flux.yaml`: the
 * CustomResourceDefinitions of `flux install --export` (its controllers,
 * namespace and RBAC are dropped). Nothing is written on any error.
 */
export async function pullFluxCrds(crdsDir: string): Promise<CrdsPullResult> {
  const { stdout } = await runTool('flux', ['install', '--export'], 'install the Flux CLI of the version your cluster runs (fluxcd.io/flux/installation)')
  const crds = extractCrdObjects(stdout, 'flux install --export')
  if (crds.length === 0) {
    throw new HomelabError('flux install --export printed no CustomResourceDefinition', { hint: 'check that the flux on PATH is Flux 2: flux --version' })
  }
  // flux heads the export with `# Flux version: v2.x.y`; its CRDs carry the same in a label
  const labels = (crds[0]?.metadata as { labels?: Record<string, unknown> } | undefined)?.labels
  const label = labels?.['app.kubernetes.io/version']
  const fluxVersion = /^# Flux version: (\S+)/m.exec(stdout)?.[1] ?? (typeof label === 'string' ? label : undefined)
  const header = `The CustomResourceDefinitions of Flux ${fluxVersion ?? '(the flux on PATH)'}, written by homelab crds pull from flux install --export.`
  return writeCrdFile(path.join(crdsDir, FLUX_CRDS_FILE), crds, header, fluxVersion)
}

/**
 * Write every CRD of the current kubectl context into
 * `<crdsDir>/cluster.yaml`, without the fields the server adds (status,
 * managedFields, resourceVersion, last-applied-configuration).
 */
export async function pullClusterCrds(crdsDir: string): Promise<CrdsPullResult> {
  const { stdout } = await runTool('kubectl', ['get', 'crd', '-o', 'yaml'], 'install kubectl and point its current context at your cluster')
  const crds = extractCrdObjects(stdout, 'kubectl get crd -o yaml')
  if (crds.length === 0) throw new HomelabError('the current kubectl context has no CustomResourceDefinition', { hint: 'check the context: kubectl config current-context' })
  return writeCrdFile(path.join(crdsDir, CLUSTER_CRDS_FILE), crds, 'Every CustomResourceDefinition of the cluster, written by homelab crds pull --from-cluster.')
}

async function runTool(file: string, args: string[], hint: string) {
  try {
    // input '' closes stdin: neither command reads it, and an open pipe could keep one waiting
    return await runChecked(file, args, { input: '' })
  } catch (error) {
    if (error instanceof HomelabError && !error.hint) throw new HomelabError(error.message, { hint, cause: error })
    throw error
  }
}

/** Only what defines the CRD: deterministic output, no cluster state. */
function cleanCrd(crd: Record<string, unknown>): Record<string, unknown> {
  const metadata = (crd.metadata ?? {}) as Record<string, unknown>
  const annotations = { ...((metadata.annotations ?? {}) as Record<string, unknown>) }
  delete annotations['kubectl.kubernetes.io/last-applied-configuration']
  const cleanMetadata: Record<string, unknown> = { name: metadata.name }
  if (metadata.labels && Object.keys(metadata.labels).length > 0) cleanMetadata.labels = metadata.labels
  if (Object.keys(annotations).length > 0) cleanMetadata.annotations = annotations
  return { apiVersion: crd.apiVersion, kind: crd.kind, metadata: cleanMetadata, spec: crd.spec }
}

async function writeCrdFile(file: string, crds: Array<Record<string, unknown>>, header: string, fluxVersion?: string): Promise<CrdsPullResult> {
  const cleaned = crds.map(cleanCrd).sort((a, b) => (nameOf(a) < nameOf(b) ? -1 : nameOf(a) > nameOf(b) ? 1 : 0))
  const text =
    `# ${header}\n# Do not edit: run it again after upgrading.\n` +
    cleaned.map((crd) => `---\n${stringify(crd, { lineWidth: 0 })}`).join('')
  await mkdir(path.dirname(file), { recursive: true })
  // atomic: a validate running meanwhile reads the old file or the new one, never half of one
  const temp = path.join(path.dirname(file), `.${path.basename(file)}.homelab-tmp-${randomBytes(6).toString('hex')}`)
  try {
    await writeFile(temp, text)
    await rename(temp, file)
  } catch (error) {
    await rm(temp, { force: true })
    throw error
  }
  return { file: displayPath(file), names: cleaned.map(nameOf), fluxVersion }
}

function nameOf(crd: Record<string, unknown>): string {
  return String((crd.metadata as { name?: unknown }).name ?? '')
}
