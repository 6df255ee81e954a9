/**
 * `homelab bootstrap` end to end: the built CLI against the strict flux and
 * kubectl stand-ins of tests/helpers/shims (see tests/helpers/README.md).
 */
import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import { parseAllDocuments } from 'yaml'
import { minimalHomelab, removeDir, runCli } from './helpers/cli.js'
import type { CliResult } from './helpers/cli.js'
import { createShimEnv } from './helpers/shims.js'
import type { KubeState, ShimCall, ShimEnv, ShimEnvOptions } from './helpers/shims.js'

/** A token no output may ever contain. */
const SENTINEL = 'sentinel-T0KEN-4f9c2b7e1a'

/** Every call after the first is pinned to the context the first one read (the fake cluster's). */
const PIN = '--context=homelab-test'
const CONTEXT = 'kubectl config current-context'
const APPLY = `kubectl ${PIN} apply --server-side -f -`
const CHECK = `flux ${PIN} check --pre`
const GET_SOURCE = `kubectl ${PIN} get gitrepositories.source.toolkit.fluxcd.io flux-system -n flux-system -o json`
const READ_ONLY = [CONTEXT, CHECK, GET_SOURCE]
const fluxBootstrap = (args: string) => `flux ${PIN} bootstrap ${args}`
/** A pinned command as --dry-run prints it: the context is a shell variable set by the first command. */
const dryRun = (command: string) => command.replace(PIN, '--context="$CONTEXT"')

/** Two bootstrap apps listed against their dependency order, and one app Flux alone applies. */
const APPS = [
  '  - template: web',
  '    id: zeta',
  '    bootstrap: true',
  '    dependsOn: [alpha]',
  '  - template: web',
  '    id: alpha',
  '    bootstrap: true',
  '  - template: web',
  '    id: later',
  '    dependsOn: [zeta]',
].join('\n')

function config(fluxLines: string[], apps = APPS): string {
  return ['cluster:', '  name: test', 'flux:', ...fluxLines.map((line) => `  ${line}`), 'apps:', apps, ''].join('\n')
}
const GITHUB = ['repository: https://github.com/example/manifests.git']

interface World {
  dir: string
  shim: ShimEnv
  run(args?: string[], options?: { input?: string; env?: Record<string, string | undefined> }): Promise<CliResult>
}

const worlds: World[] = []

/** A homelab folder plus a fake cluster; `run` calls the built CLI with only the shims on PATH. */
function world(configText = config(GITHUB), options: ShimEnvOptions = {}, extraFiles: Record<string, string> = {}): World {
  const dir = minimalHomelab(configText, extraFiles)
  const shim = createShimEnv({ ...options, env: { NO_COLOR: '1', ...options.env } })
  const w: World = {
    dir,
    shim,
    run: (args = [], runOptions = {}) => {
      const env: Record<string, string> = { ...shim.env }
      for (const [name, value] of Object.entries(runOptions.env ?? {})) {
        if (value === undefined) delete env[name]
        else env[name] = value
      }
      return runCli(['bootstrap', ...args], { cwd: dir, env, replaceEnv: true, input: runOptions.input, timeoutMs: 180_000 })
    },
  }
  worlds.push(w)
  return w
}

function cleanup(): void {
  for (const w of worlds.splice(0)) {
    w.shim.cleanup()
    removeDir(w.dir)
  }
}

const line = (call: ShimCall) => `${call.tool} ${call.argv.join(' ')}`
const lines = (calls: ShimCall[]) => calls.map(line)
/** The (sub)command of a call, past its global flags. */
const subcommand = (call: ShimCall) => call.argv.find((arg) => !arg.startsWith('-'))

/** Names of the objects a kubectl apply call got on stdin, in order. */
function appliedNames(call: ShimCall | undefined): string[] {
  assert.ok(call, 'a kubectl apply call')
  assert.ok(call.stdinClosed, 'stdin was closed')
  return parseAllDocuments(call.stdin ?? '')
    .map((doc) => doc.toJS() as { kind: string; metadata: { name: string } } | null)
    .filter((object) => object !== null)
    .map((object) => `${object.kind}/${object.metadata.name}`)
}

