import { cpSync, existsSync, readdirSync, readFileSync } from 'node:fs'
import path from 'node:path'
import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import { parseAllDocuments } from 'yaml'
import { loadCrdDir } from '../src/validate/crd-index.js'
import { parseYamlStream } from '../src/yaml-source.js'
import { FLUX_CRDS_DIR, copyExample, minimalConfig, minimalHomelab, removeDir, runCli, tempDir, writeFiles } from './helpers/cli.js'
import { createShimEnv } from './helpers/shims.js'
import type { ShimEnv } from './helpers/shims.js'

const FLUX_CRD_NAMES = readdirSync(FLUX_CRDS_DIR)
  .map((file) => file.replace(/^(.*?)_(.*)\.yaml$/, '$2.$1'))
  .sort()

/**
 * What the flux stand-in exports: the shared Flux CRDs plus the other kinds
 * a real `flux install --export` prints (namespace, controller), which pull must drop.
 */
function exportDir(): string {
  const dir = tempDir('homelab-flux-export-')
  for (const file of readdirSync(FLUX_CRDS_DIR)) cpSync(path.join(FLUX_CRDS_DIR, file), path.join(dir, file))
  writeFiles(dir, {
    'aa-namespace.yaml': 'apiVersion: v1\nkind: Namespace\nmetadata:\n  name: flux-system\n',
    'zz-controller.yaml': 'apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: source-controller\n  namespace: flux-system\nspec: {}\n',
  })
  return dir
}

function kindsAndNames(text: string): string[] {
  return parseAllDocuments(text)
    .map((doc) => doc.toJS() as { kind: string; metadata: { name: string } } | null)
    .filter((object) => object !== null)
    .map((object) => `${object.kind} ${object.metadata.name}`)
}

async function pull(dir: string, shim: ShimEnv, ...args: string[]) {
  return runCli(['crds', 'pull', ...args], { cwd: dir, env: shim.env, replaceEnv: true })
}

const Pull = suite('crds pull')

Pull('writes only the CustomResourceDefinitions of flux install --export into crds/flux.yaml', async () => {
  const dir = copyExample()
  const exported = exportDir()
  const shim = createShimEnv({ env: { SHIM_FLUX_EXPORT_DIR: exported } })
  try {
    const result = await pull(dir, shim)
    assert.is(result.code, 0, result.stderr)
    assert.match(result.stdout, /^✔ wrote 5 CRDs of Flux v2\.4\.0 to crds\/flux\.yaml \(\d+(\.\d)? m?s\)\n$/)
    const text = readFileSync(path.join(dir, 'crds', 'flux.yaml'), 'utf8')
    assert.ok(text.startsWith('# The CustomResourceDefinitions of Flux v2.4.0, written by homelab crds pull'))
    assert.equal(kindsAndNames(text), FLUX_CRD_NAMES.map((name) => `CustomResourceDefinition ${name}`))
    assert.equal(readdirSync(path.join(dir, 'crds')), ['flux.yaml'], 'no temp file left behind')
    const calls = shim.readLog('flux')
    assert.equal(calls.map((call) => call.argv), [['install', '--export']])
    assert.ok(calls[0]?.stdinClosed, 'stdin is closed, so flux never waits on it')

    // the same flux gives the same bytes
    assert.is((await pull(dir, shim)).code, 0)
    assert.is(readFileSync(path.join(dir, 'crds', 'flux.yaml'), 'utf8'), text)

    // and validate now checks the Flux kinds of the example against them
    const validated = await runCli(['validate', '--format', 'json'], { cwd: dir })
    assert.is(validated.code, 0, validated.stdout)
    const findings = JSON.parse(validated.stdout) as Array<{ apiVersion: string }>
    assert.equal(findings.filter((f) => f.apiVersion.includes('fluxcd.io')), [])
  } finally {
    shim.cleanup()
    removeDir(dir)
    removeDir(exported)
  }
})

Pull('the pulled file indexes the same CRDs, with the same schemas, as the originals', async () => {
  const dir = copyExample()
  const shim = createShimEnv({ env: { SHIM_FLUX_EXPORT_DIR: FLUX_CRDS_DIR } })
  try {
    assert.is((await pull(dir, shim)).code, 0)
    const pulled = await loadCrdDir(path.join(dir, 'crds'))
    const original = await loadCrdDir(FLUX_CRDS_DIR)
    for (const [group, kind] of [['helm.toolkit.fluxcd.io', 'HelmRelease'], ['kustomize.toolkit.fluxcd.io', 'Kustomization']] as const) {
      const versions = pulled.find(group, kind)?.versions
      assert.ok(versions && versions.length > 0)
      assert.equal(versions, original.find(group, kind)?.versions)
    }
  } finally {
    shim.cleanup()
    removeDir(dir)
  }
})

