import { readFileSync, writeFileSync } from 'node:fs'
import path from 'node:path'
import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import { Document, parse, parseAllDocuments } from 'yaml'
import { HomelabError, renderHomelab } from '../src/index.ts'
import type { FileContent } from '../src/index.ts'
import { MAX_NESTING } from '../src/yaml-source.ts'
import { removeDir, runCli, tempDir, writeFiles } from './helpers/cli.ts'
import { checkPrototype } from './helpers/fuzz-worker.ts'
import { kustomizeBuild } from './helpers/tools.ts'

/**
 * Issue 7, hostile and huge input: values that try to inject YAML, prototype
 * pollution through config keys, a 10 MB value, 20,000 apps, deep nesting.
 * Each either works exactly or stops with one clear HomelabError, in bounded
 * time and memory.
 */

/** A template that passes one value through every helper a template uses for values. */
const WEB_TEMPLATE = {
  'templates/web/template.yaml': [
    'options:',
    '  type: object',
    '  additionalProperties: false',
    '  properties:',
    '    text: { type: string, default: "" }',
    '    env: { type: object, additionalProperties: { type: string }, default: {} }',
    '    tree: { type: object, default: {} }',
    '',
  ].join('\n'),
  'templates/web/configmap.yaml.hbs': [
    'apiVersion: v1',
    'kind: ConfigMap',
    'metadata:',
    '  name: {{quote app.id}}',
    '  annotations:',
    '    quoted: {{quote options.text}}',
    '    json: {{json options.text}}',
    '    value: {{quote (lookup values.text app.id)}}',
    'data:',
    '  {{#each options.env}}',
    '  ? {{quote @key}}',
    '  : {{quote this}}',
    '  {{/each}}',
    '---',
    'apiVersion: v1',
    'kind: ConfigMap',
    'metadata:',
    '  name: "{{app.id}}-yaml"',
    'data: {{nindent 2 (toYaml options.env)}}',
    '---',
    'apiVersion: example.com/v1',
    'kind: Tree',
    'metadata:',
    '  name: {{quote app.id}}',
    'spec: {{nindent 2 (toYaml options.tree)}}',
    '',
  ].join('\n'),
}

const BASE = { cluster: { name: 'test' }, flux: { repository: 'https://example.com/manifests.git' } }
/** values.text.<id> is what the template's `value` annotation shows. */
const VALUES = { text: { web: 'x' } }

/** Config text from data; yaml quotes every value as it needs. */
function configYaml(data: unknown): string {
  return String(new Document(data))
}

function text(content: FileContent | undefined): string {
  return typeof content === 'string' ? content : Buffer.from(content ?? new Uint8Array()).toString('utf8')
}

/** Every object of a YAML stream, read as YAML 1.2 and as Kubernetes' YAML 1.1. */
function readAs(version: '1.1' | '1.2', yaml: string): Array<Record<string, any>> {
  return parseAllDocuments(yaml, { version }).map((doc) => {
    assert.equal(doc.errors, [], `parses as YAML ${version}`)
    return doc.toJS() as Record<string, any>
  })
}

/** Strings that try to end a scalar, add keys or documents, or change a value's type. */
const INJECTIONS: string[] = [
  'x\nkind: Secret', 'x\n---\napiVersion: v1\nkind: Secret\nmetadata:\n  name: pwned', '"\nkind: Secret\n"', "'\nkind: Secret", 'a: b', '- a',
  '# not a comment', 'x #y', '&a', '*a', '!!binary aGk=', '!!python/object/apply:os.system ["x"]', '{{app.id}}', '{{{values.text}}}',
  'no', 'yes', 'on', 'off', 'y', 'n', 'NO', '0755', '0o755', '1:30', '1e3', '0x1F', '.inf', '-.Inf', '.nan', 'null', '~', 'true', '',
  ' ', ' leading', 'trailing ', 'tab\there', 'cr\rhere', 'crlf\r\n', 'nul\u0000', '\u001b[31mred\u001b[0m', '\u2028', '\u2029',
  '\ufeff', '🏠🚀', 'é', '\\', 'C:\\path', '%TAG ! tag:x', '... ', '--- ', '<<: *a', '? complex', '| block', '> folded', '@at',
  '`tick`', 'x'.repeat(5000), '[a, b]', '{a: b}', '"quoted"', "'single'", '${VAR}', '../../etc/passwd',
]