/** The sentinel is in no output of homelab and in no argument or stdin of any call. */
function assertNoSentinel(result: CliResult, shim: ShimEnv): void {
  assert.not.ok(result.stdout.includes(SENTINEL), 'token in stdout')
  assert.not.ok(result.stderr.includes(SENTINEL), 'token in stderr')
  for (const call of shim.readLog()) {
    assert.not.ok(call.argv.join(' ').includes(SENTINEL), `token in argv of ${line(call)}`)
    assert.not.ok((call.stdin ?? '').includes(SENTINEL), `token in stdin of ${line(call)}`)
  }
}

// ---------------------------------------------------------------------------------------------

const Plan = suite('bootstrap: --help and --dry-run')
Plan.after.each(cleanup)

Plan('--help explains the steps', async () => {
  const result = await runCli(['bootstrap', '--help'])
  assert.is(result.code, 0, result.stderr)
  for (const text of ['--dry-run', 'render and validate', 'preflight', 'flux check --pre', 'dependency order', 'flux bootstrap <provider>', 'apps/flux-bootstrap', 'GITHUB_TOKEN', 'run again']) {
    assert.ok(result.stdout.includes(text), `help mentions ${text}`)
  }
  assert.not.ok(result.stdout.includes('homelab bootstrap --help'), 'the help does not send the reader to itself')
})

Plan('--dry-run prints every command and the YAML, runs nothing, shows no secret', async () => {
  const w = world(config(GITHUB), { env: { GITHUB_TOKEN: SENTINEL } })
  const before = w.shim.readState()
  const result = await w.run(['--dry-run'])
  assert.is(result.code, 0, result.stderr)
  assert.equal(w.shim.readLog(), [], 'no flux or kubectl call at all')
  assert.equal(w.shim.readState(), before, 'the cluster is unchanged')
  const out = result.stdout
  for (const command of [`CONTEXT=$(${CONTEXT})`, dryRun(CHECK), dryRun(GET_SOURCE)]) assert.ok(out.includes(`\n${command}\n`), command)
  assert.ok(out.includes(`\nGITHUB_TOKEN=*** ${dryRun(fluxBootstrap('github --owner=example --repository=manifests --branch=main --path=flux --personal'))}\n`))
  // alpha before zeta (dependency order), both before Flux; flux-bootstrap last
  const order = ['# 2. apply bootstrap app alpha', 'name: alpha', '# 3. apply bootstrap app zeta', 'name: zeta', 'flux bootstrap github', '# 5. apply apps/flux-bootstrap', 'name: flux-bootstrap', 'path: ./apps/flux']
  const at = order.map((text) => out.indexOf(text))
  assert.ok(at.every((index) => index >= 0), `all of ${order.join(', ')} in the plan`)
  assert.equal([...at].sort((a, b) => a - b), at, 'in this order')
  assert.ok(out.includes(`${dryRun(APPLY)} <<'EOF'\n`), 'the YAML goes to stdin')
  assert.not.ok(out.includes('name: later'), 'an app without bootstrap: true is left to Flux')
  assertNoSentinel(result, w.shim)
})

Plan('--dry-run without the token still shows the plan and warns', async () => {
  const w = world()
  const result = await w.run(['--dry-run'])
  assert.is(result.code, 0, result.stderr)
  assert.ok(result.stdout.includes(`GITHUB_TOKEN=<unset> ${dryRun(fluxBootstrap('github'))}`))
  assert.match(result.stderr, /warning: GITHUB_TOKEN is not set/)
  assert.equal(w.shim.readLog(), [])
})

const Stop = suite('bootstrap: errors before anything changes')
Stop.after.each(cleanup)

Stop('a render error: exit 1 at the template line, no kubectl or flux call', async () => {
  const w = world(config(GITHUB), { env: { GITHUB_TOKEN: SENTINEL } }, { 'templates/web/configmap.yaml.hbs': 'apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: {{app.nope}}\n' })
  const result = await w.run()
  assert.is(result.code, 1)
  assert.match(result.stderr, /^error: templates\/web\/configmap\.yaml\.hbs:4/m)
  assert.match(result.stdout, /✖ render and validate: /)
  assert.equal(w.shim.readLog(), [])
})

