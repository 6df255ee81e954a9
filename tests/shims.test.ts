import { spawn, spawnSync } from 'node:child_process'
import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { parseAllDocuments } from 'yaml'
import { createShimEnv, type ShimEnv, type ShimEnvOptions } from './helpers/shims.js'

const FLUX_CRDS = new URL('../../shared/fixtures/flux-crds/', import.meta.url).pathname

const envs: ShimEnv[] = []
function shimEnv(options?: ShimEnvOptions): ShimEnv {
  const s = createShimEnv(options)
  envs.push(s)
  return s
}
test.after(() => {
  for (const s of envs) s.cleanup()
})

/** Run a tool by name through the shim env's PATH. */
function run(s: ShimEnv, cmd: string, args: string[], opts: { input?: string; env?: Record<string, string> } = {}) {
  const r = spawnSync(cmd, args, {
    env: { ...s.env, ...opts.env },
    input: opts.input ?? '',
    encoding: 'utf8',
    cwd: s.dir,
  })
  return { code: r.status, stdout: r.stdout, stderr: r.stderr, error: r.error }
}

const GH = { GITHUB_TOKEN: 'ghp_supersecret123' }

// ---------------------------------------------------------------------------------------------- flux

test('flux: an unknown flag is rejected like the real flux', () => {
  const s = shimEnv()
  const r = run(s, 'flux', ['bootstrap', 'github', '--owner', 'alice', '--repository', 'r', '--foo'], { env: GH })
  assert.is(r.code, 1)
  assert.is(r.stderr, '✗ unknown flag: --foo\n')
  const [call] = s.readLog()
  assert.is(call?.tool, 'flux')
  assert.is(call?.exitCode, 1)
  assert.equal(s.readState().gitRepositories, {})
})

test('flux: a flag of another subcommand, or of kubectl, is rejected', () => {
  const s = shimEnv()
  // --url belongs to `bootstrap git`, --field-manager to kubectl
  assert.is(run(s, 'flux', ['bootstrap', 'github', '--url', 'https://x'], { env: GH }).stderr, '✗ unknown flag: --url\n')
  assert.is(run(s, 'flux', ['check', '--pre', '--field-manager=x']).stderr, '✗ unknown flag: --field-manager\n')
  assert.is(run(s, 'flux', ['bootstrap', 'gitea', '--deploy-token-auth'], { env: GH }).code, 1)
})

test('flux: a missing required flag is rejected and nothing reaches the cluster', () => {
  const s = shimEnv()
  const noOwner = run(s, 'flux', ['bootstrap', 'github', '--repository', 'r', '--personal'], { env: GH })
  assert.is(noOwner.code, 1)
  assert.match(noOwner.stderr, /^✗ failed to get Git repository ".*": provider error: owner: field is required/)
  const noUrl = run(s, 'flux', ['bootstrap', 'git', '--silent'])
  assert.is(noUrl.code, 1)
  assert.match(noUrl.stderr, 'scheme "" is not supported')
  const noHost = run(s, 'flux', ['bootstrap', 'bitbucket-server', '--owner', 'o', '--repository', 'r'], {
    env: { BITBUCKET_TOKEN: 'bb-token-1234' },
  })
  assert.is(noHost.stderr, '✗ invalid hostname ""\n')
  assert.equal(s.readState().gitRepositories, {})
})