/** A CRD as the API server returns it: with status, managedFields and the last-applied annotation. */
const SERVED_CRD = `apiVersion: apiextensions.k8s.io/v1
kind: CustomResourceDefinition
metadata:
  name: widgets.example.com
  uid: 0b5e1c1e-0000-4000-8000-000000000000
  resourceVersion: "12345"
  generation: 2
  creationTimestamp: "2024-05-01T10:00:00Z"
  managedFields:
    - manager: kubectl
      operation: Apply
  annotations:
    kubectl.kubernetes.io/last-applied-configuration: '{"apiVersion":"apiextensions.k8s.io/v1"}'
    example.com/owner: team-a
spec:
  group: example.com
  names: { kind: Widget, plural: widgets }
  scope: Namespaced
  versions:
    - name: v1
      served: true
      storage: true
      schema:
        openAPIV3Schema: { type: object }
status:
  acceptedNames: { kind: Widget, plural: widgets }
  storedVersions: [v1]
`

Pull('--from-cluster writes every CRD of the current context into crds/cluster.yaml, without server fields', async () => {
  const dir = copyExample()
  const served = tempDir('homelab-cluster-crds-')
  for (const file of readdirSync(FLUX_CRDS_DIR)) cpSync(path.join(FLUX_CRDS_DIR, file), path.join(served, file))
  writeFiles(served, { 'widgets.yaml': SERVED_CRD })
  const shim = createShimEnv({ env: { SHIM_CRDS_DIR: served } })
  try {
    const result = await pull(dir, shim, '--from-cluster')
    assert.is(result.code, 0, result.stderr)
    assert.match(result.stdout, /^✔ wrote 6 CRDs of the current cluster to crds\/cluster\.yaml/)
    const text = readFileSync(path.join(dir, 'crds', 'cluster.yaml'), 'utf8')
    assert.equal(kindsAndNames(text), [...FLUX_CRD_NAMES, 'widgets.example.com'].sort().map((name) => `CustomResourceDefinition ${name}`))
    const widget = parseAllDocuments(text)
      .map((doc) => doc.toJS() as Record<string, any> | null)
      .find((object) => object?.metadata?.name === 'widgets.example.com')
    assert.equal(widget, {
      apiVersion: 'apiextensions.k8s.io/v1',
      kind: 'CustomResourceDefinition',
      metadata: { name: 'widgets.example.com', annotations: { 'example.com/owner': 'team-a' } },
      spec: {
        group: 'example.com',
        names: { kind: 'Widget', plural: 'widgets' },
        scope: 'Namespaced',
        versions: [{ name: 'v1', served: true, storage: true, schema: { openAPIV3Schema: { type: 'object' } } }],
      },
    })
    assert.equal(shim.readLog('kubectl').map((call) => call.argv), [['get', 'crd', '-o', 'yaml']])
    assert.equal(shim.readLog('flux'), [])

    // the switch before the action: the action is still the action, not the switch's value
    const before = await runCli(['crds', '--from-cluster', 'pull'], { cwd: dir, env: shim.env, replaceEnv: true })
    assert.is(before.code, 0, before.stderr)
    assert.match(before.stdout, /^✔ wrote 6 CRDs of the current cluster to crds\/cluster\.yaml/)
    assert.is(shim.readLog('kubectl').length, 2)
  } finally {
    shim.cleanup()
    removeDir(dir)
    removeDir(served)
  }
})

Pull('flux missing from PATH: an error with a hint, nothing written', async () => {
  const dir = copyExample()
  const shim = createShimEnv({ omit: ['flux'] })
  try {
    const result = await pull(dir, shim)
    assert.is(result.code, 1)
    assert.match(result.stderr, /^error: flux not found on PATH\nhint: install the Flux CLI/)
    assert.not.ok(existsSync(path.join(dir, 'crds')))
  } finally {
    shim.cleanup()
    removeDir(dir)
  }
})

Pull('a failing flux leaves crds/flux.yaml as it was and never prints a token', async () => {
  const dir = copyExample()
  writeFiles(dir, { 'crds/flux.yaml': '# the old one\n' })
  const token = 'ghp_pullTokenThatMustNotLeak123'
  const shim = createShimEnv({ env: { SHIM_FLUX_FAIL: 'install', GITHUB_TOKEN: token, SHIM_FLUX_EXPORT_DIR: FLUX_CRDS_DIR } })
  try {
    const result = await pull(dir, shim)
    assert.is(result.code, 1)
    assert.match(result.stderr, /^error: flux install --export failed \(exit 1\)/)
    assert.not.match(result.stderr + result.stdout, token)
    assert.is(readFileSync(path.join(dir, 'crds', 'flux.yaml'), 'utf8'), '# the old one\n')
  } finally {
    shim.cleanup()
    removeDir(dir)
  }
})

