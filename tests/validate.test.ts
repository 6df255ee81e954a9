import { cpSync, readdirSync } from 'node:fs'
import path from 'node:path'
import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import { toJsonSchema } from '../src/validate/crd-schemas.js'
import { formatFinding } from '../src/validate/findings.js'
import type { Finding, ObjectFinding, SourceFinding } from '../src/validate/findings.js'
import { FLUX_CRDS_DIR, copyExample, minimalConfig, minimalHomelab, removeDir, runCli, writeFiles } from './helpers/cli.js'

/** Put the shared Flux CRDs into `<dir>/crds/`, as `homelab crds pull` would. */
function addFluxCrds(dir: string): void {
  for (const file of readdirSync(FLUX_CRDS_DIR)) cpSync(path.join(FLUX_CRDS_DIR, file), path.join(dir, 'crds', file))
}

/** A homelab whose apps use the given templates (name → files), with the Flux CRDs in crds/ unless told otherwise. */
function homelab(apps: string, files: Record<string, string>, options: { fluxCrds?: boolean } = {}): string {
  const dir = minimalHomelab(minimalConfig(apps), files)
  if (options.fluxCrds !== false) addFluxCrds(dir)
  return dir
}

async function validate(dir: string, ...args: string[]) {
  return runCli(['validate', ...args], { cwd: dir })
}

/** `--format json` with no error on stderr; the findings typed as the test expects them (about objects, unless told). */
async function validateJson<F extends Finding = ObjectFinding>(dir: string, ...args: string[]): Promise<{ code: number; findings: F[] }> {
  const result = await validate(dir, '--format', 'json', ...args)
  assert.is(result.stderr, '')
  return { code: result.code, findings: JSON.parse(result.stdout) as F[] }
}

/** `--format json` when the config or templates do not load: the one `input` finding, which says what the error line says. */
async function validateJsonInputError(dir: string): Promise<SourceFinding> {
  const result = await validate(dir, '--format', 'json')
  assert.is(result.code, 1, result.stderr)
  const findings = JSON.parse(result.stdout) as SourceFinding[]
  assert.is(findings.length, 1, result.stdout)
  const [finding] = findings as [SourceFinding]
  assert.is(finding.rule, 'input')
  assert.is(finding.severity, 'error')
  assert.is(result.stderr.split('\n')[0], `error: ${formatFinding(finding)}`)
  return finding
}

const DEPLOYMENT = `apiVersion: apps/v1
kind: Deployment
metadata:
  name: api
  namespace: api
spec:
  replicas: three
  selector:
    matchLabels: { app: api }
  template:
    metadata:
      labels: { app: api }
    spec:
      containers:
        - name: api
          image: nginx:1.27
          ports:
            - containerPort: 8080
          resources:
            limits: { memory: 64Mx }
`

const HELM_RELEASE = (apiVersion: string, strategy: string) => `apiVersion: ${apiVersion}
kind: HelmRelease
metadata:
  name: podinfo
  namespace: podinfo
spec:
  interval: 10m
  chart:
    spec:
      chart: podinfo
      version: "6.x"
      sourceRef:
        kind: HelmRepository
        name: podinfo
  upgrade:
    remediation:
      strategy: ${strategy}
`

const WIDGET_CRD = `apiVersion: apiextensions.k8s.io/v1
kind: CustomResourceDefinition
metadata:
  name: widgets.example.com
spec:
  group: example.com
  names: { kind: Widget, listKind: WidgetList, plural: widgets, singular: widget }
  scope: Namespaced
  versions:
    - name: v1
      served: true
      storage: true
      schema:
        openAPIV3Schema:
          type: object
          properties:
            apiVersion: { type: string }
            kind: { type: string }
            metadata: { type: object }
            spec:
              type: object
              required: [size]
              x-kubernetes-validations:
                - rule: self.size < 100
                  message: too big
              properties:
                size: { type: integer, format: int32, minimum: 1 }
                color: { type: string, enum: [red, green], nullable: true }
                port: { x-kubernetes-int-or-string: true }
                extra: { type: object, x-kubernetes-preserve-unknown-fields: true }
`