test('flux: value flags need a value; bool flags take only --flag or --flag=value', () => {
  const s = shimEnv()
  assert.is(run(s, 'flux', ['bootstrap', 'github', '--owner'], { env: GH }).stderr, '✗ flag needs an argument: --owner\n')
  assert.match(
    run(s, 'flux', ['bootstrap', 'github', '--owner', '--repository', 'r'], { env: GH }).stderr,
    '✗ flag needs an argument: --owner',
  )
  assert.match(
    run(s, 'flux', ['bootstrap', 'github', '--owner=a', '--repository=r', '--personal=maybe'], { env: GH }).stderr,
    'invalid argument "maybe" for "--personal" flag: strconv.ParseBool',
  )
  // `--personal false` would be personal=true plus an ignored argument on the real flux
  assert.match(
    run(s, 'flux', ['bootstrap', 'github', '--owner', 'a', '--repository', 'r', '--personal', 'false'], { env: GH }).stderr,
    'unexpected argument "false"',
  )
  assert.match(
    run(s, 'flux', ['bootstrap', 'github', '--owner=a', '--repository=r', '--interval=soon'], { env: GH }).stderr,
    'time: invalid duration "soon"',
  )
  assert.is(run(s, 'flux', ['bootstrap', 'github', '--owner=a', '--repository=r', '--personal=false'], { env: GH }).code, 0)
})

test('flux: unknown commands fail; -h and --version work', () => {
  const s = shimEnv()
  assert.is(run(s, 'flux', ['frobnicate']).stderr, '✗ unknown command "frobnicate" for "flux"\n')
  assert.is(run(s, 'flux', ['bootstrap', 'githb']).code, 1)
  assert.is(run(s, 'flux', ['check', 'extra']).stderr, '✗ unknown command "extra" for "flux check"\n')
  assert.match(run(s, 'flux', ['get', 'sources', 'git']).stderr, 'not implemented by the test stand-in')
  assert.is(run(s, 'flux', ['--version']).stdout, 'flux version 2.4.0\n')
  assert.is(run(s, 'flux', ['version', '--client']).stdout, 'flux: v2.4.0\n')
  assert.is(run(s, 'flux', ['bootstrap', 'github', '-h']).code, 0)
})

test('flux: bootstrap github without GITHUB_TOKEN asks on stdin and fails on EOF, like the real one', () => {
  const s = shimEnv()
  const r = run(s, 'flux', ['bootstrap', 'github', '--owner', 'alice', '--repository', 'r', '--personal'])
  assert.is(r.code, 1)
  assert.is(r.stdout, 'Please enter your GitHub personal access token (PAT): ')
  assert.is(r.stderr, '✗ could not read token: could not read from stdin: EOF\n')
  assert.equal(s.readState().gitRepositories, {})
})

test('flux: a valid bootstrap github records argv and token env, and puts the GitRepository on the cluster', () => {
  const s = shimEnv({ env: { ...GH, HOMELAB_GIT_TOKEN: undefined } })
  const argv = ['bootstrap', 'github', '--owner', 'alice', '--repository', 'homelab-manifests', '--branch', 'main', '--path', 'flux', '--personal']
  const r = run(s, 'flux', argv)
  assert.is(r.code, 0, r.stderr)
  assert.match(r.stderr, '✔ all components are healthy')
  const calls = s.readLog('flux')
  assert.is(calls.length, 1)
  assert.equal(calls[0]?.argv, argv)
  assert.equal(calls[0]?.env, { GITHUB_TOKEN: 'ghp_supersecret123' })
  assert.is(calls[0]?.exitCode, 0)
  assert.equal(s.readState().gitRepositories['flux-system/flux-system'], {
    url: 'ssh://git@github.com/alice/homelab-manifests',
    branch: 'main',
    path: './flux',
    interval: '1m0s',
    secretRef: 'flux-system',
  })
  assert.is(s.readState().fluxInstalled, true)

  // --token-auth: the https form; flags may come before the subcommand
  const t = run(s, 'flux', ['--context', 'homelab-test', 'bootstrap', 'github', '--token-auth', '--owner=org', '--repository=m', '--branch=prod'])
  assert.is(t.code, 0, t.stderr)
  assert.is(s.readState().gitRepositories['flux-system/flux-system']?.url, 'https://github.com/org/m.git')
})