Pull('an export without CRDs is an error', async () => {
  const dir = copyExample()
  const empty = tempDir('homelab-flux-export-')
  writeFiles(empty, { 'ns.yaml': 'apiVersion: v1\nkind: Namespace\nmetadata:\n  name: flux-system\n' })
  const shim = createShimEnv({ env: { SHIM_FLUX_EXPORT_DIR: empty } })
  try {
    const result = await pull(dir, shim)
    assert.is(result.code, 1)
    assert.match(result.stderr, 'error: flux install --export printed no CustomResourceDefinition')
    assert.not.ok(existsSync(path.join(dir, 'crds', 'flux.yaml')))
  } finally {
    shim.cleanup()
    removeDir(dir)
    removeDir(empty)
  }
})

Pull('usage: an unknown action exits 2; no config exits 1', async () => {
  const dir = minimalHomelab(minimalConfig('  - template: web'))
  const nowhere = tempDir()
  const shim = createShimEnv({ env: { SHIM_FLUX_EXPORT_DIR: FLUX_CRDS_DIR } })
  try {
    const unknown = await runCli(['crds', 'push'], { cwd: dir, env: shim.env, replaceEnv: true })
    assert.is(unknown.code, 2)
    assert.match(unknown.stderr, 'error: unknown crds action "push"')
    const noConfig = await pull(nowhere, shim)
    assert.is(noConfig.code, 1)
    assert.match(noConfig.stderr, 'error: homelab.config.yaml: config file not found')
    assert.equal(readdirSync(nowhere), [])
  } finally {
    shim.cleanup()
    removeDir(dir)
    removeDir(nowhere)
  }
})

const Index = suite('crds/: reading the CRD files')

Index('a kubectl List, four-space indentation and flow style are read as well as the usual layout', async () => {
  const dir = tempDir()
  const crd = (group: string, kind: string) =>
    `{apiVersion: apiextensions.k8s.io/v1, kind: CustomResourceDefinition, metadata: {name: x.${group}}, spec: {group: ${group}, names: {kind: ${kind}, plural: x}, scope: Cluster, versions: [{name: v1, served: true, storage: true, schema: {openAPIV3Schema: {type: object}}}]}}`
  writeFiles(dir, {
    'a-list.yaml': `apiVersion: v1\nkind: List\nitems:\n  - ${crd('list.example.com', 'Listed')}\n`,
    'b-flow.yaml': `---\n${crd('flow.example.com', 'Flowing')}\n---\napiVersion: v1\nkind: ConfigMap\nmetadata: {name: not-a-crd}\n`,
    'c-wide.yaml': [
      'apiVersion: apiextensions.k8s.io/v1',
      'kind: CustomResourceDefinition',
      'metadata:',
      '    name: wides.wide.example.com',
      'spec:',
      '    group: wide.example.com',
      '    names:',
      '        kind: Wide',
      '        plural: wides',
      '    scope: Namespaced',
      '    versions:',
      '        - name: v1',
      '          served: true',
      '          storage: true',
      '',
    ].join('\n'),
  })
  try {
    const index = await loadCrdDir(dir)
    assert.is(index.find('list.example.com', 'Listed')?.scope, 'Cluster')
    assert.is(index.find('flow.example.com', 'Flowing')?.file.endsWith('b-flow.yaml'), true)
    assert.is(index.find('wide.example.com', 'Wide')?.scope, 'Namespaced')
    assert.is(index.size, 3)
  } finally {
    removeDir(dir)
  }
})

Index('a broken CRD is reported at its line in the whole file when a rendered object needs it', async () => {
  const dir = tempDir()
  const good = readFileSync(path.join(FLUX_CRDS_DIR, 'source.toolkit.fluxcd.io_helmrepositories.yaml'), 'utf8')
  const broken = 'apiVersion: apiextensions.k8s.io/v1\nkind: CustomResourceDefinition\nmetadata:\n  name: bad.example.com\nspec:\n  group: example.com\n  names:\n    kind: Bad\n  versions: [unclosed\n'
  const text = `${good.trimEnd()}\n---\n${broken}`
  writeFiles(dir, { 'crds.yaml': text })
  // where a parse of the whole file puts the error
  let wholeFileLine: number | undefined
  try {
    parseYamlStream(text, 'crds.yaml')
  } catch (error) {
    wholeFileLine = (error as { location?: { line?: number } }).location?.line
  }
  assert.ok(wholeFileLine !== undefined && wholeFileLine > good.split('\n').length)
  try {
    const index = await loadCrdDir(dir)
    assert.ok(index.find('source.toolkit.fluxcd.io', 'HelmRepository'))
    try {
      index.find('example.com', 'Bad')
      assert.unreachable('the broken CRD must not parse')
    } catch (error) {
      const location = (error as { location?: { line?: number } }).location
      assert.is(location?.line, wholeFileLine)
    }
  } finally {
    removeDir(dir)
  }
})

Pull.run()
Index.run()