const WIDGETS = `apiVersion: example.com/v1
kind: Widget
metadata:
  name: good
  namespace: shop
spec:
  size: 3
  color: null
  port: http
  extra: { anything: [1, 2], goes: true }
---
apiVersion: example.com/v1
kind: Widget
metadata:
  name: bad
  namespace: shop
spec:
  size: big
  color: blue
  port: true
  colour: red
`

const Findings = suite('validate: one fixture per finding type')

Findings('an invalid Deployment field: file, kind/name, path and message; exit 1', async () => {
  const dir = homelab('  - template: api', { 'templates/api/deployment.yaml': DEPLOYMENT })
  try {
    const result = await validate(dir)
    assert.is(result.code, 1, result.stderr)
    assert.is(result.stderr, '')
    const lines = result.stdout.trim().split('\n')
    assert.equal(lines.slice(0, 2), [
      'apps/api/deployment.yaml: Deployment/api: spec.replicas: must be an integer, not the string "three"',
      'apps/api/deployment.yaml: Deployment/api: spec.template.spec.containers[0].resources.limits.memory: must be a quantity such as 500m, 128Mi or 2, not the string "64Mx"',
    ])
    assert.match(lines[2] ?? '', /^✖ 2 errors in 3 objects of 1 app \(\d+(\.\d)? m?s\)$/)
    assert.is(lines.length, 3, 'the generated Kustomizations pass against the Flux CRDs: no other line')

    const json = await validateJson(dir)
    assert.is(json.code, 1)
    assert.equal(json.findings[0], {
      severity: 'error',
      rule: 'schema',
      file: 'apps/api/deployment.yaml',
      line: 7,
      app: 'api',
      apiVersion: 'apps/v1',
      kind: 'Deployment',
      name: 'api',
      namespace: 'api',
      path: 'spec.replicas',
      message: 'must be an integer, not the string "three"',
    })
  } finally {
    removeDir(dir)
  }
})

Findings('a Flux HelmRelease v2 with a wrong enum value, checked against the Flux CRDs in crds/', async () => {
  const dir = homelab('  - template: podinfo', { 'templates/podinfo/helmrelease.yaml': HELM_RELEASE('helm.toolkit.fluxcd.io/v2', 'rollbak') })
  try {
    const result = await validate(dir)
    assert.is(result.code, 1, result.stderr)
    assert.match(
      result.stdout,
      'apps/podinfo/helmrelease.yaml: HelmRelease/podinfo: spec.upgrade.remediation.strategy: must be one of "rollback", "uninstall", not the string "rollbak" (did you mean "rollback"?)\n',
    )
    const { findings } = await validateJson(dir)
    assert.equal(findings.map((f) => [f.line, f.path]), [[17, 'spec.upgrade.remediation.strategy']])
  } finally {
    removeDir(dir)
  }
})

Findings('the same HelmRelease passes with a valid value, and a removed API version is an error', async () => {
  const dir = homelab('  - template: podinfo', {
    'templates/podinfo/helmrelease.yaml': HELM_RELEASE('helm.toolkit.fluxcd.io/v2', 'uninstall'),
    'templates/podinfo/old.yaml': HELM_RELEASE('helm.toolkit.fluxcd.io/v2beta1', 'rollback').replace('name: podinfo\n', 'name: old\n'),
  })
  try {
    const result = await validate(dir)
    assert.is(result.code, 1, result.stdout)
    assert.equal(result.stdout.trim().split('\n')[0], 'apps/podinfo/old.yaml: HelmRelease/old: apiVersion: helm.toolkit.fluxcd.io/v2beta1 is not a version of the CRD helmreleases.helm.toolkit.fluxcd.io (crds/helm.toolkit.fluxcd.io_helmreleases.yaml); use helm.toolkit.fluxcd.io/v2')
    assert.match(result.stdout, /✖ 1 error in 4 objects/)
  } finally {
    removeDir(dir)
  }
})

Findings('without crds/ a Flux kind has no schema: a warning, exit 0, and the hint to run crds pull', async () => {
  const dir = homelab('  - template: podinfo', { 'templates/podinfo/helmrelease.yaml': HELM_RELEASE('helm.toolkit.fluxcd.io/v2', 'rollbak') }, { fluxCrds: false })
  try {
    const result = await validate(dir)
    assert.is(result.code, 0, result.stdout)
    assert.match(result.stdout, 'apps/podinfo/helmrelease.yaml: HelmRelease/podinfo: apiVersion: warning: no schema for helm.toolkit.fluxcd.io/v2 HelmRelease: no CRD for it in crds/\n')
    assert.match(result.stdout, /✔ 3 objects of 1 app valid \(3 warnings\)/)
    assert.match(result.stdout, '\nhint: run homelab crds pull')
  } finally {
    removeDir(dir)
  }
})