const Injection = suite('hostile input: values that try to inject YAML keys or documents')

/** The value as a key: kustomize takes keys up to 1024 characters (longer ones: see the test below). */
const keyOf = (value: string) => value.slice(0, 1000)

Injection('every injection comes out as the literal string, read by the yaml library (1.2 and 1.1) and by kubectl', async () => {
  const dir = tempDir('homelab-inject-')
  try {
    const apps = INJECTIONS.map((value, i) => ({
      template: 'web',
      id: `v-${i}`,
      options: { text: value, env: { [keyOf(value)]: value, k: value }, tree: { list: [value, { [keyOf(value)]: value }] } },
      kustomization: { postBuild: { substitute: { VAR: value } }, healthChecks: [{ kind: value, name: value }] },
    }))
    const config = { ...BASE, values: { text: Object.fromEntries(INJECTIONS.map((value, i) => [`v-${i}`, value])) }, apps }
    const configText = configYaml(config)
    assert.equal(parse(configText), config, 'the config reads back as written')
    writeFiles(dir, { ...WEB_TEMPLATE, 'homelab.config.yaml': configText })
    const { plan } = await renderHomelab(path.join(dir, 'homelab.config.yaml'))

    const expectApp = (objects: Array<Record<string, any>>, value: string, where: string) => {
      assert.is(objects.length, 3, `${where}: three objects, none injected`)
      const [first, second, tree] = objects as [Record<string, any>, Record<string, any>, Record<string, any>]
      assert.equal(first.metadata.annotations, { quoted: value, json: value, value }, `${where}: annotations`)
      assert.equal(first.data, { [keyOf(value)]: value, k: value }, `${where}: data from #each`)
      assert.equal(second.data, { [keyOf(value)]: value, k: value }, `${where}: data from toYaml`)
      assert.equal(tree.spec, { list: [value, { [keyOf(value)]: value }] }, `${where}: nested data from toYaml`)
    }
    for (const [i, value] of INJECTIONS.entries()) {
      const rendered = text(plan.get(`apps/v-${i}/configmap.yaml`))
      for (const version of ['1.2', '1.1'] as const) {
        expectApp(readAs(version, rendered), value, `v-${i} ${JSON.stringify(value.slice(0, 30))} as YAML ${version}`)
        const [flux] = readAs(version, text(plan.get(`apps/flux/v-${i}.yaml`)))
        assert.is(flux?.spec.postBuild.substitute.VAR, value, `v-${i}: postBuild.substitute`)
        assert.equal(flux?.spec.healthChecks, [{ kind: value, name: value }], `v-${i}: healthChecks`)
      }
    }

    // what Kubernetes tooling reads: kubectl kustomize of every app folder and of the app of apps
    const { writePlan } = await import('../src/write-plan.ts')
    const out = path.join(dir, 'out')
    await writePlan(out, plan)
    for (const [i, value] of INJECTIONS.entries()) {
      const built = await kustomizeBuild(path.join(out, 'apps', `v-${i}`))
      assert.ok(built.ok, `kubectl kustomize apps/v-${i}: ${built.stderr}`)
      const objects = readAs('1.2', built.stdout)
      const byName = (name: string) => objects.find((o) => o.metadata.name === name) as Record<string, any>
      expectApp([byName(`v-${i}`), byName(`v-${i}-yaml`), objects.find((o) => o.kind === 'Tree') as Record<string, any>], value, `kubectl: v-${i}`)
    }
    const fluxBuilt = await kustomizeBuild(path.join(out, 'apps', 'flux'))
    assert.ok(fluxBuilt.ok, fluxBuilt.stderr)
    const fluxObjects = readAs('1.2', fluxBuilt.stdout)
    for (const [i, value] of INJECTIONS.entries()) {
      assert.is(fluxObjects.find((o) => o.metadata.name === `v-${i}`)?.spec.postBuild.substitute.VAR, value, `kubectl: flux v-${i}`)
    }
  } finally {
    removeDir(dir)
  }
})

