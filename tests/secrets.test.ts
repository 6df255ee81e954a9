/**
 * Secrets (issue 7). One sentinel token, set as every token variable at once, runs through the built
 * CLI: bootstrap, publish, diff --repo, validate and crds pull, including flux, kubectl and git
 * failures that echo it. After every run the token must be in none of: stdout, stderr, any file
 * under the homelab folder, the CLI's TMPDIR and HOME (the kept publish clone and its .git/config
 * included; git objects are read decompressed), the commits pushed, the argv or stdin of any child
 * (git spy log, flux/kubectl stand-in logs), the fake cluster; nor percent-encoded or as base64
 * (a Basic auth `user:token`). The environment is hostile: a credential helper in HOME that would
 * store the token, GIT_TRACE_CURL with redaction off, and in some runs DEBUG=* and NODE_DEBUG=*.
 * Then redact() itself, and a guard that output.write() stays the only way to the terminal.
 */
import { execFileSync } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import { chmodSync, existsSync, lstatSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs'
import { createServer } from 'node:net'
import path from 'node:path'
import { inspect } from 'node:util'
import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import { clearSecrets, redact, redactUrl, registerSecret, registerSecretsFromEnv, urlHasPassword } from '../src/redact.js'
import { FLUX_CRDS_DIR, ROOT, minimalHomelab, removeDir, runCli, tempDir, writeFiles } from './helpers/cli.js'
import type { CliResult } from './helpers/cli.js'
import { createGitSpy } from './helpers/git-spy.js'
import type { GitSpy } from './helpers/git-spy.js'
import { findRealGit, startGitServer } from './helpers/git-server.js'
import type { GitServer } from './helpers/git-server.js'
import { SHIMS_DIR, createShimEnv } from './helpers/shims.js'
import type { ShimEnv } from './helpers/shims.js'

/** The token of every run: random, so no fixture or golden file can hold it by chance. */
const SENTINEL = `hlsentinel-${randomBytes(16).toString('hex')}`
/** A token with the characters URLs and Basic auth encode. */
const SPECIAL = `hlsentinel/${randomBytes(8).toString('hex')}+=@:%?#&`
/** A token with the characters JSON.stringify and util.inspect escape: backslash, tab, both quotes and a backtick. */
const ESCAPED = `hlsentinel\\${randomBytes(8).toString('hex')}\t'"\``
const TOKEN_VARS = ['HOMELAB_GIT_TOKEN', 'GITHUB_TOKEN', 'GITLAB_TOKEN', 'GITEA_TOKEN', 'BITBUCKET_TOKEN', 'GIT_PASSWORD']

const b64 = (text: string) => Buffer.from(text).toString('base64')
const lowerHex = (text: string) => text.replace(/%[0-9A-F]{2}/g, (escape) => escape.toLowerCase())

/**
 * Every form of `token` that counts as a leak: itself, percent-encoded (either case of hex), quoted
 * by JSON.stringify or util.inspect (NODE_DEBUG prints environments so; inspect escapes `'` only when
 * it quotes with `'`, which the text around the token decides), and base64. Base64 of any text holding the token (`x-access-token:<token>` in a Basic auth header,
 * whatever the user name) contains one of three strings, one per position of the token in
 * base64's 3-byte groups: the characters that depend only on the token's bytes.
 */
function leakForms(token: string): Array<{ form: string; text: string }> {
  const forms = [{ form: 'the token', text: token }]
  const encoded = encodeURIComponent(token)
  if (encoded !== token) forms.push({ form: 'the token percent-encoded', text: encoded }, { form: 'the token percent-encoded (lower-case hex)', text: lowerHex(encoded) })
  const inspected = inspect(`${token}'"\``).slice(1, -5)
  for (const [form, text] of [['the token in JSON', JSON.stringify(token).slice(1, -1)], ["the token as util.inspect quotes it with '", inspected], ['the token as util.inspect quotes it otherwise', inspected.split("\\'").join("'")]] as const) {
    if (text !== token) forms.push({ form, text })
  }
  const bytes = Buffer.from(token)
  for (const shift of [0, 1, 2]) {
    const text = Buffer.concat([Buffer.alloc(shift, 0x3a), bytes]).toString('base64')
    forms.push({ form: `the token in base64 (offset ${shift})`, text: text.slice(shift === 0 ? 0 : 4, Math.floor((shift + bytes.length) / 3) * 4) })
  }
  return forms
}

/** What a leaky tool prints: the token raw, in a URL, in a Basic auth header, as bare base64 of user:token, percent-encoded. */
function leakLines(token: string): string {
  const encoded = encodeURIComponent(token)
  return [
    `✗ failed to push: https://x-access-token:${token}@github.com/example/manifests.git`,
    `debug: token ${token}`,
    `debug: Authorization: Basic ${b64(`x-access-token:${token}`)}`,
    `debug: credentials ${b64(`git:${token}`)} ${b64(`${token}:x-oauth-basic`)} ${b64(token)}`,
    `debug: form body password=${encoded}&again=${lowerHex(encoded)}`,
    '',
  ].join('\n')
}

interface Surface {
  where: string
  text: string
}

function leaksIn(surfaces: Surface[], token: string): string[] {
  const found: string[] = []
  for (const surface of surfaces) for (const { form, text } of leakForms(token)) if (surface.text.includes(text)) found.push(`${form} in ${surface.where}`)
  return found
}

function isGitDir(dir: string): boolean {
  return existsSync(path.join(dir, 'HEAD')) && existsSync(path.join(dir, 'objects'))
}

/** Every file under `dir`; a git directory also as the text of all its objects (on disk they are compressed). */
function fileSurfaces(dir: string): Surface[] {
  if (!existsSync(dir)) return []
  const surfaces: Surface[] = []
  const visit = (folder: string) => {
    if (isGitDir(folder)) {
      const objects = execFileSync(findRealGit(), ['--git-dir', folder, 'cat-file', '--batch-all-objects', '--batch'], { env: { GIT_CONFIG_NOSYSTEM: '1', HOME: folder }, maxBuffer: 256 * 1024 * 1024 })
      surfaces.push({ where: `the objects of ${folder}`, text: objects.toString('latin1') })
    }
    for (const entry of readdirSync(folder)) {
      const full = path.join(folder, entry)
      const stat = lstatSync(full)
      if (stat.isDirectory()) visit(full)
      else if (stat.isFile()) surfaces.push({ where: full, text: readFileSync(full, 'latin1') })
    }
  }
  visit(dir)
  return surfaces
}

// ---------------------------------------------------------------------------------------------
// A world: a homelab, a CLI HOME and TMPDIR the test owns, the stand-ins, a git spy.

interface World {
  /** Holds `home/` and `tmp/`: every file there is searched. */
  root: string
  home: string
  tmp: string
  /** The homelab (config, templates, and whatever the CLI writes: manifests/, crds/). */
  dir: string
  shim: ShimEnv
  spy: GitSpy
  /** First on PATH: leaky wrappers of flux/kubectl. */
  leakyBin: string
  results: CliResult[]
}

const worlds: World[] = []

async function world(configText: string): Promise<World> {
  const root = tempDir('homelab-secrets-')
  const home = path.join(root, 'home')
  const tmp = path.join(root, 'tmp')
  mkdirSync(tmp)
  // a credential helper that would store the token in ~/.git-credentials if homelab's git used this HOME
  writeFiles(home, { '.gitconfig': '[user]\n\tname = Test\n\temail = test@example.org\n[credential]\n\thelper = store\n' })
  const shim = createShimEnv()
  const leakyBin = path.join(shim.dir, 'leaky')
  mkdirSync(leakyBin)
  const w: World = { root, home, tmp, dir: minimalHomelab(configText), shim, spy: await createGitSpy(), leakyBin, results: [] }
  worlds.push(w)
  return w
}

async function cleanup(): Promise<void> {
  for (const w of worlds.splice(0)) {
    w.shim.cleanup()
    await w.spy.cleanup()
    removeDir(w.root)
    removeDir(w.dir)
  }
}

/**
 * Put a leaky `tool` first on PATH: called as `<tool> <failOn> …` it prints `token` in every form on
 * stdout and stderr, then runs the stand-in with its failure knob and the token in its environment
 * (the stand-in echoes `https://git:<token>@…` and `debug: GITHUB_TOKEN=<token>` too). Other calls
 * go to the stand-in unchanged. CommonJS: the file sits outside this package.
 */
function leaky(w: World, tool: 'flux' | 'kubectl', failOn: string, token = SENTINEL): void {
  const knob = tool === 'flux' ? 'SHIM_FLUX_FAIL' : 'SHIM_KUBECTL_FAIL'
  const file = path.join(w.leakyBin, tool)
  writeFileSync(
    file,
    [
      '#!/usr/bin/env node',
      "'use strict'",
      "const { spawnSync } = require('node:child_process')",
      'const args = process.argv.slice(2)',
      'const env = { ...process.env }',
      // the command past the --context that bootstrap pins in front of it
      `if (args.filter((arg) => !arg.startsWith('--context=')).join(' ').startsWith(${JSON.stringify(failOn)})) {`,
      `  process.stdout.write(${JSON.stringify(leakLines(token))})`,
      `  process.stderr.write(${JSON.stringify(leakLines(token))})`,
      `  env.${knob} = ${JSON.stringify(failOn.split(' ')[0] || (tool === 'flux' ? 'install' : 'get'))}`,
      `  env.GITHUB_TOKEN = ${JSON.stringify(token)}`,
      '}',
      `const result = spawnSync(${JSON.stringify(path.join(SHIMS_DIR, tool))}, args, { stdio: 'inherit', env })`,
      'process.exit(result.status ?? 1)',
      '',
    ].join('\n'),
  )
  chmodSync(file, 0o755)
}

/** Run the built CLI in the homelab with a complete, hostile environment: the token in every variable, git tracing to files. */
async function run(w: World, args: string[], env: Record<string, string> = {}, token = SENTINEL): Promise<CliResult> {
  const result = await runCli(args, {
    cwd: w.dir,
    replaceEnv: true,
    timeoutMs: 120_000,
    env: {
      PATH: [w.leakyBin, w.spy.binDir, w.shim.binDir, w.shim.toolsDir].join(path.delimiter),
      HOME: w.home,
      TMPDIR: w.tmp,
      LANG: 'C',
      NO_COLOR: '1',
      SHIM_LOG: w.shim.logFile,
      SHIM_KUBE_STATE: w.shim.stateFile,
      ...Object.fromEntries(TOKEN_VARS.map((name) => [name, token])),
      // if homelab handed GIT_* to git, these would write the Authorization header into files under TMPDIR
      GIT_TRACE: path.join(w.tmp, 'git-trace.log'),
      GIT_TRACE_CURL: path.join(w.tmp, 'git-curl.log'),
      GIT_TRACE_REDACT: '0',
      GIT_CURL_VERBOSE: '1',
      ...env,
    },
  })
  w.results.push(result)
  return result
}

/**
 * The token, in no form, anywhere the world's runs could have put it. `extra`: more places to
 * search; `inputs`: files the test itself wrote the token into (left out).
 */
function assertNoLeak(w: World, { token = SENTINEL, extra = [], inputs = [] }: { token?: string; extra?: Surface[]; inputs?: string[] } = {}): void {
  const surfaces: Surface[] = [
    ...w.results.flatMap((result, i) => [
      { where: `stdout of run ${i + 1}`, text: result.stdout },
      { where: `stderr of run ${i + 1}`, text: result.stderr },
    ]),
    ...fileSurfaces(w.root),
    ...fileSurfaces(w.dir).filter((surface) => !inputs.includes(surface.where)),
    ...w.spy.calls().map((argv) => ({ where: `the argv of git ${argv.join(' ')}`, text: argv.join('\0') })),
    ...w.shim.readLog().flatMap((call) => [
      { where: `the argv of ${call.tool} ${call.argv.join(' ')}`, text: call.argv.join('\0') },
      { where: `the stdin of ${call.tool} ${call.argv.join(' ')}`, text: call.stdin ?? '' },
    ]),
    { where: 'the fake cluster', text: readFileSync(w.shim.stateFile, 'utf8') },
    ...extra,
  ]
  assert.equal(leaksIn(surfaces, token), [], `no form of the token anywhere\n${w.results.map((r) => r.stdout + r.stderr).join('\n')}`)
}

const masked = (result: CliResult) => `${result.stdout}${result.stderr}`.includes('***')

// ---------------------------------------------------------------------------------------------

const GITHUB_CONFIG = ['cluster:', '  name: test', 'flux:', '  repository: https://github.com/example/manifests.git', 'apps:', '  - template: web', '    bootstrap: true', '  - template: web', '    id: later', ''].join('\n')

const Bootstrap = suite('secrets: bootstrap')
Bootstrap.after.each(cleanup)

Bootstrap('a successful bootstrap hands the token to flux bootstrap through its environment only', async () => {
  const w = await world(GITHUB_CONFIG)
  const result = await run(w, ['bootstrap'])
  assert.is(result.code, 0, result.stderr)
  const calls = w.shim.readLog()
  // past the global flags (--context) bootstrap puts first
  const fluxBootstrap = calls.find((call) => call.tool === 'flux' && call.argv.find((arg) => !arg.startsWith('-')) === 'bootstrap')
  assert.is(fluxBootstrap?.env.GITHUB_TOKEN, SENTINEL, 'the token was in play: flux bootstrap got it')
  for (const call of calls.filter((c) => c !== fluxBootstrap)) {
    assert.equal(call.env, {}, `${call.tool} ${call.argv.join(' ')} got no token in its environment`)
  }
  assertNoLeak(w)
})

Bootstrap('--dry-run shows NAME=*** and runs nothing', async () => {
  const w = await world(GITHUB_CONFIG)
  const result = await run(w, ['bootstrap', '--dry-run'])
  assert.is(result.code, 0, result.stderr)
  assert.match(result.stdout, /GITHUB_TOKEN=\*\*\* flux --context="\$CONTEXT" bootstrap github/)
  assert.equal(w.shim.readLog(), [])
  assertNoLeak(w)
})

const fluxFailures: Array<[string, string, Record<string, string>, string]> = [
  ['flux bootstrap fails, echoing the token', 'bootstrap', {}, SENTINEL],
  ['flux bootstrap fails with DEBUG=*,homelab and NODE_DEBUG=* (execa and node internals)', 'bootstrap', { DEBUG: '*,homelab', NODE_DEBUG: '*' }, SENTINEL],
  ['flux bootstrap fails echoing a token with URL characters', 'bootstrap', {}, SPECIAL],
  ['flux check --pre fails, echoing the token', 'check', {}, SENTINEL],
]
for (const [name, failOn, env, token] of fluxFailures) {
  Bootstrap(name, async () => {
    const w = await world(GITHUB_CONFIG)
    leaky(w, 'flux', failOn, token)
    const result = await run(w, ['bootstrap'], env, token)
    assert.is(result.code, 1, result.stderr)
    assert.ok(masked(result), `the echo reached the output, masked:\n${result.stdout}${result.stderr}`)
    assertNoLeak(w, { token })
  })
}

Bootstrap('kubectl apply fails, echoing the token', async () => {
  const w = await world(GITHUB_CONFIG)
  leaky(w, 'kubectl', 'apply')
  const result = await run(w, ['bootstrap'], { DEBUG: 'homelab' })
  assert.is(result.code, 1, result.stderr)
  assert.match(result.stderr, /error: bootstrap stopped at step "apply web"/)
  assert.ok(masked(result))
  assertNoLeak(w)
})

Bootstrap("NODE_DEBUG=child_process prints each child's environment: a token it has to escape is masked there too", async () => {
  const plainGit = GITHUB_CONFIG.replace('https://github.com/example/manifests.git', 'https://git.example.com/example/manifests.git\n  provider: git')
  for (const [config, name] of [[GITHUB_CONFIG, 'GITHUB_TOKEN'], [plainGit, 'GIT_PASSWORD']]) {
    const w = await world(config as string)
    const result = await run(w, ['bootstrap'], { NODE_DEBUG: 'child_process' }, ESCAPED)
    assert.is(result.code, 0, result.stderr)
    assert.ok(result.stderr.includes(`${name}: '***'`), `the environment of flux bootstrap was printed, masked:\n${result.stderr}`)
    assertNoLeak(w, { token: ESCAPED })
  }
})

Bootstrap('a token pasted into flux.repository is refused at its line, and printed by no step', async () => {
  const w = await world(GITHUB_CONFIG.replace('https://github.com/', `https://x-access-token:${SENTINEL}@github.com/`))
  const inputs = [path.join(w.dir, 'homelab.config.yaml')]
  for (const args of [['bootstrap', '--dry-run'], ['bootstrap']]) {
    const result = await run(w, args)
    assert.is(result.code, 1, result.stderr)
    assert.match(result.stderr, /^error: homelab\.config\.yaml:\d+:\d+: flux\.repository https:\/\/\*\*\*@github\.com\/example\/manifests\.git contains a password\n/)
  }
  assertNoLeak(w, { inputs })
})

Bootstrap.run()

// ---------------------------------------------------------------------------------------------

const git = {} as { server: GitServer; other: GitServer; repos: number }

const gitConfig = (repository: string) => ['cluster:', '  name: test', 'flux:', `  repository: ${repository}`, '  branch: main', 'apps:', '  - template: web', ''].join('\n')

async function newRepo(server: GitServer): Promise<string> {
  const name = `manifests-${++git.repos}`
  await server.createRepo(name, { 'README.md': '# manifests\n' })
  return name
}

/** The bare repository on the server: its files and, decompressed, the commits pushed. */
const pushed = (server: GitServer, repo: string) => fileSurfaces(path.join(server.root, `${repo}.git`))

/** A port nothing listens on. */
async function closedPort(): Promise<number> {
  const server = createServer()
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const { port } = server.address() as { port: number }
  await new Promise((resolve) => server.close(resolve))
  return port
}

const Git = suite('secrets: publish and diff --repo against a real git server')
Git.before(async () => {
  git.server = await startGitServer({ token: SENTINEL })
  git.other = await startGitServer({ token: `other-${randomBytes(8).toString('hex')}` })
  git.repos = 0
})
Git.after.each(cleanup)
Git.after(async () => {
  await git.server.close()
  await git.other.close()
})

Git('a publish pushes with the token; the kept clone, its .git/config and HOME hold no trace of it', async () => {
  const repo = await newRepo(git.server)
  const w = await world(gitConfig(git.server.url(repo)))
  const requests = git.server.requests.length
  const result = await run(w, ['publish'], { DEBUG: '*,homelab', NODE_DEBUG: '*' })
  assert.is(result.code, 0, result.stderr)
  assert.ok(git.server.requests.slice(requests).some((r) => r.authorized), 'the token was in play: the server let it in')
  assert.is((await git.server.log(repo)).length, 2, 'pushed')
  const kept = /debug: keeping the clone in (\S+)/.exec(result.stderr)?.[1] ?? ''
  assert.ok(kept.startsWith(w.tmp), result.stderr)
  assert.ok(fileSurfaces(w.tmp).some((s) => s.where === path.join(kept, 'repo', '.git', 'config')), '.git/config was searched')
  assert.not.ok(existsSync(path.join(w.home, '.git-credentials')), 'no credential helper stored it')
  assertNoLeak(w, { extra: pushed(git.server, repo) })
})

Git('publish --dry-run', async () => {
  const repo = await newRepo(git.server)
  const w = await world(gitConfig(git.server.url(repo)))
  const result = await run(w, ['publish', '--dry-run'])
  assert.is(result.code, 0, result.stderr)
  assert.match(result.stdout, /dry run: /)
  assertNoLeak(w)
})

Git('a wrong token (also one with URL characters) fails without printing it', async () => {
  const repo = await newRepo(git.other)
  const w = await world(gitConfig(git.other.url(repo)))
  const requests = git.other.requests.length
  const result = await run(w, ['publish'])
  assert.is(result.code, 1)
  assert.match(result.stderr, /Authentication failed/)
  assert.ok(git.other.requests.slice(requests).some((r) => r.status === 401 && r.username === 'x-access-token'), 'the token was sent and refused')
  assertNoLeak(w)

  const special = await world(gitConfig(git.server.url(await newRepo(git.server))))
  const again = await run(special, ['publish'], {}, SPECIAL)
  assert.is(again.code, 1)
  assertNoLeak(special, { token: SPECIAL })
})

Git('a push hook that rejects the push and echoes the token', async () => {
  const repo = await newRepo(git.server)
  const hook = path.join(git.server.root, `${repo}.git`, 'hooks', 'pre-receive')
  writeFileSync(hook, `#!/bin/sh\ncat >/dev/null\ncat >&2 <<'EOF'\n${leakLines(SENTINEL)}EOF\nexit 1\n`, { mode: 0o755 })
  const w = await world(gitConfig(git.server.url(repo)))
  const result = await run(w, ['publish'], { DEBUG: 'homelab' })
  assert.is(result.code, 1, result.stderr)
  assert.match(result.stderr, /error: git push to .* failed: ✗ failed to push: https:\/\/\*\*\*@github\.com/, 'the hook\'s reason, masked')
  assert.is((await git.server.log(repo)).length, 1, 'nothing landed')
  assertNoLeak(w)
})

Git("publish with NODE_DEBUG=child_process: a token it has to escape is masked in the environments it prints", async () => {
  const server = await startGitServer({ token: ESCAPED })
  try {
    const w = await world(gitConfig(server.url(await newRepo(server))))
    const result = await run(w, ['publish', '--dry-run'], { NODE_DEBUG: 'child_process' }, ESCAPED)
    assert.is(result.code, 0, result.stderr)
    assert.ok(result.stderr.includes("HOMELAB_GIT_TOKEN: '***'"), `the environment of git was printed, masked:\n${result.stderr}`)
    assertNoLeak(w, { token: ESCAPED })
  } finally {
    await server.close()
  }
})

Git('the git server is down', async () => {
  const w = await world(gitConfig('https://example.invalid/not-used.git'))
  const result = await run(w, ['publish', '--repo', `http://127.0.0.1:${await closedPort()}/manifests.git`])
  assert.is(result.code, 1)
  assert.match(result.stderr, /error: git clone of http:\/\/127\.0\.0\.1:\d+\/manifests\.git \(branch main\) failed/)
  assertNoLeak(w)
})

Git('diff --repo clones with the token; a wrong token fails cleanly', async () => {
  const repo = await newRepo(git.server)
  const w = await world(gitConfig(git.server.url(repo)))
  const result = await run(w, ['diff', '--repo'])
  assert.is(result.code, 3, result.stderr)
  assert.match(result.stdout, /\+ web: added/)
  const wrong = await run(w, ['diff', '--repo', git.other.url(await newRepo(git.other))])
  assert.is(wrong.code, 1)
  assertNoLeak(w)
})

Git.run()

// ---------------------------------------------------------------------------------------------

const Offline = suite('secrets: validate and crds pull with a flux that echoes the token')
Offline.after.each(cleanup)

Offline('validate (text, json, and failing --strict) with a leaky flux on PATH', async () => {
  const w = await world(GITHUB_CONFIG)
  leaky(w, 'flux', '')
  assert.is((await run(w, ['validate'])).code, 0)
  assert.is((await run(w, ['validate', '--format', 'json'])).code, 0)
  const strict = await run(w, ['validate', '--strict'])
  assert.is(strict.code, 1, strict.stdout)
  assertNoLeak(w)
})

Offline('crds pull: flux install --export fails, echoing the token', async () => {
  const w = await world(GITHUB_CONFIG)
  leaky(w, 'flux', 'install')
  const result = await run(w, ['crds', 'pull'], { NODE_DEBUG: 'execa' })
  assert.is(result.code, 1)
  assert.ok(masked(result), result.stderr)
  assert.not.ok(existsSync(path.join(w.dir, 'crds')), 'nothing written')
  assertNoLeak(w)
})

Offline('crds pull: an export that carries the token is written masked', async () => {
  const w = await world(GITHUB_CONFIG)
  const exportDir = path.join(w.shim.dir, 'export')
  mkdirSync(exportDir)
  const crd = readFileSync(path.join(FLUX_CRDS_DIR, 'source.toolkit.fluxcd.io_gitrepositories.yaml'), 'utf8')
  writeFileSync(path.join(exportDir, 'crd.yaml'), crd.replace(/^  annotations:\n/m, `  annotations:\n    test/leak: ${JSON.stringify(leakLines(SENTINEL))}\n`))
  const result = await run(w, ['crds', 'pull'], { SHIM_FLUX_EXPORT_DIR: exportDir })
  assert.is(result.code, 0, result.stderr)
  const written = readFileSync(path.join(w.dir, 'crds', 'flux.yaml'), 'utf8')
  assert.ok(written.includes('test/leak:') && written.includes('https://***@github.com'), 'the token was in play, and masked')
  assert.equal(w.shim.readLog('flux').map((call) => call.env), [{}], 'flux install got none of the tokens')
  assertNoLeak(w)
})

Offline('crds pull --from-cluster: kubectl get fails, echoing the token', async () => {
  const w = await world(GITHUB_CONFIG)
  leaky(w, 'kubectl', 'get')
  const result = await run(w, ['crds', 'pull', '--from-cluster'])
  assert.is(result.code, 1)
  assert.ok(masked(result), result.stderr)
  assertNoLeak(w)
})

Offline.run()

// ---------------------------------------------------------------------------------------------

const Redact = suite('redact: every form of a registered token')
Redact.before.each(clearSecrets)
Redact.after(clearSecrets)

const noForm = (text: string, token: string) => assert.equal(leaksIn([{ where: JSON.stringify(text), text }], token), [])

Redact('(self-check) the leak detector sees every form it must', () => {
  for (const text of [SPECIAL, encodeURIComponent(SPECIAL), lowerHex(encodeURIComponent(SPECIAL)), ...['x-access-token', 'git', '', 'ab'].map((user) => b64(`${user}:${SPECIAL}`))]) {
    assert.ok(leaksIn([{ where: 'x', text: `before ${text} after` }], SPECIAL).length > 0, text)
  }
})

Redact('the token alone, in a URL, in a sentence', () => {
  registerSecret(SENTINEL)
  for (const text of [SENTINEL, `https://x:${SENTINEL}@github.com/a/b.git`, `https://${SENTINEL}@github.com`, `token=${SENTINEL}; again ${SENTINEL}`]) {
    const out = redact(text)
    noForm(out, SENTINEL)
    assert.ok(out.includes('***'), out)
  }
  assert.is(redact(`https://x:${SENTINEL}@github.com/a/b.git`), 'https://***@github.com/a/b.git')
})

Redact('credentials in URLs are hidden even when unregistered; ssh git@ stays', () => {
  assert.is(redact('clone https://bot:unregistered-pass@host/x.git'), 'clone https://***@host/x.git')
  assert.is(redact('ssh://git@github.com/a/b'), 'ssh://git@github.com/a/b')
})

Redact('a password in a URL is hidden whole, / and @ in it too; ports, paths and ssh git@ stay', () => {
  for (const [text, shown] of [
    ["unable to access 'https://x:hunter2/secret@127.0.0.1:1/m.git/': bad", "unable to access 'https://***@127.0.0.1:1/m.git/': bad"],
    ['clone of https://x:hun@ter2secret@127.0.0.1:1/m.git failed', 'clone of https://***@127.0.0.1:1/m.git failed'],
    ['https://x:pw@a/x and https://y:pw/2@b/y', 'https://***@a/x and https://***@b/y'],
    ['https://host:8443/org/repo.git', 'https://host:8443/org/repo.git'],
    ['ssh://git@host:22/repo.git', 'ssh://git@host:22/repo.git'],
    ['git@github.com:org/repo.git', 'git@github.com:org/repo.git'],
    ['https://host/a/b@c, mail x@y', 'https://host/a/b@c, mail x@y'],
    ['https://bot@host/a@b', 'https://***@host/a@b'],
  ]) {
    assert.is(redact(text as string), shown)
  }
  assert.ok(urlHasPassword('https://x:hunter2/secret@host/m.git') && urlHasPassword('https://x:hun@ter2@host/m.git'))
  assert.not.ok(urlHasPassword('https://host:8443/org/repo.git') || urlHasPassword('ssh://git@host:22/repo.git') || urlHasPassword('https://bot@host/x.git'))
  assert.is(redactUrl("https://x:it's \"pw@host/m.git"), 'https://***@host/m.git')
})

Redact('Authorization headers: Basic, Bearer, token', () => {
  registerSecret(SENTINEL)
  for (const scheme of ['Basic', 'Bearer', 'token']) {
    const value = scheme === 'Basic' ? b64(`x-access-token:${SENTINEL}`) : SENTINEL
    const out = redact(`> Authorization: ${scheme} ${value}\r\n`)
    assert.is(out, `> Authorization: ${scheme} ***\r\n`)
  }
  assert.is(redact('authorization: basic dW5yZWdpc3RlcmVkOnNlY3JldA=='), 'authorization: basic ***')
})

Redact('base64 of user:token for any user, and of the token at any offset', () => {
  registerSecret(SPECIAL)
  for (const user of ['x-access-token', 'git', 'oauth2', 'x', '', 'a-much-longer-user-name']) {
    for (const credential of [`${user}:${SPECIAL}`, `${user}:${SPECIAL}\n`, `${SPECIAL}:${user}`]) {
      const out = redact(`credentials ${b64(credential)} end`)
      noForm(out, SPECIAL)
      assert.ok(out.includes('***'), out)
    }
  }
})

Redact('percent-encoded, with upper- and lower-case hex', () => {
  registerSecret(SPECIAL)
  const encoded = encodeURIComponent(SPECIAL)
  assert.is.not(encoded, SPECIAL)
  for (const text of [`password=${encoded}`, `password=${lowerHex(encoded)}`, `https://x:${encoded}@host/`]) noForm(redact(text), SPECIAL)
})

Redact('the token as JSON.stringify and util.inspect quote it, once or twice, whichever quote they pick', () => {
  const hex = randomBytes(8).toString('hex')
  // inspect quotes the first with ', escaping it; the second with " and the third with `, leaving ' as it is
  const tokens = [ESCAPED, `hlsentinel\\${hex}\u0001'x`, `hlsentinel\t${hex}'"\u007f`]
  for (const token of tokens) registerSecret(token)
  for (const token of tokens) {
    const data = { env: { TOKEN: token }, envPairs: [`TOKEN=${token}`] }
    for (const text of [JSON.stringify(data), inspect(data), inspect(JSON.stringify(data)), JSON.stringify(inspect(data)), JSON.stringify(JSON.stringify(data))]) {
      const out = redact(text)
      noForm(out, token)
      assert.not.ok(out.includes('hlsentinel'), `hidden whole: ${out}`)
      assert.ok(out.includes('***'), out)
    }
  }
})

Redact('a secret containing another is hidden whole; short values and plain text are left alone', () => {
  registerSecret('abcd1234')
  registerSecret('xx-abcd1234-yy')
  assert.is(redact('a xx-abcd1234-yy b abcd1234 c'), 'a *** b *** c')
  registerSecret('abc')
  assert.is(redact('abc and nothing else'), 'abc and nothing else')
  assert.is(redact('apiVersion: v1\nkind: ConfigMap\n'), 'apiVersion: v1\nkind: ConfigMap\n')
})

Redact('registerSecretsFromEnv takes every token variable', () => {
  registerSecretsFromEnv(Object.fromEntries(TOKEN_VARS.map((name) => [name, `${name.toLowerCase()}-value-0123`])))
  for (const name of TOKEN_VARS) assert.is(redact(`${name.toLowerCase()}-value-0123`), '***', name)
})

Redact.run()

// ---------------------------------------------------------------------------------------------

const Funnel = suite('the CLI output funnel is the only way to the terminal')

function sources(dir = path.join(ROOT, 'src')): Array<{ file: string; text: string }> {
  return (readdirSync(dir, { recursive: true }) as string[])
    .filter((file) => file.endsWith('.ts'))
    .sort()
    .map((file) => ({ file: `src/${file.split(path.sep).join('/')}`, text: readFileSync(path.join(dir, file), 'utf8') }))
}

/** Each allowed direct write, and where. */
const ALLOWED_WRITES = [
  { file: 'src/cli/output.ts', call: 'stream.write(redact(text))' },
  { file: 'src/cli/main.ts', call: 'process.stdout.write(`homelab ${version()}\\n`)' },
]

Funnel('no source writes to stdout or stderr except output.write() (and the --version line)', () => {
  const violations: string[] = []
  for (const { file, text } of sources()) {
    text.split('\n').forEach((line, i) => {
      const at = `${file}:${i + 1}: ${line.trim()}`
      if (/\bconsole\s*\.\s*\w+/.test(line)) violations.push(`console: ${at}`)
      if (/\.write\s*\(/.test(line) && !ALLOWED_WRITES.some((allowed) => allowed.file === file && line.includes(allowed.call))) violations.push(`write: ${at}`)
      if (/writeSync\s*\(\s*[12]\b|\/dev\/(stdout|stderr|tty)/.test(line)) violations.push(`fd 1/2: ${at}`)
      // a child with the terminal as its stdout writes past the funnel: only exec's interactive mode, which gets no secret
      if (/['"]inherit['"]/.test(line) && file !== 'src/exec.ts') violations.push(`inherited stdio: ${at}`)
      // the streams themselves may only be handed to the funnel (write/warn/red/yellow) or watched for EPIPE
      for (const match of line.matchAll(/process\.(stdout|stderr)\b(.?)/g)) {
        const next = match[2] ?? ''
        const handed = next === ')' || next === ','
        const ok = handed || file === 'src/cli/output.ts' || (file === 'src/cli/index.ts' && line.includes('for (const stream of [process.stdout, process.stderr])')) || (file === 'src/cli/main.ts' && line.includes(ALLOWED_WRITES[1]?.call ?? ''))
        if (!ok) violations.push(`stream: ${at}`)
      }
    })
  }
  assert.equal(violations, [], 'every print goes through src/cli/output.ts write(), which redacts')
})

Funnel('write() redacts; before a command runs the CLI registers the tokens and redacts the streams; exec keeps execa quiet', () => {
  const output = readFileSync(path.join(ROOT, 'src/cli/output.ts'), 'utf8')
  assert.match(output, /export function write\([^)]*\): void \{\n\s*stream\.write\(redact\(text\)\)\n\}/)
  const index = readFileSync(path.join(ROOT, 'src/cli/index.ts'), 'utf8')
  for (const call of ['registerSecretsFromEnv()', 'redactStreams()']) {
    const at = index.indexOf(call)
    assert.ok(at > 0 && at < index.indexOf('cli.parse(') && at < index.indexOf('runMatchedCommand'), `${call} before any command runs`)
  }
  const exec = readFileSync(path.join(ROOT, 'src/exec.ts'), 'utf8')
  assert.is(exec.match(/['"]inherit['"]/g)?.length, 1, 'one interactive mode')
  assert.match(exec, /verbose: 'none'/, 'NODE_DEBUG=execa must not print children\'s raw output')
})

Funnel.run()