Findings('a CRD whose schema lists only spec: apiVersion, kind and metadata are still allowed, unknown fields beside them are not', async () => {
  const crd = WIDGET_CRD.replace('            apiVersion: { type: string }\n            kind: { type: string }\n            metadata: { type: object }\n', '')
  assert.not.match(crd, 'metadata: { type: object }')
  const widget = 'apiVersion: example.com/v1\nkind: Widget\nmetadata:\n  name: plain\n  namespace: shop\n  labels: { tier: web }\nspec:\n  size: 3\n'
  const dir = homelab('  - template: shop', { 'templates/shop/widgets.yaml': `${widget}---\n${widget.replace('plain', 'odd')}extra: 1\n`, 'crds/widgets.yaml': crd })
  try {
    const { code, findings } = await validateJson(dir)
    assert.is(code, 1)
    assert.equal(
      findings.map((f) => `${f.name} ${f.path}: ${f.message}`),
      ['odd extra: unknown field'],
    )
  } finally {
    removeDir(dir)
  }
})

Findings('a custom resource failing its CRD, and one passing it', async () => {
  const dir = homelab('  - template: shop', { 'templates/shop/widgets.yaml': WIDGETS, 'crds/widgets.yaml': WIDGET_CRD })
  try {
    const { code, findings } = await validateJson(dir)
    assert.is(code, 1)
    assert.ok(findings.every((f) => f.name === 'bad'), 'the good Widget passes')
    assert.equal(
      findings.map((f) => `${f.line} ${f.path}: ${f.message}`),
      [
        '18 spec.size: must be an integer, not the string "big"',
        '19 spec.color: must be one of "red", "green", null, not the string "blue"',
        '20 spec.port: must be an integer or a string, not the boolean true',
        '21 spec.colour: unknown field (did you mean "color"?)',
      ],
    )
  } finally {
    removeDir(dir)
  }
})

Findings('a CRD rendered by an app checks its own custom resources', async () => {
  const dir = homelab('  - template: shop', { 'templates/shop/crd.yaml': WIDGET_CRD, 'templates/shop/widgets.yaml': WIDGETS })
  try {
    const { code, findings } = await validateJson(dir)
    assert.is(code, 1)
    assert.equal(findings.map((f) => `${f.file} ${f.name} ${f.path}`), [
      'apps/shop/widgets.yaml bad spec.size',
      'apps/shop/widgets.yaml bad spec.color',
      'apps/shop/widgets.yaml bad spec.port',
      'apps/shop/widgets.yaml bad spec.colour',
    ])
  } finally {
    removeDir(dir)
  }
})

Findings('the same object rendered by two apps: an error naming both apps and files', async () => {
  const configmap = 'apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: shared-settings\n  namespace: common\ndata:\n  a: "1"\n'
  const dir = homelab('  - template: settings\n    id: one\n  - template: settings\n    id: two', { 'templates/settings/configmap.yaml': configmap })
  try {
    const result = await validate(dir)
    assert.is(result.code, 1, result.stdout)
    assert.equal(result.stdout.trim().split('\n')[0],
      'apps/two/configmap.yaml: ConfigMap/shared-settings: metadata.name: ConfigMap common/shared-settings is rendered by both app "one" (apps/one/configmap.yaml) and app "two" (apps/two/configmap.yaml): each Flux Kustomization would overwrite it, and pruning one deletes it')
    assert.match(result.stdout, /✖ 1 error in /)
  } finally {
    removeDir(dir)
  }
  // a targetNamespace puts the second copy elsewhere: no longer the same object
  const apart = homelab('  - template: settings\n    id: one\n  - template: settings\n    id: two\n    kustomization: { targetNamespace: elsewhere }', {
    'templates/settings/configmap.yaml': configmap,
  })
  try {
    const result = await validate(apart)
    assert.is(result.code, 0, result.stdout)
  } finally {
    removeDir(apart)
  }
})

