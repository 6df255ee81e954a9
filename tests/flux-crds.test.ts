/**
 * The Flux objects of the example homelab against the real Flux CRDs
 * (../shared/fixtures/flux-crds), through the validate module's CRD schemas.
 */
import path from 'node:path'
import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import { renderHomelab } from '../src/index.js'
import { CrdIndex, loadCrdDir } from '../src/validate/crd-index.js'
import { crdValidator } from '../src/validate/crd-schemas.js'
import { parseManifests } from '../src/validate/documents.js'
import type { ManifestDocument } from '../src/validate/documents.js'
import { describeSchemaErrors } from '../src/validate/schema-errors.js'
import { FLUX_CRDS_DIR, ROOT } from './helpers/cli.js'

let crds: CrdIndex
let documents: ManifestDocument[]

/** Schema problems of one object against its CRD in the fixtures, as `path: message` lines. */
function problems(doc: { group: string; kind: string; version: string; object: unknown }): string[] {
  const crd = crds.find(doc.group, doc.kind)
  assert.ok(crd, `the fixtures have a CRD for ${doc.group} ${doc.kind}`)
  const version = crd.versions.find((v) => v.name === doc.version)
  assert.ok(version?.served, `${doc.group}/${doc.version} is a served version of ${crd.name}`)
  const compiled = crdValidator(version)
  if ('error' in compiled) throw new Error(`the schema of ${crd.name} did not compile: ${compiled.error}`)
  return describeSchemaErrors(compiled.validate(doc.object), doc.object, { showValues: true }).map((p) => `${p.path}: ${p.message}`)
}

const Flux = suite('the example against the Flux CRDs')

Flux.before(async () => {
  crds = await loadCrdDir(FLUX_CRDS_DIR)
  const { config, plan } = await renderHomelab(path.join(ROOT, 'homelab.config.yaml'))
  documents = [...plan].flatMap(([file, content]) =>
    /\.ya?ml$/.test(file) && !file.endsWith('/kustomization.yaml') ? parseManifests(String(content), file, undefined) : [],
  )
  assert.ok(config.apps.length > 0)
})

Flux('every CRD version of the fixtures compiles with strict ajv', () => {
  assert.is(crds.size, 5)
  for (const [group, kind] of [
    ['kustomize.toolkit.fluxcd.io', 'Kustomization'],
    ['helm.toolkit.fluxcd.io', 'HelmRelease'],
    ['source.toolkit.fluxcd.io', 'HelmRepository'],
    ['source.toolkit.fluxcd.io', 'GitRepository'],
    ['source.toolkit.fluxcd.io', 'OCIRepository'],
  ] as const) {
    const crd = crds.find(group, kind)
    assert.ok(crd, `${kind} is indexed`)
    for (const version of crd.versions) {
      const compiled = crdValidator(version)
      assert.not.ok('error' in compiled, `${kind} ${version.name}: ${'error' in compiled ? compiled.error : ''}`)
    }
  }
})

Flux('the generated Kustomizations (apps/flux/*, apps/flux-bootstrap) match the Kustomization CRD', () => {
  const generated = documents.filter((doc) => /^apps\/flux(-bootstrap)?\//.test(doc.file))
  assert.ok(generated.length >= 6, `found ${generated.length}`)
  assert.ok(generated.some((doc) => doc.file === 'apps/flux-bootstrap/flux-bootstrap.yaml'))
  for (const doc of generated) {
    assert.is(`${doc.apiVersion} ${doc.kind}`, 'kustomize.toolkit.fluxcd.io/v1 Kustomization', doc.file)
    assert.equal(problems(doc), [], doc.file)
  }
})

Flux('every HelmRelease and HelmRepository of the example matches its CRD', () => {
  const helm = documents.filter((doc) => doc.kind === 'HelmRelease' || doc.kind === 'HelmRepository')
  assert.ok(helm.filter((doc) => doc.kind === 'HelmRelease').length >= 2, 'the example has HelmReleases')
  assert.ok(helm.filter((doc) => doc.kind === 'HelmRepository').length >= 2, 'the example has HelmRepositories')
  for (const doc of helm) assert.equal(problems(doc), [], `${doc.file}: ${doc.kind}/${doc.name}`)
})

Flux('the check fails on a broken Kustomization and a broken HelmRelease', () => {
  const kustomization = documents.find((doc) => doc.file === 'apps/flux/whoami.yaml')
  assert.ok(kustomization)
  const object = structuredClone(kustomization.object) as { spec: Record<string, unknown> }
  object.spec.prune = 'yes'
  object.spec.intervall = '5m'
  delete object.spec.sourceRef
  assert.equal(problems({ ...kustomization, object }).sort(), [
    'spec.intervall: unknown field (did you mean "interval"?)',
    'spec.prune: must be a boolean, not the string "yes"',
    'spec.sourceRef: required field is missing',
  ])

  const release = documents.find((doc) => doc.kind === 'HelmRelease')
  assert.ok(release)
  const broken = structuredClone(release.object) as { spec: { upgrade?: unknown; interval?: unknown } }
  broken.spec.upgrade = { remediation: { strategy: 'rollbak' } }
  broken.spec.interval = '10 minutes'
  assert.equal(problems({ ...release, object: broken }).sort(), [
    'spec.interval: must match the pattern ^([0-9]+(\\.[0-9]+)?(ms|s|m|h))+$, not the string "10 minutes"',
    'spec.upgrade.remediation.strategy: must be one of "rollback", "uninstall", not the string "rollbak" (did you mean "rollback"?)',
  ])
})

Flux.run()