test('flux: --context must exist on the fake cluster', () => {
  const s = shimEnv()
  const r = run(s, 'flux', ['check', '--pre', '--context', 'other'])
  assert.is(r.code, 1)
  assert.match(r.stderr, 'context was not found for specified context: other')
})

test('flux: --context is a global flag that takes a value, as in flux (no shorthand)', () => {
  const s = shimEnv({ state: { context: 'a', contexts: ['a', 'b'] } })
  assert.is(run(s, 'flux', ['--context=b', 'check', '--pre']).code, 0)
  assert.is(run(s, 'flux', ['check', '--pre', '--context', 'b']).code, 0)
  assert.is(run(s, 'flux', ['check', '--pre', '--context']).stderr, '✗ flag needs an argument: --context\n')
  assert.match(run(s, 'flux', ['check', '--context', '--pre']).stderr, /^✗ flag needs an argument: --context/)
  assert.is(run(s, 'flux', ['-c', 'b', 'check', '--pre']).stderr, "✗ unknown shorthand flag: 'c' in -c\n")
})

test('flux: SHIM_FLUX_FAIL makes the call fail and leak the token, to prove the caller redacts it', () => {
  const s = shimEnv({ env: { ...GH, SHIM_FLUX_FAIL: 'bootstrap' } })
  const r = run(s, 'flux', ['bootstrap', 'github', '--owner', 'alice', '--repository', 'r', '--personal'])
  assert.is(r.code, 1)
  assert.match(r.stderr, 'https://git:ghp_supersecret123@github.com/alice/r.git')
  assert.equal(s.readState().gitRepositories, {})
  // the flags are still checked first
  assert.is(run(s, 'flux', ['bootstrap', 'github', '--nope']).stderr, '✗ unknown flag: --nope\n')
  // check passes while only bootstrap is told to fail
  assert.is(run(s, 'flux', ['check', '--pre']).code, 0)
})

test('flux: bootstrap git takes GIT_PASSWORD from the environment; without --silent it needs a "y"', () => {
  const s = shimEnv({ env: { GIT_PASSWORD: 'pw-secret-42' } })
  const url = 'https://git.example.com/alice/manifests.git'
  const https = run(s, 'flux', ['bootstrap', 'git', '--url', url, '--branch', 'main', '--path', 'flux', '--token-auth'])
  assert.is(https.code, 0, https.stderr)
  assert.is(s.readState().gitRepositories['flux-system/flux-system']?.url, url)
  assert.equal(s.readLog()[0]?.env, { GIT_PASSWORD: 'pw-secret-42' })

  const aborted = run(s, 'flux', ['bootstrap', 'git', '--url', url])
  assert.is(aborted.code, 1)
  assert.match(aborted.stderr, '✗ aborting')
  const confirmed = run(s, 'flux', ['bootstrap', 'git', '--url', url], { input: 'y\n' })
  assert.is(confirmed.code, 0, confirmed.stderr)
  assert.is(s.readState().gitRepositories['flux-system/flux-system']?.url, 'ssh://git@git.example.com/alice/manifests.git')
  assert.is(run(s, 'flux', ['bootstrap', 'git', '--url', url, '--silent']).code, 0)

  const noPassword = run(s, 'flux', ['bootstrap', 'git', '--url', url, '--silent'], { env: { GIT_PASSWORD: '' } })
  assert.is(noPassword.code, 1)
  assert.match(noPassword.stderr, 'authentication required')
})

test('flux: install --export prints the CRD folder as one YAML stream, or a built-in CRD', () => {
  const s = shimEnv()
  const fromDir = run(s, 'flux', ['install', '--export'], { env: { SHIM_FLUX_EXPORT_DIR: FLUX_CRDS } })
  assert.is(fromDir.code, 0, fromDir.stderr)
  const docs = parseAllDocuments(fromDir.stdout).map((d) => d.toJS())
  assert.equal(
    docs.map((d) => d.metadata.name),
    [
      'helmreleases.helm.toolkit.fluxcd.io',
      'kustomizations.kustomize.toolkit.fluxcd.io',
      'gitrepositories.source.toolkit.fluxcd.io',
      'helmrepositories.source.toolkit.fluxcd.io',
      'ocirepositories.source.toolkit.fluxcd.io',
    ],
  )
  const builtIn = run(s, 'flux', ['install', '--export'])
  const kinds = parseAllDocuments(builtIn.stdout).map((d) => d.toJS().kind)
  assert.equal(kinds, ['Namespace', 'CustomResourceDefinition'])
})

