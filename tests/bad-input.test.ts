import { existsSync, mkdirSync, writeFileSync } from 'node:fs'
import path from 'node:path'
import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import { minimalConfig, minimalHomelab, readTree, removeDir, runCli } from './helpers/cli.ts'

/**
 * Every kind of bad input: exit 1, one `error: <file>:<line>…` line, no stack
 * trace, and an output folder left byte for byte as it was.
 */
const BadInput = suite('bad input')

interface Case {
  name: string
  config?: string
  extra?: Record<string, string>
  /** The location the error must name: `file:line` or `file:line:col`. */
  at: string
  /** Words the message must contain. */
  says: RegExp
  remove?: string[]
}

const web = (more = '') => `  - template: web\n${more}`

const cases: Case[] = [
  // yaml gives up on these lines later (the end of the file, a line not indented enough): they are reported where they open
  { name: 'a [ never closed', config: minimalConfig(web('    dependsOn: [a\n')), at: 'homelab.config.yaml:7:16', says: /this \[ is never closed with \]/ },
  { name: 'a { never closed', config: minimalConfig(web('    options: { greeting: hi\n') + web('    id: b\n')), at: 'homelab.config.yaml:7:14', says: /this \{ is never closed with \}/ },
  { name: 'a quoted string never closed', config: minimalConfig(web('    namespace: "web\n') + web('    id: b\n')), at: 'homelab.config.yaml:7:16', says: /this "-quoted string is never closed: add the closing "/ },
  // an explicit key with no value (? x) is a null node in the document yaml hands back
  { name: 'a quoted string never closed after an empty value', config: minimalConfig(web("    ? x\n    id: \"web\n")), at: "homelab.config.yaml:8:9", says: /this "-quoted string is never closed/ },
  {
    name: 'a quoted string never closed in a template file',
    extra: { 'templates/web/template.yaml': "description: 'a tiny test app\nnamespace: web\n" },
    at: 'templates/web/template.yaml:1:14',
    says: /this '-quoted string is never closed/,
  },
  { name: 'tab indentation', config: 'cluster:\n\tname: test\nflux:\n  repository: x\napps: []\n', at: 'homelab.config.yaml:2', says: /tab/i },
  { name: 'unknown key', config: minimalConfig(web('    dependson: [x]\n')), at: 'homelab.config.yaml:7:5', says: /unknown key "dependson".*did you mean "dependsOn"/ },
  { name: 'unknown top-level key', config: minimalConfig(web()) + 'valuez: {}\n', at: 'homelab.config.yaml:8:1', says: /unknown key "valuez".*did you mean "values"/ },
  // ajv reports the required key as missing before the misspelt one as unknown: the misspelling is named
  { name: 'misspelt required key', config: minimalConfig('  - tempalte: web\n'), at: 'homelab.config.yaml:6:5', says: /unknown key "tempalte" in apps\[0\] \(did you mean "template"\?\)/ },
  { name: 'misspelt required top-level key', config: minimalConfig(web()).replace('cluster:', 'clustr:'), at: 'homelab.config.yaml:1:1', says: /unknown key "clustr" in the top level \(did you mean "cluster"\?\)/ },
  { name: 'unknown template', config: minimalConfig('  - template: wbe\n'), at: 'homelab.config.yaml:6:15', says: /unknown template "wbe" \(did you mean "web"\?\)/ },
  { name: 'duplicate id', config: minimalConfig(web() + web()), at: 'homelab.config.yaml:7:15', says: /duplicate app id "web"/ },
  { name: 'id escaping the output folder', config: minimalConfig(web('    id: ../../x\n')), at: 'homelab.config.yaml:7:9', says: /DNS-1123/ },
  { name: 'uppercase id', config: minimalConfig(web('    id: Web\n')), at: 'homelab.config.yaml:7:9', says: /"Web" is not a DNS-1123 label/ },
  ...[
    ['apps', /is inside apps\/, which homelab renders alone/],
    ['./apps/flux', /is inside apps\//],
    ['.', /is the root of the manifest repository/],
    ['./', /is the root of the manifest repository/],
    ['/etc/flux', /is absolute/],
    ['../other', /leaves the manifest repository/],
  ].map(([folder, says]) => ({
    name: `flux.path ${String(folder)}`,
    config: minimalConfig(web()).replace('flux:\n', `flux:\n  path: ${String(folder)}\n`),
    at: 'homelab.config.yaml:4:9',
    says: says as RegExp,
  })),
  { name: 'reserved id', config: minimalConfig(web('    id: flux\n')), at: 'homelab.config.yaml:7:9', says: /app id "flux" is reserved/ },
  { name: 'unknown dependency', config: minimalConfig(web('    dependsOn: [wbe]\n')), at: 'homelab.config.yaml:7:17', says: /unknown app "wbe" \(did you mean "web"\?\)/ },
  {
    name: 'dependency cycle',
    config: minimalConfig(web('    id: a\n    dependsOn: [b]\n') + web('    id: b\n    dependsOn: [c]\n') + web('    id: c\n    dependsOn: [a]\n')),
    at: 'homelab.config.yaml:8:17',
    says: /dependency cycle: a -> b -> c -> a/,
  },
  {
    name: 'dependency on a disabled app',
    config: minimalConfig(web('    id: a\n    enabled: false\n') + web('    id: b\n    dependsOn: [a]\n')),
    at: 'homelab.config.yaml:11:17',
    says: /depends on "a", which is disabled/,
  },
  { name: 'options failing the template schema', config: minimalConfig(web('    options: { replicas: many }\n')), at: 'homelab.config.yaml:7:26', says: /apps\[0\]\.options\.replicas must be an integer/ },
  {
    name: 'an option failing a pattern: the pattern and the value',
    config: minimalConfig(web('    options: { image: Nginx }\n')),
    extra: {
      'templates/web/template.yaml': "options:\n  type: object\n  additionalProperties: false\n  properties:\n    image: { type: string, pattern: '^[a-z0-9./:-]+$', default: nginx }\n",
    },
    at: 'homelab.config.yaml:7:23: ',
    says: /apps\[0\]\.options\.image must match the pattern \^\[a-z0-9\.\/:-\]\+\$, not "Nginx"$/,
  },
  {
    name: 'a config value failing a pattern: the pattern and the value',
    config: minimalConfig(web()).replace('flux:\n', 'flux:\n  branch: my branch\n'),
    at: 'homelab.config.yaml:4:11: ',
    says: /flux\.branch must match the pattern \^\[\^\\s~\^:\?\*\\\[\\\\\]\+\$, not "my branch"$/,
  },
  {
    name: 'a value not among the allowed ones: all of them, quoted',
    config: minimalConfig(web()).replace('flux:\n', 'flux:\n  provider: gitub\n'),
    at: 'homelab.config.yaml:4:13: ',
    says: /flux\.provider must be one of "github", "gitlab", "gitea", "bitbucket-server", "git", not "gitub" \(did you mean "github"\?\)$/,
  },
  {
    name: 'a dependency listed twice: at the second',
    config: minimalConfig(web('    id: a\n') + web('    id: b\n    dependsOn: [a, a]\n')),
    at: 'homelab.config.yaml:10:20: ',
    says: /apps\[1\]\.dependsOn lists "a" twice \(items 0 and 1\): each may appear once$/,
  },
  { name: 'unknown option', config: minimalConfig(web('    options: { greting: hi }\n')), at: 'homelab.config.yaml:7:16', says: /unknown key "greting".*did you mean "greeting"/ },
  {
    name: "a template default that fails the template's own options schema",
    config: minimalConfig(web()),
    extra: {
      'templates/web/template.yaml': 'options:\n  type: object\n  additionalProperties: false\n  properties:\n    greeting: { type: string, default: hello }\n    replicas: { type: integer, minimum: 0, default: -1 }\n',
    },
    at: 'templates/web/template.yaml:6:',
    says: /the default of option "replicas" does not pass the template's own options schema: replicas must be at least 0, not -1$/,
  },
  {
    name: 'options for a template that declares none',
    config: minimalConfig('  - template: plain\n    options: { a: 1 }\n'),
    extra: { 'templates/plain/cm.yaml.hbs': 'apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: plain\n' },
    at: 'homelab.config.yaml:7:5',
    says: /template "plain" takes no options/,
  },
  {
    name: 'second instance of a singleton',
    config: minimalConfig('  - template: one\n  - template: one\n    id: two\n'),
    extra: { 'templates/one/template.yaml': 'singleton: true\n', 'templates/one/cm.yaml.hbs': 'apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: {{app.id}}\n' },
    at: 'homelab.config.yaml:7:15',
    says: /singleton/,
  },
  { name: '__proto__ key', config: minimalConfig(web('    options:\n      __proto__: { polluted: true }\n')), at: 'homelab.config.yaml:8:7', says: /"__proto__" is not allowed/ },
  {
    name: 'alias bomb',
    config:
      'cluster: { name: test }\nflux: { repository: x }\nvalues:\n  a: &a [x, x, x, x, x, x, x, x, x, x]\n  b: &b [*a, *a, *a, *a, *a, *a, *a, *a, *a, *a]\n  c: &c [*b, *b, *b, *b, *b, *b, *b, *b, *b, *b]\n  d: &d [*c, *c, *c, *c, *c, *c, *c, *c, *c, *c]\n  e: [*d, *d, *d, *d, *d, *d, *d, *d, *d, *d]\napps: []\n',
    at: 'homelab.config.yaml:',
    says: /alias/i,
  },
  {
    name: 'an alias with no anchor',
    config: minimalConfig(web('    id: a\n  - template: web\n    id: b\n    dependsOn: [*first, *nothing]\n').replace('  - template: web\n    id: a', '  - &first template: web\n    id: a')),
    at: 'homelab.config.yaml:10:25',
    says: /unknown alias \*nothing: no anchor &nothing before it/,
  },
  { name: 'empty config', config: '', at: 'homelab.config.yaml:1:1', says: /the config is empty/ },
  { name: 'missing config file', at: 'homelab.config.yaml: ', says: /config file not found/, remove: ['homelab.config.yaml'] },
  {
    name: 'missing field in a template',
    config: minimalConfig(web()),
    extra: { 'templates/web/extra.yaml.hbs': 'apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: x\ndata:\n  a: {{quote options.nope}}\n' },
    at: 'templates/web/extra.yaml.hbs:6:',
    says: /quote was given a value that is not defined/,
  },
  {
    name: 'a template file beside its .hbs twin',
    config: minimalConfig(web()),
    extra: { 'templates/web/configmap.yaml': 'apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: plain\n' },
    at: 'templates/web/configmap.yaml.hbs: ',
    says: /configmap\.yaml and configmap\.yaml\.hbs both become configmap\.yaml in the app's folder/,
  },
  {
    name: 'two kustomization files in a template',
    config: minimalConfig(web()),
    extra: { 'templates/web/kustomization.yaml': 'resources: [configmap.yaml]\n', 'templates/web/kustomization.yml': 'resources: [configmap.yaml]\n' },
    at: 'templates/web/kustomization.yml: ',
    says: /kustomization\.yaml and kustomization\.yml are both a kustomization file/,
  },
  {
    name: 'broken YAML below a partial that adds lines: the template line, not the rendered one',
    config: minimalConfig(web()),
    extra: {
      'templates/_partials/three.hbs': '    a: "1"\n    b: "2"\n    c: "3"\n',
      'templates/web/extra.yaml.hbs': 'apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: x\n  labels:\n{{> three}}\ndata:\n  broken: a: b\n',
    },
    at: 'templates/web/extra.yaml.hbs:8:',
    says: /mapping/i,
  },
  {
    name: 'unknown helper',
    config: minimalConfig(web()),
    extra: { 'templates/web/extra.yaml.hbs': 'apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: {{quoted app.id}}\n' },
    at: 'templates/web/extra.yaml.hbs:4',
    says: /unknown helper "quoted"/,
  },
  {
    name: 'template that renders invalid YAML',
    config: minimalConfig(web()),
    extra: { 'templates/web/extra.yaml.hbs': 'apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: x\ndata:\n  a: b\n   c: d\n' },
    at: 'templates/web/extra.yaml.hbs:',
    says: /app "web"/,
  },
  {
    name: 'document without kind',
    config: minimalConfig(web()),
    extra: { 'templates/web/extra.yaml.hbs': 'apiVersion: v1\nmetadata:\n  name: x\n---\napiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: y\n' },
    at: 'templates/web/extra.yaml.hbs:1:1',
    says: /without kind/,
  },
  {
    name: 'mapping entry without a key (the yaml library takes it, kubectl does not)',
    config: minimalConfig(web()),
    extra: { 'templates/web/extra.yaml.hbs': 'apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: x\ndata:\n  a: b\n: c\n' },
    at: 'templates/web/extra.yaml.hbs:7:1',
    says: /a mapping entry without a key/,
  },
  {
    name: 'raw line separator in a template (a line break to kubectl, not to the yaml library)',
    config: minimalConfig(web()),
    extra: { 'templates/web/extra.yaml.hbs': 'apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: x\ndata:\n  a: b\u2028c\n' },
    at: 'templates/web/extra.yaml.hbs:6:7',
    says: /a raw U\+2028, a line break to kubectl and Flux but not to YAML 1\.2/,
  },
  {
    name: 'a field kubectl kustomize walks for names holds a string (annotations whose entry lost its space)',
    config: minimalConfig(web()),
    extra: { 'templates/web/extra.yaml.hbs': 'apiVersion: networking.k8s.io/v1\nkind: Ingress\nmetadata:\n  name: x\n  annotations:\n    cert-manager.io/cluster-issuer:letsencrypt\n' },
    at: 'templates/web/extra.yaml.hbs:6:5',
    says: /metadata\.annotations is a string, where kubectl kustomize expects a mapping or a list \(Ingress "x", app "web"\)/,
  },
  {
    name: 'template syntax error: a block never closed',
    config: minimalConfig(web()),
    extra: { 'templates/web/extra.yaml.hbs': 'apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: {{#if app.id}}x\n' },
    at: 'templates/web/extra.yaml.hbs:4:9',
    says: /\{\{#if\}\} is not closed: add \{\{\/if\}\} where its block ends/,
  },
  {
    name: 'template syntax error: a tag not closed',
    config: minimalConfig(web()),
    extra: { 'templates/web/extra.yaml.hbs': 'apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: {{app.id}\n' },
    at: 'templates/web/extra.yaml.hbs:4:17: ',
    says: /template syntax error: expected \}\} to end the \{\{…\}\}, got "\}"$/,
  },
  {
    name: 'template syntax error: a key= with no value, at its column',
    config: minimalConfig(web()),
    extra: { 'templates/web/extra.yaml.hbs': 'apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: {{default app.id fallback=}}\n' },
    at: 'templates/web/extra.yaml.hbs:4:35: ',
    says: /template syntax error: fallback= has no value: write fallback=value$/,
  },
  {
    name: 'an {{#each}} with nothing to walk over: at compile time, at the block',
    config: minimalConfig(web()),
    extra: { 'templates/web/extra.yaml.hbs': 'apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: x\ndata:\n  {{#each}}\n  a: b\n  {{/each}}\n' },
    at: 'templates/web/extra.yaml.hbs:6:3: ',
    says: /\{\{#each\}\} takes one value, as \{\{#each list\}\}…\{\{\/each\}\}, and was given 0/,
  },
  {
    name: 'missing field in a partial: at the partial, saying where it is included',
    config: minimalConfig(web()),
    extra: {
      'templates/_partials/labels.hbs': 'app: web\ntier: {{options.tier}}\n',
      'templates/web/extra.yaml.hbs': 'apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: x\n  labels:\n    {{> labels}}\n',
    },
    at: 'templates/_partials/labels.hbs:2:9: ',
    says: /"tier" is not defined \(included from templates\/web\/extra\.yaml\.hbs:6:5\)$/,
  },
  {
    name: 'syntax error in a partial no template uses: at the partial',
    config: minimalConfig(web()),
    extra: { 'templates/_partials/broken.hbs': 'app: web\ntier: {{#if options.tier}}x\n' },
    at: 'templates/_partials/broken.hbs:2:7: ',
    says: /\{\{#if\}\} is not closed: add \{\{\/if\}\} where its block ends/,
  },
  {
    name: 'broken YAML a partial rendered: at the partial line, not a template line',
    config: minimalConfig(web()),
    extra: {
      'templates/_partials/labels.hbs': 'app: web\ntier: a: b\n',
      'templates/web/extra.yaml.hbs': 'apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: x\n  labels:\n    {{> labels}}\n',
    },
    at: 'templates/_partials/labels.hbs:2:',
    says: /\(included from templates\/web\/extra\.yaml\.hbs:6:5\)$/,
  },
]

/** A previous good render, to prove a failed one leaves it untouched. */
const previousRender = {
  'out/apps/web/configmap.yaml': 'previous\n',
  'out/apps/web/kustomization.yaml': 'previous\n',
  'out/apps/flux/web.yaml': 'previous\n',
  'out/README.md': 'not ours\n',
}

for (const c of cases) {
  BadInput(c.name, async () => {
    const dir = minimalHomelab(c.config ?? minimalConfig(web()), c.extra)
    try {
      for (const [file, content] of Object.entries(previousRender)) {
        mkdirSync(path.dirname(path.join(dir, file)), { recursive: true })
        writeFileSync(path.join(dir, file), content)
      }
      for (const file of c.remove ?? []) removeDir(path.join(dir, file))
      const before = readTree(path.join(dir, 'out'))
      const result = await runCli(['render', '--out', 'out'], { cwd: dir })
      assert.is(result.code, 1, `exit code (stderr: ${result.stderr})`)
      const lines = result.stderr.trimEnd().split('\n')
      assert.ok(lines.length <= 2, `one error line and at most a hint:\n${result.stderr}`)
      assert.ok(lines[0]?.startsWith(`error: ${c.at}`), `location ${c.at} in:\n${result.stderr}`)
      assert.match(lines[0] ?? '', c.says)
      assert.not.match(result.stderr, /\n\s+at .*\(.*:\d+:\d+\)/, 'no stack trace')
      assert.is(result.stdout, '')
      assert.equal(readTree(path.join(dir, 'out')), before, 'output folder unchanged')
      assert.ok(!existsSync(path.join(dir, 'manifests')))
    } finally {
      removeDir(dir)
    }
  })
}

BadInput.run()