const SECRET_VALUE = 'correct-horse-battery-staple'
const TOKEN_VALUE = 's3cr3t-token-value'
const SECRET = `apiVersion: v1
kind: Secret
metadata:
  name: creds
  namespace: vault
stringData:
  password: ${SECRET_VALUE}
data:
  token: ${Buffer.from(TOKEN_VALUE).toString('base64')}
`

Findings('a plaintext Secret is an error that never shows its values; allowPlaintextSecrets opts out', async () => {
  const dir = homelab('  - template: vault', { 'templates/vault/secret.yaml': SECRET })
  try {
    const text = await validate(dir)
    const json = await validate(dir, '--format', 'json')
    assert.is(text.code, 1)
    assert.equal(text.stdout.trim().split('\n').slice(0, 2), [
      'apps/vault/secret.yaml: Secret/creds: stringData: 1 value is not encrypted: encrypt the file with SOPS (a sops: block), or set allowPlaintextSecrets: true on app "vault"',
      'apps/vault/secret.yaml: Secret/creds: data: 1 value is not encrypted: encrypt the file with SOPS (a sops: block), or set allowPlaintextSecrets: true on app "vault"',
    ])
    for (const output of [text.stdout, text.stderr, json.stdout, json.stderr]) {
      for (const value of [SECRET_VALUE, TOKEN_VALUE, Buffer.from(TOKEN_VALUE).toString('base64')]) assert.not.ok(output.includes(value), 'no secret value printed')
    }
  } finally {
    removeDir(dir)
  }
  const allowed = homelab('  - template: vault\n    allowPlaintextSecrets: true', { 'templates/vault/secret.yaml': SECRET })
  try {
    const result = await validate(allowed)
    assert.is(result.code, 0, result.stdout)
    assert.not.match(result.stdout, 'Secret/creds')
  } finally {
    removeDir(allowed)
  }
})

Findings('a SOPS-encrypted Secret passes, and a broken plaintext value is reported without showing it', async () => {
  const encrypted = `apiVersion: v1
kind: Secret
metadata:
  name: creds
  namespace: vault
data:
  token: ENC[AES256_GCM,data:q2k9Yw==,iv:abc=,tag:def=,type:str]
sops:
  age:
    - recipient: age1xyz
      enc: "-----BEGIN AGE ENCRYPTED FILE-----"
  lastmodified: "2024-01-01T00:00:00Z"
  mac: ENC[AES256_GCM,data:x,iv:y,tag:z,type:str]
  version: 3.9.0
`
  const notBase64 = 'apiVersion: v1\nkind: Secret\nmetadata:\n  name: raw\n  namespace: vault\ndata:\n  token: hunter2!hunter2\n'
  const dir = homelab('  - template: vault\n    allowPlaintextSecrets: true', { 'templates/vault/secret.yaml': encrypted, 'templates/vault/raw.yaml': notBase64 })
  try {
    const result = await validate(dir)
    assert.is(result.code, 1, result.stdout)
    assert.equal(result.stdout.trim().split('\n')[0], 'apps/vault/raw.yaml: Secret/raw: data.token: must be base64-encoded data')
    assert.not.match(result.stdout, 'hunter2')
    assert.not.match(result.stdout, 'Secret/creds')
  } finally {
    removeDir(dir)
  }
})

Findings('--strict makes a kind with no schema an error', async () => {
  const gadget = 'apiVersion: example.org/v1alpha1\nkind: Gadget\nmetadata:\n  name: g\n  namespace: lab\nspec: {}\n'
  const dir = homelab('  - template: lab', { 'templates/lab/gadget.yaml': gadget })
  try {
    const lenient = await validateJson(dir)
    assert.is(lenient.code, 0)
    assert.equal(lenient.findings.map((f) => [f.severity, f.rule, f.file, f.kind, f.path]), [['warning', 'no-schema', 'apps/lab/gadget.yaml', 'Gadget', 'apiVersion']])
    const strict = await validateJson(dir, '--strict')
    assert.is(strict.code, 1)
    assert.equal(strict.findings.map((f) => f.severity), ['error'])
    const text = await validate(dir, '--strict')
    assert.match(text.stdout, 'apps/lab/gadget.yaml: Gadget/g: apiVersion: no schema for example.org/v1alpha1 Gadget: no CRD for it in crds/\n')
    assert.match(text.stdout, 'hint: put the CRDs of example.org into crds/')
  } finally {
    removeDir(dir)
  }
})