test('a shim left out of bin/ is not found, and no real kubectl leaks onto PATH', () => {
  const s = shimEnv({ omit: ['flux', 'kubectl'] })
  assert.is((run(s, 'flux', ['--version']).error as NodeJS.ErrnoException | undefined)?.code, 'ENOENT')
  assert.is((run(s, 'kubectl', ['version', '--client']).error as NodeJS.ErrnoException | undefined)?.code, 'ENOENT')
  const which = run(s, 'sh', ['-c', 'for t in kubectl flux git node; do command -v $t; done; true'])
  assert.is(which.stdout, `${s.toolsDir}/git\n${s.toolsDir}/node\n`)
})

// ------------------------------------------------------------------------------------------- kubectl

test('kubectl: get gitrepository answers from the state file (no CRD, NotFound, then found)', () => {
  const s = shimEnv()
  const args = ['get', 'gitrepository', 'flux-system', '-n', 'flux-system', '-o', 'json']
  const fresh = run(s, 'kubectl', args)
  assert.is(fresh.code, 1)
  assert.is(fresh.stderr, 'error: the server doesn\'t have a resource type "gitrepository"\n')

  s.writeState({ ...s.readState(), fluxInstalled: true })
  const missing = run(s, 'kubectl', ['get', 'gitrepositories.source.toolkit.fluxcd.io', 'flux-system', '-n', 'flux-system', '-o', 'json'])
  assert.is(missing.code, 1)
  assert.is(missing.stderr, 'Error from server (NotFound): gitrepositories.source.toolkit.fluxcd.io "flux-system" not found\n')

  s.writeState({
    ...s.readState(),
    gitRepositories: { 'flux-system/flux-system': { url: 'ssh://git@github.com/alice/m', branch: 'main' } },
  })
  const found = run(s, 'kubectl', args)
  assert.is(found.code, 0, found.stderr)
  const obj = JSON.parse(found.stdout)
  assert.is(obj.kind, 'GitRepository')
  assert.is(obj.spec.url, 'ssh://git@github.com/alice/m')
  assert.is(obj.spec.ref.branch, 'main')
  assert.is(run(s, 'kubectl', ['get', 'gitrepo/flux-system', '-n', 'flux-system', '-o', 'jsonpath={.spec.ref.branch}']).stdout, 'main')
})

test('kubectl: apply --server-side -f - records stdin and the applied objects', () => {
  const s = shimEnv()
  const yaml = [
    'apiVersion: v1',
    'kind: Namespace',
    'metadata:',
    '  name: cert-manager',
    '---',
    'apiVersion: apps/v1',
    'kind: Deployment',
    'metadata:',
    '  name: cert-manager',
    '  namespace: cert-manager',
    '---',
    'apiVersion: kustomize.toolkit.fluxcd.io/v1',
    'kind: Kustomization',
    'metadata:',
    '  name: flux-bootstrap',
    '  namespace: flux-system',
    '',
  ].join('\n')
  const r = run(s, 'kubectl', ['apply', '--server-side', '--field-manager=homelab', '--force-conflicts', '-f', '-'], { input: yaml })
  assert.is(r.code, 0, r.stderr)
  assert.is(
    r.stdout,
    'namespace/cert-manager serverside-applied\n' +
      'deployment.apps/cert-manager serverside-applied\n' +
      'kustomization.kustomize.toolkit.fluxcd.io/flux-bootstrap serverside-applied\n',
  )
  const [call] = s.readLog('kubectl')
  assert.is(call?.stdin, yaml)
  assert.is(call?.stdinClosed, true)
  assert.equal(
    s.readState().applied.map((o) => `${o.kind}/${o.metadata.namespace ?? ''}/${o.metadata.name}`),
    ['Namespace//cert-manager', 'Deployment/cert-manager/cert-manager', 'Kustomization/flux-system/flux-bootstrap'],
  )
})