Injection('characters kubectl kustomize cannot write back (DEL, C1 controls, NEL, U+FFFE) stop the render with a clear error', async () => {
  for (const value of ['a\u007fb', 'a\u0080b', 'a\u0085b', 'a\u009bb', 'a\ufffeb']) {
    const dir = tempDir('homelab-inject-')
    try {
      writeFiles(dir, { ...WEB_TEMPLATE, 'homelab.config.yaml': configYaml({ ...BASE, values: VALUES, apps: [{ template: 'web', options: { text: value } }] }) })
      const error = await renderHomelab(path.join(dir, 'homelab.config.yaml')).then(
        () => undefined,
        (e: unknown) => e,
      )
      assert.instance(error, HomelabError, JSON.stringify(value))
      const line = (error as HomelabError).oneLine
      assert.match(line, /configmap\.yaml\.hbs:\d+:\d+: a value with the character U\+[0-9A-F]{4}, which kubectl kustomize and Flux cannot handle/, line)
    } finally {
      removeDir(dir)
    }
  }
})

Injection('keys kubectl kustomize mangles ("<<", a merge key to it; over 1024 characters) are clear errors; "<<" as a value is fine', async () => {
  const cases = [
    [{ env: { '<<': 'x' } }, /the key "<<" is a merge key to kubectl kustomize and Flux/],
    [{ tree: { '<<': 'x' } }, /the key "<<" is a merge key to kubectl kustomize and Flux/],
    [{ env: { ['k'.repeat(1025)]: 'x' } }, /a key of 1025 characters: kubectl kustomize and Flux cannot handle keys over 1024/],
    [{ tree: { a: { ['k'.repeat(5000)]: 'x' } } }, /a key of 5000 characters/],
    [{ text: '<<', env: { k: '<<', ['k'.repeat(1024)]: 'x' } }, undefined],
  ] as const
  for (const [options, expected] of cases) {
    const dir = tempDir('homelab-inject-')
    try {
      writeFiles(dir, { ...WEB_TEMPLATE, 'homelab.config.yaml': configYaml({ ...BASE, values: VALUES, apps: [{ template: 'web', options }] }) })
      const error = await renderHomelab(path.join(dir, 'homelab.config.yaml')).then(
        () => undefined,
        (e: unknown) => e,
      )
      if (!expected) assert.is(error, undefined, String(error))
      // at the template line of the key ({{#each}}), or, rendered by toYaml, no template line: then the rendered line is quoted
      else assert.match((error as HomelabError).oneLine, new RegExp(`configmap\\.yaml\\.hbs(:\\d+:\\d+: ${expected.source}|: ${expected.source}.*; it is on line \\d+ of what the template rendered: )`))
    } finally {
      removeDir(dir)
    }
  }
})

const Pollution = suite('hostile input: prototype pollution through keys')

const PROTOTYPE_KEYS = ['__proto__', 'constructor', 'prototype'] as const

/** What each key is set to: what would pollute Object.prototype if merged naively. */
function poison(key: (typeof PROTOTYPE_KEYS)[number]): unknown {
  return key === 'constructor' ? { prototype: { polluted: 'PWNED' } } : { polluted: 'PWNED' }
}