Findings('a kind its API group does not have (a misspelt Deployment) is a kind with no schema, not a crash', async () => {
  const deployment = 'apiVersion: apps/v1\nkind: Deploymnet\nmetadata:\n  name: d\n  namespace: lab\nspec: {}\n'
  const dir = homelab('  - template: lab', { 'templates/lab/deployment.yaml': deployment })
  try {
    const result = await validateJson(dir)
    assert.is(result.code, 0)
    assert.equal(result.findings.map((f) => [f.severity, f.rule, f.file, f.kind, f.path]), [['warning', 'no-schema', 'apps/lab/deployment.yaml', 'Deploymnet', 'apiVersion']])
  } finally {
    removeDir(dir)
  }
})

const Example = suite('validate: the example homelab')

Example('passes without crds/: Flux kinds are warnings, with the hint to run crds pull', async () => {
  const dir = copyExample()
  try {
    const result = await validate(dir)
    assert.is(result.code, 0, result.stdout + result.stderr)
    assert.match(result.stdout, 'apps/flux/whoami.yaml: Kustomization/whoami: apiVersion: warning: no schema for kustomize.toolkit.fluxcd.io/v1 Kustomization')
    assert.match(result.stdout, /✔ \d+ objects of 7 apps valid \(\d+ warnings\)/)
    assert.match(result.stdout, 'hint: run homelab crds pull')
  } finally {
    removeDir(dir)
  }
})

Example('passes with the Flux CRDs in crds/: no error, Flux kinds checked', async () => {
  const dir = copyExample()
  addFluxCrds(dir)
  try {
    const { code, findings } = await validateJson(dir)
    assert.is(code, 0)
    assert.equal(findings.filter((f) => f.severity === 'error'), [])
    // the one thing left unchecked: cert-manager's own kinds, whose CRD comes with its chart, not in crds/
    assert.equal([...new Set(findings.map((f) => `${f.rule} ${f.apiVersion} ${f.kind}`))], ['no-schema cert-manager.io/v1 ClusterIssuer'])
  } finally {
    removeDir(dir)
  }
})

const Input = suite('validate: input errors')

Input('an unknown --format is a usage error (exit 2)', async () => {
  const dir = homelab('  - template: web', {})
  try {
    const result = await validate(dir, '--format', 'yaml')
    assert.is(result.code, 2)
    assert.match(result.stderr, 'error: --format must be text or json, not "yaml"')
    assert.is(result.stdout, '')
  } finally {
    removeDir(dir)
  }
})

Input('a config error stops before validating (exit 1, one error line)', async () => {
  const dir = homelab('  - template: nope', {})
  try {
    const result = await validate(dir)
    assert.is(result.code, 1)
    assert.is(result.stdout, '')
    assert.match(result.stderr, /^error: homelab\.config\.yaml:\d+:\d+: /)
  } finally {
    removeDir(dir)
  }
})

Input('--format json: a YAML syntax error in the config is one input finding at its line, and the error line on stderr', async () => {
  const dir = homelab('  - template: web\n    id: one\n    id: two', {})
  try {
    assert.equal(await validateJsonInputError(dir), { severity: 'error', rule: 'input', file: 'homelab.config.yaml', line: 8, column: 5, message: 'Map keys must be unique' })
  } finally {
    removeDir(dir)
  }
})

Input('--format json: a schema error in the config is an input finding at the key, with its hint', async () => {
  const dir = homelab('  - template: web\n    replicaz: 3', {})
  try {
    const { hint, ...finding } = await validateJsonInputError(dir)
    assert.equal(finding, { severity: 'error', rule: 'input', file: 'homelab.config.yaml', line: 7, column: 5, message: 'unknown key "replicaz" in apps[0]' })
    assert.match(hint ?? '', /^allowed keys here: template, id, /)
  } finally {
    removeDir(dir)
  }
})