Stop('a bootstrap app depending on an app Flux applies: exit 1 at its dependsOn', async () => {
  const apps = ['  - template: web', '    id: alpha', '  - template: web', '    id: zeta', '    bootstrap: true', '    dependsOn: [alpha]'].join('\n')
  const w = world(config(GITHUB, apps), { env: { GITHUB_TOKEN: SENTINEL } })
  const result = await w.run()
  assert.is(result.code, 1)
  assert.match(result.stderr, /^error: homelab\.config\.yaml:\d+:\d+: app "zeta" has bootstrap: true but depends on "alpha"/m)
  assert.equal(w.shim.readLog(), [])
})

/** A bootstrap app whose generated Kustomization makes Flux apply other objects than bootstrap would. */
const SUBSTITUTED = ['  - template: web', '    bootstrap: true', '    options: { greeting: "${greeting_var}" }', '    kustomization:']

Stop('a bootstrap app with targetNamespace: exit 1 at its line, for the real run and --dry-run alike', async () => {
  const apps = [...SUBSTITUTED, '      targetNamespace: other', '      postBuild:', '        substitute:', '          greeting_var: hi'].join('\n')
  const w = world(config(GITHUB, apps), { env: { GITHUB_TOKEN: SENTINEL } })
  for (const args of [[], ['--dry-run']]) {
    const result = await w.run(args)
    assert.is(result.code, 1, result.stdout)
    assert.match(result.stderr, /^error: homelab\.config\.yaml:10:24: app "web" has bootstrap: true and sets targetNamespace: Flux would move its objects to namespace "other"/m)
    assert.match(result.stderr, /^hint: drop targetNamespace and set the app's namespace: other instead/m)
    assert.not.ok(result.stdout.includes('kubectl'), 'no plan printed')
  }
  assert.equal(w.shim.readLog(), [])
})

Stop('a bootstrap app with postBuild substitutions and ${…} in its YAML: exit 1 at the substitution', async () => {
  const apps = [...SUBSTITUTED, '      postBuild:', '        substitute:', '          greeting_var: hi'].join('\n')
  const w = world(config(GITHUB, apps), { env: { GITHUB_TOKEN: SENTINEL } })
  const result = await w.run(['--dry-run'])
  assert.is(result.code, 1, result.stdout)
  assert.match(result.stderr, /^error: homelab\.config\.yaml:12:11: app "web" has bootstrap: true and sets postBuild substitutions, and the app's YAML contains \$\{…\}/m)
  assert.match(result.stderr, /^hint: pass the values as options/m)
})

Stop('substitutions from flux.kustomization: exit 1 at the default; postBuild: {} on the app or YAML without ${…} is fine', async () => {
  const defaults = [...GITHUB, 'kustomization:', '  postBuild:', '    substituteFrom:', '      - { kind: ConfigMap, name: cluster-vars }']
  const substituted = SUBSTITUTED.slice(0, 3).join('\n')
  const refused = await world(config(defaults, substituted)).run(['--dry-run'])
  assert.is(refused.code, 1, refused.stdout)
  assert.match(refused.stderr, /^error: homelab\.config\.yaml:8:9: flux\.kustomization sets postBuild substitutions for every app, "web" too, which has bootstrap: true/m)
  assert.match(refused.stderr, /^hint: set kustomization: \{ postBuild: \{\} \} on "web"/m)

  const optedOut = await world(config(defaults, [...SUBSTITUTED, '      postBuild: {}'].join('\n'))).run(['--dry-run'])
  assert.is(optedOut.code, 0, optedOut.stderr)
  assert.ok(optedOut.stdout.includes('greeting: "${greeting_var}"'), 'applied as rendered, as Flux will')

  const plain = await world(config(defaults, ['  - template: web', '    bootstrap: true'].join('\n'))).run(['--dry-run'])
  assert.is(plain.code, 0, plain.stderr)
})

Stop('decryption on a bootstrap app with a SOPS-encrypted document: exit 1 at decryption', async () => {
  const apps = ['  - template: web', '    bootstrap: true', '    kustomization:', '      decryption: { provider: sops }'].join('\n')
  const secret = 'apiVersion: v1\nkind: Secret\nmetadata:\n  name: token\nstringData:\n  token: ENC[AES256_GCM,data:abc,type:str]\nsops:\n  version: 3.9.0\n'
  const w = world(config(GITHUB, apps), {}, { 'templates/web/secret.yaml': secret })
  const result = await w.run(['--dry-run'])
  assert.is(result.code, 1, result.stdout)
  assert.match(result.stderr, /^error: homelab\.config\.yaml:9:19: app "web" has bootstrap: true and sets decryption, and the app's YAML holds SOPS-encrypted documents/m)
})

Stop('an https repository on an unknown host without flux.provider: says to set it', async () => {
  const w = world(config(['repository: https://git.example.com/alice/manifests.git']), { env: { GITEA_TOKEN: SENTINEL } })
  const result = await w.run()
  assert.is(result.code, 1)
  assert.match(result.stderr, /cannot tell the Git provider of git\.example\.com/)
  assert.match(result.stderr, /hint: set flux\.provider/)
  assert.equal(w.shim.readLog(), [])
})

for (const missing of [['flux'], ['kubectl'], ['flux', 'kubectl']] as const) {
  Stop(`${missing.join(' and ')} missing from PATH: how to install, nothing run`, async () => {
    const w = world(config(GITHUB), { omit: [...missing], env: { GITHUB_TOKEN: SENTINEL } })
    const result = await w.run()
    assert.is(result.code, 1)
    assert.match(result.stderr, new RegExp(`error: bootstrap stopped at step "preflight": ${missing.join(' and ')} not found on PATH`))
    if (missing.includes('flux' as never)) assert.ok(result.stderr.includes('https://fluxcd.io/flux/installation/'))
    if (missing.includes('kubectl' as never)) assert.ok(result.stderr.includes('https://kubernetes.io/docs/tasks/tools/'))
    assert.equal(w.shim.readLog(), [])
  })
}

Stop('no kubectl context: exit 1, nothing applied', async () => {
  const w = world(config(GITHUB), { state: { context: null }, env: { GITHUB_TOKEN: SENTINEL } })
  const result = await w.run()
  assert.is(result.code, 1)
  assert.match(result.stderr, /kubectl has no current context: error: current-context is not set/)
  assert.equal(lines(w.shim.readLog()), [CONTEXT])
})

Stop('a missing token: exit 1 in preflight, only read-only calls, nothing applied', async () => {
  const w = world()
  const result = await w.run()
  assert.is(result.code, 1)
  assert.match(result.stderr, /step "preflight": GITHUB_TOKEN is not set: flux bootstrap github needs a token; nothing was changed/)
  assert.match(result.stderr, /hint: export GITHUB_TOKEN=<token>.*README section "Tokens and the permissions they need"/)
  assert.equal(lines(w.shim.readLog()), READ_ONLY)
  assert.equal(w.shim.readState().applied, [])
})

const mismatches: Array<[string, Partial<KubeState>, RegExp]> = [
  [
    'another repository',
    { gitRepositories: { 'flux-system/flux-system': { url: 'ssh://git@github.com/someone/else', branch: 'main' } } },
    /already syncs ssh:\/\/git@github\.com\/someone\/else \(branch main\), not https:\/\/github\.com\/example\/manifests\.git \(branch main\)/,
  ],
  [
    'another branch of the same repository',
    { gitRepositories: { 'flux-system/flux-system': { url: 'ssh://git@github.com/example/manifests', branch: 'dev' } } },
    /\(branch dev\), not https:\/\/github\.com\/example\/manifests\.git \(branch main\)/,
  ],
]
for (const [name, state, message] of mismatches) {
  Stop(`Flux already syncs ${name}: exit 1 naming both, nothing applied`, async () => {
    const w = world(config(GITHUB), { state, env: { GITHUB_TOKEN: SENTINEL } })
    const result = await w.run()
    assert.is(result.code, 1)
    assert.match(result.stderr, message)
    assert.equal(lines(w.shim.readLog()), READ_ONLY)
    assert.equal(w.shim.readState().applied, [])
  })
}

const Run = suite('bootstrap: the real run')
Run.after.each(cleanup)

Run('first run on github: bootstrap apps in dependency order, then flux bootstrap, then flux-bootstrap', async () => {
  const w = world(config(GITHUB), { env: { GITHUB_TOKEN: SENTINEL, HOMELAB_GIT_TOKEN: 'other-secret-value' } })
  const result = await w.run()
  assert.is(result.code, 0, result.stderr)
  const calls = w.shim.readLog()
  assert.equal(lines(calls), [
    ...READ_ONLY,
    APPLY,
    APPLY,
    fluxBootstrap('github --owner=example --repository=manifests --branch=main --path=flux --personal'),
    APPLY,
  ])
  assert.equal(appliedNames(calls[3]), ['ConfigMap/alpha'])
  assert.equal(appliedNames(calls[4]), ['ConfigMap/zeta'])
  assert.equal(appliedNames(calls[6]), ['Kustomization/flux-bootstrap'])
  // the token reaches flux bootstrap through its environment, and nothing else gets any secret
  for (const [index, call] of calls.entries()) assert.equal(call.env, index === 5 ? { GITHUB_TOKEN: SENTINEL } : {}, line(call))
  for (const call of calls) assert.ok(call.stdinClosed, `stdin closed for ${line(call)}`)
  assertNoSentinel(result, w.shim)

  for (const step of ['render and validate', 'preflight', 'apply alpha', 'apply zeta', 'flux bootstrap github', 'apply flux-bootstrap']) {
    assert.match(result.stdout, new RegExp(`^► ${step}\\n`, 'm'))
    assert.match(result.stdout, new RegExp(`^✔ ${step}(: .*)? \\(\\d+(\\.\\d)? m?s\\)$`, 'm'))
  }
  assert.match(result.stdout, /^ {2}kubectl context: homelab-test /m)
  assert.equal(w.shim.readState().gitRepositories['flux-system/flux-system']?.url, 'ssh://git@github.com/example/manifests')
})

Run('every call after the context is read is pinned to it, so a context switch meanwhile changes no other cluster', async () => {
  const w = world(config(GITHUB), { state: { context: 'kind-home', contexts: ['kind-home', 'kind-work'] }, env: { GITHUB_TOKEN: SENTINEL } })
  const result = await w.run()
  assert.is(result.code, 0, result.stderr)
  const [first, ...later] = w.shim.readLog()
  assert.equal(first && line(first), CONTEXT)
  assert.is(later.length, 6)
  for (const call of later) assert.is(call.argv[0], '--context=kind-home', line(call))
})

Run('a second run skips flux bootstrap (no token needed) and re-applies flux-bootstrap last', async () => {
  const w = world(config(GITHUB), { env: { GITHUB_TOKEN: SENTINEL } })
  assert.is((await w.run()).code, 0)
  const first = w.shim.readLog().length
  const result = await w.run([], { env: { GITHUB_TOKEN: undefined } })
  assert.is(result.code, 0, result.stderr)
  const calls = w.shim.readLog().slice(first)
  assert.equal(lines(calls), [...READ_ONLY, APPLY, APPLY, APPLY])
  assert.equal(appliedNames(calls.at(-1)), ['Kustomization/flux-bootstrap'])
  assert.match(result.stdout, /^✔ flux bootstrap github: skipped, the cluster already syncs ssh:\/\/git@github\.com\/example\/manifests \(branch main\)/m)
})

Run('the same repository in another form (scp-like, other case) counts as bootstrapped', async () => {
  const state = { gitRepositories: { 'flux-system/flux-system': { url: 'git@github.com:Example/Manifests.git', branch: 'main' } } }
  const w = world(config(GITHUB), { state })
  const result = await w.run()
  assert.is(result.code, 0, result.stderr)
  assert.not.ok(w.shim.readLog('flux').some((call) => subcommand(call) === 'bootstrap'))
})

Run('Bitbucket Server: a second run finds the ssh URL flux stored and skips flux bootstrap', async () => {
  const flux = ['repository: https://bitbucket.example.com/scm/PROJ/manifests.git', 'provider: bitbucket-server', 'personal: false']
  const w = world(config(flux), { env: { BITBUCKET_TOKEN: SENTINEL } })
  assert.is((await w.run()).code, 0)
  assert.equal(w.shim.readState().gitRepositories['flux-system/flux-system']?.url, 'ssh://git@bitbucket.example.com/proj/manifests.git')
  const result = await w.run([], { env: { BITBUCKET_TOKEN: undefined } })
  assert.is(result.code, 0, result.stderr)
  assert.match(result.stdout, /^✔ flux bootstrap bitbucket-server: skipped, the cluster already syncs ssh:\/\/git@bitbucket\.example\.com\/proj\/manifests\.git/m)
})

const providers: Array<{ name: string; flux: string[]; token: string; argv: string }> = [
  {
    name: 'gitlab.com, a group',
    flux: ['repository: https://gitlab.com/group/sub/manifests.git', 'personal: false'],
    token: 'GITLAB_TOKEN',
    argv: fluxBootstrap('gitlab --owner=group/sub --repository=manifests --branch=main --path=flux'),
  },
  {
    name: 'gitea',
    flux: ['repository: https://git.example.com/alice/manifests.git', 'provider: gitea'],
    token: 'GITEA_TOKEN',
    argv: fluxBootstrap('gitea --owner=alice --repository=manifests --branch=main --path=flux --personal --hostname=git.example.com'),
  },
  {
    name: 'bitbucket-server',
    flux: ['repository: https://alice@bitbucket.example.com/scm/infra/manifests.git', 'provider: bitbucket-server', 'personal: false'],
    token: 'BITBUCKET_TOKEN',
    argv: fluxBootstrap('bitbucket-server --owner=infra --repository=manifests --branch=main --path=flux --hostname=bitbucket.example.com --username=alice'),
  },
  {
    name: 'GitHub Enterprise (flux.hostname), another branch and path',
    flux: ['repository: https://github.example.com/team/manifests.git', 'provider: github', 'hostname: github.example.com', 'personal: false', 'branch: prod', 'path: clusters/home'],
    token: 'GITHUB_TOKEN',
    argv: fluxBootstrap('github --owner=team --repository=manifests --branch=prod --path=clusters/home --hostname=github.example.com'),
  },
  {
    name: 'git over https',
    flux: ['repository: https://git.example.com/alice/manifests.git', 'provider: git'],
    token: 'GIT_PASSWORD',
    argv: fluxBootstrap('git --url=https://git.example.com/alice/manifests.git --branch=main --path=flux --token-auth'),
  },
]
for (const provider of providers) {
  Run(`first run on ${provider.name}: exact argv, ${provider.token} only in flux's environment`, async () => {
    // every token variable is set: only the provider's own may reach flux
    const tokens = { GITHUB_TOKEN: 'gh-other-1234', GITLAB_TOKEN: 'gl-other-1234', GITEA_TOKEN: 'gt-other-1234', BITBUCKET_TOKEN: 'bb-other-1234', GIT_PASSWORD: 'gp-other-1234' }
    const w = world(config(provider.flux), { env: { ...tokens, [provider.token]: SENTINEL } })
    const result = await w.run()
    assert.is(result.code, 0, result.stderr)
    const calls = w.shim.readLog()
    const fluxCalls = calls.filter((call) => call.tool === 'flux' && subcommand(call) === 'bootstrap')
    assert.equal(lines(fluxCalls), [provider.argv])
    assert.equal(fluxCalls[0]?.env, { [provider.token]: SENTINEL })
    assert.equal(lines(calls).at(-1), APPLY)
    assertNoSentinel(result, w.shim)
    for (const value of Object.values(tokens)) assert.not.ok(result.stdout.includes(value) || result.stderr.includes(value))
  })
}

Run('git over ssh: no token, flux asks about the deploy key on the terminal', async () => {
  const w = world(config(['repository: git@git.example.com:alice/manifests.git']), { env: { SSH_AUTH_SOCK: '/tmp/homelab-test-agent.sock', GIT_PASSWORD: SENTINEL } })
  const result = await w.run([], { input: 'y\n' })
  assert.is(result.code, 0, result.stderr)
  const fluxCalls = w.shim.readLog('flux').filter((call) => subcommand(call) === 'bootstrap')
  assert.equal(lines(fluxCalls), [fluxBootstrap('git --url=ssh://git@git.example.com/alice/manifests.git --branch=main --path=flux')])
  assert.equal(fluxCalls[0]?.env, {}, 'no secret for a command whose output is not captured')
  assert.match(result.stderr, /Please give the key access to your repository/)
  assert.equal(w.shim.readState().gitRepositories['flux-system/flux-system']?.url, 'ssh://git@git.example.com/alice/manifests.git')
})

const Fail = suite('bootstrap: a failing step')
Fail.after.each(cleanup)

Fail('flux bootstrap fails printing the token: exit 1 naming the step, the token redacted; the next run continues', async () => {
  const w = world(config(GITHUB), { env: { GITHUB_TOKEN: SENTINEL, SHIM_FLUX_FAIL: 'bootstrap' } })
  const result = await w.run()
  assert.is(result.code, 1)
  assert.match(result.stderr, /^error: bootstrap stopped at step "flux bootstrap github": flux bootstrap github failed \(exit 1\): /m)
  assert.match(result.stdout, /^✖ flux bootstrap github: /m)
  assert.ok(result.stderr.includes('debug: GITHUB_TOKEN=***'), 'the failing output is shown, redacted')
  assertNoSentinel(result, w.shim)
  const calls = lines(w.shim.readLog())
  assert.equal(calls.slice(-1), [fluxBootstrap('github --owner=example --repository=manifests --branch=main --path=flux --personal')], 'stopped: flux-bootstrap not applied')

  const again = await w.run([], { env: { SHIM_FLUX_FAIL: undefined } })
  assert.is(again.code, 0, again.stderr)
  const next = lines(w.shim.readLog()).slice(calls.length)
  assert.equal(next, [...READ_ONLY, APPLY, APPLY, fluxBootstrap('github --owner=example --repository=manifests --branch=main --path=flux --personal'), APPLY])
})

Fail('kubectl apply fails: exit 1 naming the app, flux never runs, kubectl never saw a token', async () => {
  const w = world(config(GITHUB), { env: { GITHUB_TOKEN: SENTINEL, SHIM_KUBECTL_FAIL: 'apply' } })
  const result = await w.run()
  assert.is(result.code, 1)
  assert.match(result.stderr, /^error: bootstrap stopped at step "apply alpha": kubectl apply failed \(exit 1\)/m)
  assert.match(result.stderr, /Unauthorized: https:\/\/\*\*\*@127\.0\.0\.1:6443/, 'its output is shown, redacted')
  assert.equal(lines(w.shim.readLog()), [...READ_ONLY, APPLY])
  assert.equal(w.shim.readLog('kubectl').map((call) => call.env), [{}, {}, {}])
  assertNoSentinel(result, w.shim)
})

Fail('flux check --pre fails: exit 1 in preflight, nothing applied', async () => {
  const w = world(config(GITHUB), { state: { kubernetesVersion: '1.20.0' }, env: { GITHUB_TOKEN: SENTINEL } })
  const result = await w.run()
  assert.is(result.code, 1)
  assert.match(result.stderr, /step "preflight": flux check failed \(exit 1\): .*✗ Kubernetes version v1\.20\.0 does not match/)
  assert.equal(lines(w.shim.readLog()), [CONTEXT, CHECK])
})

const Order = suite('bootstrap: the YAML each apply gets')
Order.after.each(cleanup)

Order('a Namespace is applied before the objects in it, whatever the file names', async () => {
  const apps = ['  - template: nsapp', '    bootstrap: true'].join('\n')
  const w = world(config(GITHUB, apps), { state: { namespaces: ['default', 'flux-system'] }, env: { GITHUB_TOKEN: SENTINEL } }, {
    'templates/nsapp/template.yaml': 'description: a namespace and a config map in it\nnamespace: tools\n',
    'templates/nsapp/a-configmap.yaml.hbs': 'apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: settings\n  namespace: {{app.namespace}}\n',
    'templates/nsapp/namespace.yaml.hbs': '# the namespace\napiVersion: v1\nkind: Namespace\nmetadata:\n  name: {{app.namespace}}\n',
  })
  const result = await w.run()
  assert.is(result.code, 0, result.stderr)
  const applies = w.shim.readLog('kubectl').filter((call) => subcommand(call) === 'apply')
  assert.equal(appliedNames(applies[0]), ['Namespace/tools', 'ConfigMap/settings'])
})

Plan.run()
Stop.run()
Run.run()
Fail.run()
Order.run()