test('kubectl: bad invocations fail like kubectl', () => {
  const s = shimEnv()
  assert.is(run(s, 'kubectl', ['apply', '--foo']).stderr, "error: unknown flag: --foo\nSee 'kubectl apply --help' for usage.\n")
  assert.is(run(s, 'kubectl', ['apply', '-f']).stderr, "error: flag needs an argument: 'f' in -f\nSee 'kubectl apply --help' for usage.\n")
  assert.is(run(s, 'kubectl', ['apply', '--server-side']).stderr, 'error: must specify one of -f and -k\n')
  assert.is(run(s, 'kubectl', ['apply', '--server-side', '-f', '-']).stderr, 'error: no objects passed to apply\n')
  assert.match(run(s, 'kubectl', ['apply', '--server-side', '-f', '-'], { input: 'foo: bar\n' }).stderr, '[apiVersion not set, kind not set]')
  assert.match(run(s, 'kubectl', ['apply', '--force-conflicts', '-f', '-'], { input: 'x: 1\n' }).stderr, 'only works with --server-side')
  assert.is(run(s, 'kubectl', ['frob']).stderr, 'error: unknown command "frob" for "kubectl"\n')
  assert.match(run(s, 'kubectl', ['delete', 'ns', 'x']).stderr, 'not implemented by the test stand-in')
  assert.is(run(s, 'kubectl', ['config', 'current-context']).stdout, 'homelab-test\n')
  assert.equal(s.readState().applied, [])
})

test('kubectl: SHIM_KUBECTL_FAIL=apply fails and echoes the tokens of its environment', () => {
  const s = shimEnv({ env: { SHIM_KUBECTL_FAIL: 'apply', GITHUB_TOKEN: 'ghp_leak_me_99' } })
  const r = run(s, 'kubectl', ['apply', '--server-side', '-f', '-'], { input: 'apiVersion: v1\nkind: Namespace\nmetadata: {name: a}\n' })
  assert.is(r.code, 1)
  assert.match(r.stderr, 'ghp_leak_me_99')
  assert.equal(s.readState().applied, [])
})

test('kubectl: apply -f - fails instead of hanging when the caller never closes stdin', async () => {
  const s = shimEnv({ env: { SHIM_STDIN_TIMEOUT_MS: '300' } })
  const child = spawn('kubectl', ['apply', '--server-side', '-f', '-'], { env: s.env, stdio: ['pipe', 'pipe', 'pipe'] })
  child.stdin.write('apiVersion: v1\nkind: Namespace\nmetadata: {name: a}\n')
  let stderr = ''
  child.stderr.on('data', (d) => (stderr += d))
  const code = await new Promise<number | null>((resolve) => child.on('close', resolve))
  child.stdin.destroy()
  assert.is(code, 1)
  assert.match(stderr, 'stdin was not closed')
  assert.is(s.readLog()[0]?.stdinClosed, false)
})

test('kubectl: get crd lists the CRDs of SHIM_CRDS_DIR as a List', () => {
  const s = shimEnv({ env: { SHIM_CRDS_DIR: FLUX_CRDS } })
  const r = run(s, 'kubectl', ['get', 'crd', '-o', 'yaml'])
  assert.is(r.code, 0, r.stderr)
  const list = parseAllDocuments(r.stdout)[0]?.toJS()
  assert.is(list.kind, 'List')
  assert.is(list.items.length, 5)
})

test.run()