/** Every path to a mapping inside `data`. */
function mappingPaths(data: unknown, at: Array<string | number> = []): Array<Array<string | number>> {
  if (data === null || typeof data !== 'object') return []
  const own = Array.isArray(data) ? [] : [at]
  const children = Array.isArray(data) ? data.map((v, i) => [i, v] as const) : Object.entries(data)
  return [...own, ...children.flatMap(([key, value]) => mappingPaths(value, [...at, key]))]
}

/** YAML text of `data` with `key: poison(key)` added to the mapping at `where` (set through the yaml AST: a JS object literal cannot hold __proto__ as a key). */
function poisoned(data: unknown, where: Array<string | number>, key: (typeof PROTOTYPE_KEYS)[number]): string {
  const doc = new Document(data)
  doc.setIn([...where, key], doc.createNode(poison(key)))
  return String(doc)
}

/** No object reachable from `value` has a prototype other than Object's or Array's. */
function assertPlainPrototypes(value: unknown, where: string, seen = new Set<unknown>()): void {
  if (value === null || typeof value !== 'object' || seen.has(value) || value instanceof Map || ArrayBuffer.isView(value)) return
  seen.add(value)
  const proto = Object.getPrototypeOf(value)
  assert.ok(proto === Object.prototype || proto === Array.prototype || proto === null, `${where}: an object with a foreign prototype`)
  for (const child of Object.values(value)) assertPlainPrototypes(child, where, seen)
}

/**
 * Render; the outcome must be a HomelabError, or a render in which the key
 * stayed plain data: Object.prototype untouched, no object of the resolved
 * config with a prototype of the user's choosing.
 */
async function rejectedOrHarmless(dir: string, label: string): Promise<'rejected' | 'harmless'> {
  let outcome: 'rejected' | 'harmless'
  try {
    const result = await renderHomelab(path.join(dir, 'homelab.config.yaml'))
    assertPlainPrototypes(result.config, `${label}: the resolved config`)
    outcome = 'harmless'
  } catch (error) {
    if (!(error instanceof HomelabError)) throw new Error(`${label}: not a HomelabError: ${String(error)}`)
    outcome = 'rejected'
  }
  assert.equal(checkPrototype(), [], `${label}: Object.prototype untouched`)
  assert.is(({} as Record<string, unknown>).polluted, undefined, `${label}: ({}).polluted`)
  return outcome
}

const FULL_CONFIG = {
  ...BASE,
  flux: { ...BASE.flux, kustomization: { interval: '10m', postBuild: { substitute: { A: 'b' } }, decryption: { provider: 'sops', secretRef: { name: 'sops' } } } },
  values: { text: { web: 'x' }, nested: { deeper: { x: 1 } }, list: [{ a: 1 }] },
  apps: [
    {
      template: 'web',
      options: { text: 'x', env: { A: 'b' }, tree: { a: { b: 1 }, list: [{ c: 1 }] } },
      kustomization: { postBuild: { substitute: { A: 'b' } }, healthChecks: [{ kind: 'Deployment', name: 'web' }] },
    },
  ],
}

Pollution('__proto__, constructor and prototype at every level of the config are rejected', async () => {
  const dir = tempDir('homelab-proto-')
  try {
    writeFiles(dir, WEB_TEMPLATE)
    const paths = mappingPaths(FULL_CONFIG)
    assert.ok(paths.length >= 15, `levels: ${paths.length}`)
    for (const where of paths) {
      for (const key of PROTOTYPE_KEYS) {
        writeFileSync(path.join(dir, 'homelab.config.yaml'), poisoned(FULL_CONFIG, where, key))
        assert.is(await rejectedOrHarmless(dir, `${key} at ${where.join('.') || 'the top'}`), 'rejected', `${key} at ${where.join('.') || 'the top'}`)
      }
    }
  } finally {
    removeDir(dir)
  }
})