Input('--format json: a template error is an input finding at the template line', async () => {
  const dir = homelab('  - template: web', { 'templates/web/configmap.yaml.hbs': 'apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: {{app.nope}}\n' })
  try {
    const { hint, ...finding } = await validateJsonInputError(dir)
    assert.equal(finding, { severity: 'error', rule: 'input', file: 'templates/web/configmap.yaml.hbs', line: 4, column: 11, message: '"nope" is not defined' })
    assert.match(hint ?? '', /^every field a template uses must exist/)
  } finally {
    removeDir(dir)
  }
})

Input('a crds/ file that does not parse is an error at its line', async () => {
  const dir = homelab('  - template: web', { 'crds/broken.yaml': 'apiVersion: v1\nkind: [unclosed\n' })
  try {
    const result = await validate(dir)
    assert.is(result.code, 1)
    assert.match(result.stderr, /^error: crds\/broken\.yaml:\d+:\d+: /)
  } finally {
    removeDir(dir)
  }
})

const Bootstrap = suite('validate: bootstrap apps that homelab bootstrap refuses')

Bootstrap('a bootstrap app with targetNamespace: an error at the setting, where bootstrap stops', async () => {
  const dir = homelab(['  - template: web', '    bootstrap: true', '    kustomization:', '      targetNamespace: other'].join('\n'), {})
  try {
    const result = await validate(dir)
    assert.is(result.code, 1, result.stderr)
    assert.is(result.stderr, '')
    const expected = 'homelab.config.yaml:9:24: app "web" has bootstrap: true and sets targetNamespace: Flux would move its objects to namespace "other", while bootstrap applies them where they are rendered and leaves them behind'
    assert.is(result.stdout.split('\n')[0], expected)
    assert.match(result.stdout, /^✖ 1 error in \d+ objects of 1 app/m)
    assert.match(result.stdout, /^hint: drop targetNamespace and set the app's namespace: other instead/m)

    const { code, findings } = await validateJson<SourceFinding>(dir)
    assert.is(code, 1)
    assert.is(findings.length, 1)
    const { hint, ...finding } = findings[0] as SourceFinding
    assert.equal(finding, { severity: 'error', rule: 'bootstrap', file: 'homelab.config.yaml', line: 9, column: 24, message: expected.slice(expected.indexOf(' ') + 1) })
    assert.match(hint ?? '', /^drop targetNamespace and set the app's namespace: other instead/)

    const bootstrap = await runCli(['bootstrap', '--dry-run'], { cwd: dir })
    assert.is(bootstrap.code, 1)
    assert.match(bootstrap.stderr, `error: ${expected}\n`)
  } finally {
    removeDir(dir)
  }
})

Bootstrap('every problem of every bootstrap app is reported; the same settings on an app Flux alone applies are fine', async () => {
  const secret = 'apiVersion: v1\nkind: Secret\nmetadata:\n  name: token\n  namespace: web\nstringData:\n  token: ENC[AES256_GCM,data:abc,type:str]\nsops:\n  version: 3.9.0\n'
  const apps = (bootstrap: boolean) =>
    [
      '  - template: web',
      `    bootstrap: ${bootstrap}`,
      '    options: { greeting: "${greeting_var}" }',
      '    kustomization:',
      '      decryption: { provider: sops }',
      '      postBuild: { substitute: { greeting_var: hi } }',
    ].join('\n')
  const refused = homelab(apps(true), { 'templates/web/secret.yaml': secret })
  const fine = homelab(apps(false), { 'templates/web/secret.yaml': secret })
  try {
    const { code, findings } = await validateJson<SourceFinding>(refused)
    assert.is(code, 1)
    assert.equal(
      findings.map((f) => [f.rule, f.line, f.column, f.message.split(':')[0]]),
      [
        ['bootstrap', 10, 19, 'app "web" has bootstrap'],
        ['bootstrap', 11, 32, 'app "web" has bootstrap'],
      ],
    )
    assert.match(findings[0]?.message ?? '', 'sets decryption')
    assert.match(findings[1]?.message ?? '', 'sets postBuild substitutions')

    const ok = await validateJson(fine)
    assert.is(ok.code, 0)
    assert.equal(ok.findings.filter((f) => f.severity === 'error'), [])
  } finally {
    removeDir(refused)
    removeDir(fine)
  }
})

Bootstrap('a bootstrap app whose folder kubectl apply -f - cannot take: an error at its bootstrap: true', async () => {
  const dir = homelab(['  - template: web', '    bootstrap: true'].join('\n'), {
    'templates/web/kustomization.yaml': 'apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\nresources: [configmap.yaml]\nlabels: [{ pairs: { tier: web } }]\n',
  })
  try {
    const message = 'bootstrap app "web": its kustomization.yaml uses labels, which homelab bootstrap cannot apply without kustomize'
    const result = await validate(dir)
    assert.is(result.code, 1, result.stderr)
    assert.is(result.stdout.split('\n')[0], `homelab.config.yaml:7:16: ${message}`)
    const bootstrap = await runCli(['bootstrap', '--dry-run'], { cwd: dir })
    assert.is(bootstrap.code, 1)
    assert.match(bootstrap.stderr, `error: ${message}\n`)
  } finally {
    removeDir(dir)
  }
})

Bootstrap('a bootstrap app that depends on an app Flux alone applies: an error at its dependsOn, where bootstrap stops', async () => {
  const apps = [
    '  - template: web',
    '    bootstrap: true',
    '    dependsOn: [later, base]',
    '  - template: web',
    '    id: base',
    '    bootstrap: true',
    '  - template: web',
    '    id: later',
    '  - template: web',
    '    id: second',
    '    bootstrap: true',
    '    dependsOn: [base, later]',
  ].join('\n')
  const dir = homelab(apps, {})
  try {
    const expected = 'homelab.config.yaml:8:16: app "web" has bootstrap: true but depends on "later", which bootstrap does not apply'
    const result = await validate(dir)
    assert.is(result.code, 1, result.stderr)
    assert.is(result.stdout.split('\n')[0], expected)
    assert.match(result.stdout, /^✖ 2 errors in \d+ objects of 4 apps/m)
    assert.match(result.stdout, /^hint: set bootstrap: true on "later" too, or drop bootstrap: true from "web"$/m)

    // every app and dependency, not only the first bootstrap stops at; a bootstrap app depending on one is fine
    const { code, findings } = await validateJson<SourceFinding>(dir)
    assert.is(code, 1)
    assert.equal(
      findings.filter((f) => f.rule === 'bootstrap').map((f) => [f.severity, f.line, f.column, f.message]),
      [
        ['error', 8, 16, 'app "web" has bootstrap: true but depends on "later", which bootstrap does not apply'],
        ['error', 17, 16, 'app "second" has bootstrap: true but depends on "later", which bootstrap does not apply'],
      ],
    )

    const bootstrap = await runCli(['bootstrap', '--dry-run'], { cwd: dir })
    assert.is(bootstrap.code, 1)
    assert.match(bootstrap.stderr, `error: ${expected}\n`)
  } finally {
    removeDir(dir)
  }
})

/** A homelab with one app and the given `flux:` lines (indented by two). */
function fluxHomelab(flux: string[]): string {
  const config = ['cluster:', '  name: test', 'flux:', ...flux.map((line) => `  ${line}`), 'apps:', '  - template: web', ''].join('\n')
  const dir = minimalHomelab(config)
  addFluxCrds(dir)
  return dir
}

Bootstrap('a flux section flux bootstrap cannot be planned from: a warning at the setting, where bootstrap stops', async () => {
  const unknownHost = fluxHomelab(['repository: https://git.example.com/alice/manifests.git'])
  const withProvider = fluxHomelab(['repository: https://git.example.com/alice/manifests.git', 'provider: gitea'])
  const localPath = fluxHomelab(['repository: ../manifests'])
  try {
    const expected = 'homelab.config.yaml:4:15: cannot tell the Git provider of git.example.com from flux.repository'
    const result = await validate(unknownHost)
    // render and publish need no provider: validate passes
    assert.is(result.code, 0, result.stdout + result.stderr)
    assert.is(result.stdout.split('\n')[0], 'homelab.config.yaml:4:15: warning: homelab bootstrap cannot run flux bootstrap: cannot tell the Git provider of git.example.com from flux.repository')
    assert.match(result.stdout, /^✔ \d+ objects of 1 app valid \(1 warning\)/m)
    assert.match(result.stdout, /^hint: set flux\.provider to github, gitlab, gitea, bitbucket-server or git/m)
    const { code, findings } = await validateJson<SourceFinding>(unknownHost)
    assert.is(code, 0)
    assert.equal(findings.filter((f) => f.rule === 'bootstrap').map((f) => [f.severity, f.file, f.line, f.column]), [['warning', 'homelab.config.yaml', 4, 15]])

    const bootstrap = await runCli(['bootstrap', '--dry-run'], { cwd: unknownHost })
    assert.is(bootstrap.code, 1)
    assert.match(bootstrap.stderr, `error: ${expected}\n`)

    // the provider set: bootstrap can plan it, validate has nothing to say
    assert.equal((await validateJson<Finding>(withProvider)).findings.filter((f) => f.rule === 'bootstrap'), [])
    assert.is((await runCli(['bootstrap', '--dry-run'], { cwd: withProvider })).code, 0)

    // publish takes a local path; bootstrap cannot
    const local = await validateJson<SourceFinding>(localPath)
    assert.is(local.code, 0)
    assert.equal(
      local.findings.filter((f) => f.rule === 'bootstrap').map((f) => [f.severity, f.line, f.message]),
      [['warning', 4, 'homelab bootstrap cannot run flux bootstrap: flux.repository "../manifests" is not a URL']],
    )
  } finally {
    removeDir(unknownHost)
    removeDir(withProvider)
    removeDir(localPath)
  }
})

Bootstrap('a password in flux.repository: an error, never shown', async () => {
  const password = 'hunter2-in-the-config'
  const dir = fluxHomelab([`repository: https://alice:${password}@git.example.com/alice/manifests.git`, 'provider: git'])
  try {
    const result = await validate(dir)
    assert.is(result.code, 1, result.stdout + result.stderr)
    assert.match(result.stdout.split('\n')[0] ?? '', /^homelab\.config\.yaml:4:15: homelab bootstrap cannot run flux bootstrap: flux\.repository .* contains a password$/)
    assert.not.match(result.stdout + result.stderr, password)
    const { findings } = await validateJson<SourceFinding>(dir)
    assert.equal(findings.filter((f) => f.rule === 'bootstrap').map((f) => [f.severity, f.line]), [['error', 4]])
    assert.not.match(JSON.stringify(findings), password)
  } finally {
    removeDir(dir)
  }
})

const Schema = suite('validate: CRD schema translation')

Schema('Kubernetes extensions become JSON Schema that strict ajv accepts', () => {
  const formats = new Set<string>()
  const schema = toJsonSchema(
    {
      type: 'object',
      description: 'dropped',
      required: ['a', 'b'],
      properties: {
        a: { type: 'string', nullable: true, enum: ['x'] },
        b: { type: 'integer', default: 3, format: 'int32', minimum: 0, exclusiveMinimum: true },
        c: { 'x-kubernetes-int-or-string': true, anyOf: [{ type: 'integer' }, { type: 'string' }] },
        d: { type: 'object', 'x-kubernetes-preserve-unknown-fields': true, properties: { e: { type: 'string' } } },
        f: { type: 'object', 'x-kubernetes-embedded-resource': true, 'x-kubernetes-preserve-unknown-fields': true },
        g: { type: 'array', 'x-kubernetes-list-type': 'map', 'x-kubernetes-list-map-keys': ['name'], items: { type: 'object', properties: { name: { type: 'string' } } } },
      },
      'x-kubernetes-validations': [{ rule: 'true' }],
    },
    formats,
  )
  assert.equal(schema, {
    type: 'object',
    properties: {
      a: { type: ['string', 'null'], enum: ['x', null] },
      b: { type: 'integer', format: 'int32', exclusiveMinimum: 0 },
      c: { anyOf: [{ type: 'integer' }, { type: 'string' }], type: ['integer', 'string'] },
      d: { type: 'object', properties: { e: { type: 'string' } } },
      f: { type: 'object', properties: { apiVersion: { type: 'string' }, kind: { type: 'string' }, metadata: { type: 'object' } } },
      g: { type: 'array', items: { type: 'object', properties: { name: { type: 'string' } }, additionalProperties: false } },
    },
    required: ['a'],
    additionalProperties: false,
  })
  assert.equal([...formats], ['int32'])
})

Findings.run()
Example.run()
Input.run()
Bootstrap.run()
Schema.run()