Pollution('the same keys at every level of a template.yaml (metadata, options schema, defaults): __proto__ rejected, the others harmless', async () => {
  const dir = tempDir('homelab-proto-')
  try {
    const meta = {
      description: 'x',
      options: {
        type: 'object',
        properties: { text: { type: 'string', default: 'x' }, env: { type: 'object', default: {} }, tree: { type: 'object', default: { a: { b: 1 } } } },
      },
    }
    writeFiles(dir, { ...WEB_TEMPLATE, 'homelab.config.yaml': configYaml({ ...BASE, values: VALUES, apps: [{ template: 'web' }] }) })
    const outcomes: string[] = []
    for (const where of mappingPaths(meta)) {
      for (const key of PROTOTYPE_KEYS) {
        writeFileSync(path.join(dir, 'templates/web/template.yaml'), poisoned(meta, where, key))
        const label = `${key} at ${where.join('.') || 'the top'} of template.yaml`
        const outcome = await rejectedOrHarmless(dir, label)
        // constructor and prototype may stay plain data (a schema may name a property so); __proto__ never gets in
        if (key === '__proto__') assert.is(outcome, 'rejected', label)
        outcomes.push(outcome)
      }
    }
    assert.ok(outcomes.length >= 18, `cases: ${outcomes.length}`)
  } finally {
    removeDir(dir)
  }
})

Pollution('templates that walk to prototypes fail or render nothing of them', async () => {
  const dir = tempDir('homelab-proto-')
  try {
    writeFiles(dir, { ...WEB_TEMPLATE, 'homelab.config.yaml': configYaml({ ...BASE, values: VALUES, apps: [{ template: 'web' }] }) })
    const walks = [
      '{{constructor.constructor}}', '{{lookup this "constructor"}}', '{{#with (lookup this "__proto__")}}{{polluted}}{{/with}}', '{{options.__proto__}}',
      '{{options.constructor.name}}', '{{app.constructor.prototype}}', '{{lookup (lookup this "constructor") "prototype"}}', '{{json (lookup app "__proto__")}}',
      '{{#each (lookup this "constructor")}}{{@key}}{{/each}}', '{{[__proto__].polluted}}',
    ]
    for (const walk of walks) {
      // the walk's result lands in a quoted scalar; its quotes become single quotes, which Handlebars also takes
      writeFileSync(path.join(dir, 'templates/web/walk.yaml.hbs'), `apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: walk\ndata:\n  x: "${walk.replace(/"/g, "'")}"\n`)
      const dirOutcome = await rejectedOrHarmless(dir, walk)
      if (dirOutcome === 'harmless') {
        const { plan } = await renderHomelab(path.join(dir, 'homelab.config.yaml'))
        assert.not.match(text(plan.get('apps/web/walk.yaml')), /function|native code|\[object|PWNED|polluted/, walk)
      }
    }
  } finally {
    removeDir(dir)
  }
})

const Nesting = suite('hostile input: deep nesting')

/** Render and return the HomelabError, checking it is one clear line with a position; bounded time. */
async function expectError(dir: string, label: string): Promise<HomelabError> {
  const started = performance.now()
  const error = await renderHomelab(path.join(dir, 'homelab.config.yaml')).then(
    () => undefined,
    (e: unknown) => e,
  )
  const ms = performance.now() - started
  assert.ok(ms < 60_000, `${label}: ${Math.round(ms)} ms`)
  assert.instance(error, HomelabError, `${label}: ${String(error)}`)
  const line = (error as HomelabError).oneLine
  assert.ok(!line.includes('\n') && line.length < 1500, `${label}: one line: ${line.slice(0, 200)}`)
  assert.equal(checkPrototype(), [])
  return error as HomelabError
}

const deepFlowSeq = (n: number) => `${'['.repeat(n)}1${']'.repeat(n)}`
const deepFlowMap = (n: number) => `${'{a: '.repeat(n)}1${'}'.repeat(n)}`
const deepBlockSeq = (n: number) => `\n    ${'- '.repeat(n)}1`
/** Block mappings one space deeper per level (block form needs indentation, so the text grows with the square of the depth). */
const deepBlockMap = (n: number, indent: number) => '\n' + Array.from({ length: n }, (_, i) => `${' '.repeat(indent + i)}a:`).join('\n') + ' 1'

const minimal = (values: string) => `cluster: { name: test }\nflux: { repository: "https://example.com/m.git" }\napps: [{ template: web }]\nvalues:\n  text: { web: x }\n  deep: ${values}\n`

for (const [name, value] of [
  ['10,000 levels of flow lists', deepFlowSeq(10_000)],
  ['10,000 levels of flow mappings', deepFlowMap(10_000)],
  ['10,000 levels of block lists', deepBlockSeq(10_000)],
  ['3,000 levels of block mappings', deepBlockMap(3_000, 4)],
] as const) {
  Nesting(`${name} in the config: a clear error at the line and column`, async () => {
    const dir = tempDir('homelab-deep-')
    try {
      writeFiles(dir, { ...WEB_TEMPLATE, 'homelab.config.yaml': minimal(value) })
      const error = await expectError(dir, name)
      assert.match(error.oneLine, new RegExp(`^homelab\\.config\\.yaml:\\d+:\\d+: YAML nested more than ${MAX_NESTING} levels deep$|/homelab\\.config\\.yaml:\\d+:\\d+: YAML nested more than ${MAX_NESTING} levels deep$`))
    } finally {
      removeDir(dir)
    }
  })
}

Nesting('deep nesting in options, template.yaml, a plain resource and a rendered template: clear errors', async () => {
  const cases: Array<[string, Record<string, string>, RegExp]> = [
    ['options', { 'homelab.config.yaml': `cluster: { name: test }\nflux: { repository: "https://example.com/m.git" }\nvalues: { text: { web: x } }\napps:\n  - template: web\n    options: { tree: { a: ${deepFlowSeq(10_000)} } }\n` }, /homelab\.config\.yaml:6:\d+: YAML nested more than/],
    ['template.yaml', { 'templates/web/template.yaml': `options:\n  type: object\n  default: ${deepFlowMap(10_000)}\n` }, /templates\/web\/template\.yaml:3:\d+: YAML nested more than/],
    ['a plain resource', { 'templates/web/deep.yaml': `apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: deep\ndata: ${deepFlowSeq(10_000)}\n` }, /templates\/web\/deep\.yaml:5:\d+: YAML nested more than .*app "web"/],
    ['a rendered template', { 'templates/web/deep.yaml.hbs': `apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: {{quote app.id}}\ndata: ${deepBlockSeq(10_000)}\n` }, /templates\/web\/deep\.yaml\.hbs:\d+:\d+: YAML nested more than .*app "web"/],
  ]
  for (const [name, files, expected] of cases) {
    const dir = tempDir('homelab-deep-')
    try {
      writeFiles(dir, { ...WEB_TEMPLATE, 'homelab.config.yaml': configYaml({ ...BASE, values: VALUES, apps: [{ template: 'web' }] }), ...files })
      const line = (await expectError(dir, name)).oneLine
      assert.match(line, expected, line)
    } finally {
      removeDir(dir)
    }
  }
})

Nesting('aliases that nest too deep, sit inside their own anchor, or explode are clear errors', async () => {
  const chain = (n: number) => `${'['.repeat(n)}*x${']'.repeat(n)}`
  const laughs = ['a: &a [x, x, x, x, x, x, x, x, x]', ...Array.from({ length: 8 }, (_, i) => `${String.fromCharCode(98 + i)}: &${String.fromCharCode(98 + i)} [${Array(9).fill(`*${String.fromCharCode(97 + i)}`).join(', ')}]`)]
  const cases: Array<[string, string, RegExp]> = [
    ['an alias inside its own anchor', '&x [1, *x]', /nested more than \d+ levels deep once its aliases are expanded/],
    ['aliases stacking past the limit', `{ x: &x ${deepFlowSeq(100)}, y: ${chain(100)} }`, /nested more than \d+ levels deep once its aliases are expanded/],
    ['a billion laughs', `\n${laughs.map((line) => `    ${line}`).join('\n')}`, /too many YAML aliases/],
  ]
  for (const [name, value, expected] of cases) {
    const dir = tempDir('homelab-alias-')
    try {
      writeFiles(dir, { ...WEB_TEMPLATE, 'homelab.config.yaml': minimal(value) })
      const line = (await expectError(dir, name)).oneLine
      assert.match(line, expected, line)
    } finally {
      removeDir(dir)
    }
  }
})

Nesting(`data nested ${MAX_NESTING - 8} levels deep is fine, through toYaml into the output`, async () => {
  const dir = tempDir('homelab-deep-')
  try {
    // the config's own levels (root, apps, the app, options, tree) count too
    writeFiles(dir, {
      ...WEB_TEMPLATE,
      'homelab.config.yaml': `cluster: { name: test }\nflux: { repository: "https://example.com/m.git" }\nvalues: { text: { web: x } }\napps:\n  - template: web\n    options: { tree: { a: ${deepFlowSeq(MAX_NESTING - 8)} } }\n`,
    })
    const { plan } = await renderHomelab(path.join(dir, 'homelab.config.yaml'))
    const [, , tree] = readAs('1.2', text(plan.get('apps/web/configmap.yaml')))
    let depth = 0
    for (let node: unknown = tree?.spec.a; Array.isArray(node); node = node[0]) depth++
    assert.is(depth, MAX_NESTING - 8)
  } finally {
    removeDir(dir)
  }
})

const Huge = suite('hostile input: huge input, through the built CLI, in bounded time and memory')

/** Run the CLI with an exit hook that records its peak memory (maxRSS) in a file. */
async function runMeasured(dir: string, args: string[], timeoutMs: number): Promise<{ code: number; stdout: string; stderr: string; ms: number; rssMB: number }> {
  const hook = path.join(dir, '.rss-hook.mjs')
  const record = path.join(dir, '.rss')
  writeFileSync(hook, `import { writeFileSync } from 'node:fs'\nprocess.on('exit', () => writeFileSync(${JSON.stringify(record)}, String(process.resourceUsage().maxRSS)))\n`)
  const started = performance.now()
  const result = await runCli(args, { cwd: dir, timeoutMs, env: { NODE_OPTIONS: `${process.env.NODE_OPTIONS ?? ''} --import=${hook}`.trim() } })
  const ms = performance.now() - started
  assert.ok(ms < timeoutMs, `finished within ${timeoutMs / 1000} s (${Math.round(ms)} ms)`)
  const rssMB = Number(readFileSync(record, 'utf8')) / 1024
  return { ...result, ms, rssMB }
}

/** Generous bounds: several times what these cases take on a 2-core CI machine (measured: see docs/safety.md). */
const BOUNDS = {
  bigValue: { ms: 60_000, rssMB: 1_500 },
  manyApps: { ms: 90_000, rssMB: 1_200 },
  tooManyApps: { ms: 60_000, rssMB: 1_200 },
}

Huge('a 10 MB string value renders exactly', async () => {
  const dir = tempDir('homelab-huge-')
  try {
    const big = 'ab"c\\d\n\u2028é🏠 #: - '.repeat(10_000_000 / 20)
    writeFiles(dir, { ...WEB_TEMPLATE, 'homelab.config.yaml': configYaml({ ...BASE, values: { text: { web: big } }, apps: [{ template: 'web' }] }) })
    const result = await runMeasured(dir, ['render', '--out', 'out'], BOUNDS.bigValue.ms)
    assert.is(result.code, 0, result.stderr)
    const [configMap] = readAs('1.2', readFileSync(path.join(dir, 'out/apps/web/configmap.yaml'), 'utf8'))
    assert.ok(configMap?.metadata.annotations.value === big, 'the value comes out exactly')
    console.log(`huge: 10 MB value: ${Math.round(result.ms)} ms, max RSS ${Math.round(result.rssMB)} MB`)
    assert.ok(result.rssMB < BOUNDS.bigValue.rssMB, `max RSS ${Math.round(result.rssMB)} MB`)
  } finally {
    removeDir(dir)
  }
})

/** One small object per app: the huge cases measure the tool, not the template. */
const SMALL_TEMPLATE = {
  'templates/web/configmap.yaml.hbs': 'apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: {{quote app.id}}\ndata:\n  cluster: {{quote cluster.name}}\n',
}

/** A config of `count` apps of `web`, each depending on the next one (the deepest dependency graph there is); with `cycle`, the last on the first. */
function manyApps(count: number, options: { cycle?: boolean } = {}): string {
  const lines = Array.from({ length: count }, (_, i) => {
    const dep = i < count - 1 ? `a${i + 1}` : options.cycle ? 'a0' : undefined
    return `  - { template: web, id: a${i}${dep ? `, dependsOn: [${dep}]` : ''} }`
  })
  return `cluster: { name: test }\nflux: { repository: "https://example.com/m.git" }\napps:\n${lines.join('\n')}\n`
}

Huge('20,000 apps in one dependency chain 20,000 deep render', async () => {
  const dir = tempDir('homelab-huge-')
  try {
    writeFiles(dir, { ...SMALL_TEMPLATE, 'homelab.config.yaml': manyApps(20_000) })
    const result = await runMeasured(dir, ['render', '--out', 'out'], BOUNDS.manyApps.ms)
    assert.is(result.code, 0, result.stderr)
    assert.match(result.stdout, /rendered 20000 apps into out\/: 60003 written/)
    console.log(`huge: 20,000 apps: ${Math.round(result.ms)} ms, max RSS ${Math.round(result.rssMB)} MB`)
    assert.ok(result.rssMB < BOUNDS.manyApps.rssMB, `max RSS ${Math.round(result.rssMB)} MB`)
  } finally {
    removeDir(dir)
  }
})

Huge('more than 100,000 apps, and a dependency cycle through 20,000 apps: one clear error line each', async () => {
  const dir = tempDir('homelab-huge-')
  try {
    writeFiles(dir, { ...SMALL_TEMPLATE, 'homelab.config.yaml': manyApps(100_001) })
    const tooMany = await runMeasured(dir, ['render', '--out', 'out'], BOUNDS.tooManyApps.ms)
    assert.is(tooMany.code, 1)
    assert.match(tooMany.stderr, /^error: homelab\.config\.yaml:\d+:\d+: apps must list at most 100000 items, not 100001\n$/, tooMany.stderr)
    console.log(`huge: 100,001 apps: ${Math.round(tooMany.ms)} ms, max RSS ${Math.round(tooMany.rssMB)} MB`)
    assert.ok(tooMany.rssMB < BOUNDS.tooManyApps.rssMB, `max RSS ${Math.round(tooMany.rssMB)} MB`)

    writeFiles(dir, { 'homelab.config.yaml': manyApps(20_000, { cycle: true }) })
    const cycle = await runMeasured(dir, ['render', '--out', 'out'], BOUNDS.manyApps.ms)
    assert.is(cycle.code, 1)
    const lines = cycle.stderr.split('\n').filter(Boolean)
    assert.is(lines.length, 1, cycle.stderr.slice(0, 300))
    assert.match(lines[0] as string, /^error: homelab\.config\.yaml:\d+:\d+: dependency cycle: a0 -> a1 -> a2 -> .*characters left out.* -> a19999 -> a0$/)
    assert.ok((lines[0] as string).length < 1500)
  } finally {
    removeDir(dir)
  }
})

Injection.run()
Pollution.run()
Nesting.run()
Huge.run()
