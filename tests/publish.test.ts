/**
 * `homelab publish` end to end: the built CLI against a real smart-HTTP git
 * server (git http-backend behind Basic auth), with a logging git first on
 * PATH and TMPDIR in a test-owned folder, so every git argv and every temp
 * clone can be searched for the token.
 */
import { execFileSync } from 'node:child_process'
import { existsSync, mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs'
import path from 'node:path'
import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import { checkRemote, gitFailure, isRaceRejection, readUncommitted, remoteKind } from '../src/git.js'
import { removedApps } from '../src/publish.js'
import type { CliResult } from './helpers/cli.js'
import { minimalHomelab, readTree, removeDir, runCli, tempDir, writeFiles } from './helpers/cli.js'
import { createGitSpy } from './helpers/git-spy.js'
import type { GitSpy } from './helpers/git-spy.js'
import { findRealGit, startGitServer } from './helpers/git-server.js'
import type { GitServer } from './helpers/git-server.js'

const TOKEN = 'hlt-SENTINEL-7f3a9c1e5b'
const FLUX_FILES = {
  'README.md': '# manifests\n\nWritten by hand; homelab publish must leave it alone.\n',
  'flux/flux-system/gotk-components.yaml': '# written by flux bootstrap\napiVersion: v1\nkind: Namespace\nmetadata:\n  name: flux-system\n',
  'flux/flux-system/gotk-sync.yaml': '# written by flux bootstrap\n',
}

interface Ctx {
  server: GitServer
  spy: GitSpy
  /** TMPDIR of every publish: the temp clones land here. */
  tmp: string
  /** Every CLI result, for the token search at the end. */
  results: CliResult[]
  dirs: string[]
  repos: number
}

const ctx = {} as Ctx

/** Config text: apps `web` instances with these ids (greeting = the value), pushed to `repository`. */
function config(repository: string, apps: Record<string, string>): string {
  const lines = ['cluster:', '  name: test', 'flux:', `  repository: ${repository}`, '  branch: main', 'apps:']
  for (const [id, greeting] of Object.entries(apps)) lines.push('  - template: web', `    id: ${id}`, `    options: { greeting: ${greeting} }`)
  if (Object.keys(apps).length === 0) lines.push('  - template: web', '    enabled: false')
  return `${lines.join('\n')}\n`
}

function homelab(repository: string, apps: Record<string, string>): string {
  const dir = minimalHomelab(config(repository, apps))
  ctx.dirs.push(dir)
  return dir
}

async function newRepo(files: Record<string, string> = FLUX_FILES): Promise<string> {
  const name = `manifests-${++ctx.repos}`
  await ctx.server.createRepo(name, files)
  return name
}

async function publish(cwd: string, args: string[] = [], env: NodeJS.ProcessEnv = {}): Promise<CliResult> {
  const result = await runCli(['publish', ...args], {
    cwd,
    timeoutMs: 120_000,
    env: { HOMELAB_GIT_TOKEN: TOKEN, TMPDIR: ctx.tmp, PATH: ctx.spy.pathWith(), GIT_AUTHOR_NAME: 'Ada', GIT_AUTHOR_EMAIL: 'ada@example.org', ...env },
  })
  ctx.results.push(result)
  return result
}

/** What `homelab render` writes for the homelab in `dir`: path → content. */
async function rendered(dir: string): Promise<Map<string, string>> {
  const out = tempDir('homelab-publish-expected-')
  ctx.dirs.push(out)
  const result = await runCli(['render', '--out', out], { cwd: dir })
  assert.is(result.code, 0, result.stderr)
  return readTree(out)
}

/** git run directly on a bare repository of the server (the real git, not the spy). */
function bareGit(repo: string, ...args: string[]): string {
  return execFileSync(findRealGit(), ['--git-dir', path.join(ctx.server.root, `${repo}.git`), ...args], { encoding: 'utf8' })
}

function filesUnder(dir: string): string[] {
  const out: string[] = []
  for (const entry of readdirSync(dir, { recursive: true }) as string[]) {
    const full = path.join(dir, entry)
    if (statSync(full).isFile()) out.push(full)
  }
  return out
}

/** The real git in `dir`, with no user or system config. */
function sourceGit(dir: string, ...args: string[]): string {
  const env = { ...process.env, GIT_CONFIG_GLOBAL: '/dev/null', GIT_CONFIG_NOSYSTEM: '1', GIT_AUTHOR_NAME: 'S', GIT_AUTHOR_EMAIL: 's@x', GIT_COMMITTER_NAME: 'S', GIT_COMMITTER_EMAIL: 's@x' }
  return execFileSync(findRealGit(), args, { cwd: dir, env, encoding: 'utf8' })
}

/** Commit everything in `dir` (a new git repository unless it is one), as the source repo of a CI run is; return the sha. */
function commitSource(dir: string, subject: string): string {
  if (!existsSync(path.join(dir, '.git'))) sourceGit(dir, 'init', '-q')
  sourceGit(dir, 'add', '-A')
  sourceGit(dir, 'commit', '-q', '-m', subject)
  return sourceGit(dir, 'rev-parse', 'HEAD').trim()
}

/** The message of the newest commit of a repository of the server. */
const lastMessage = (repo: string) => bareGit(repo, 'log', '-1', '--format=%B').trim()
const UNCOMMITTED = /^warning: the render includes uncommitted changes of the source repository: (.*)$/m

const Publish = suite('homelab publish against a real git server')

Publish.before(async () => {
  ctx.server = await startGitServer({ token: TOKEN })
  ctx.spy = await createGitSpy()
  ctx.tmp = tempDir('homelab-publish-tmp-')
  ctx.results = []
  ctx.dirs = []
  ctx.repos = 0
})

Publish.after(async () => {
  await ctx.server.close()
  await ctx.spy.cleanup()
  removeDir(ctx.tmp)
  for (const dir of ctx.dirs) removeDir(dir)
})

Publish('the first publish commits exactly the render and keeps every other file of the repository', async () => {
  const repo = await newRepo()
  const dir = homelab(ctx.server.url(repo), { web: 'hello', api: 'hi' })
  const sourceSha = commitSource(dir, 'Add the api app')
  const result = await publish(dir)
  assert.is(result.code, 0, result.stderr)
  for (const step of [/✔ render: 2 apps/, /✔ clone http:\/\/127\.0\.0\.1:\d+\/manifests-\d+\.git \(branch main\)/, /✔ sync apps\/: \d+ added, 0 changed, 0 removed/, /✔ commit [0-9a-f]{7} Add the api app/, /✔ push to main \((\d+ ms|\d+\.\d s)\)/]) {
    assert.match(result.stdout, step)
  }

  const expected = await rendered(dir)
  const files = await ctx.server.listFiles(repo)
  assert.equal(files, [...Object.keys(FLUX_FILES), ...expected.keys()].sort(), 'the render plus the files that were there')
  for (const [file, content] of expected) assert.is(await ctx.server.readFile(repo, file), content, file)
  for (const [file, content] of Object.entries(FLUX_FILES)) assert.is(await ctx.server.readFile(repo, file), content, `${file} untouched`)

  const log = await ctx.server.log(repo)
  assert.is(log.length, 2)
  assert.equal(log[0]?.parents, [log[1]?.sha])
  assert.is(bareGit(repo, 'log', '-1', '--format=%B').trim(), `Add the api app\n\nSource: ${sourceSha}`)
  assert.is(bareGit(repo, 'log', '-1', '--format=%an <%ae>').trim(), 'Ada <ada@example.org>')
  assert.equal(readdirSync(ctx.tmp), [], 'the temp clone is removed')

  // the same render again: nothing to commit, no commit
  const again = await publish(dir)
  assert.is(again.code, 0, again.stderr)
  assert.match(again.stdout, /already holds this render: nothing to commit/)
  assert.not.match(again.stdout, /✔ commit/)
  assert.is((await ctx.server.log(repo)).length, 2, 'no new commit')
})

Publish('three publishes of different renders at the same moment all land, in a linear history, none forced', async () => {
  const repo = await newRepo()
  const dirs = ['one', 'two', 'three'].map((greeting) => homelab(ctx.server.url(repo), { web: greeting }))
  await ctx.spy.reset()
  const results = await Promise.all(dirs.map((dir, i) => publish(dir, ['--message', `render ${i}`])))
  for (const result of results) assert.is(result.code, 0, result.stderr + result.stdout)

  const log = await ctx.server.log(repo)
  assert.is(log.length, 4, 'the initial commit and three publishes')
  assert.equal(log.slice(0, 3).map((c) => c.subject).sort(), ['render 0', 'render 1', 'render 2'])
  for (let i = 0; i < log.length - 1; i++) assert.equal(log[i]?.parents, [log[i + 1]?.sha as string], `commit ${i} sits on the previous head`)
  const pushes = ctx.spy.calls().filter((argv) => argv.includes('push'))
  assert.ok(pushes.length >= 3)
  for (const argv of pushes) {
    assert.not.ok(argv.some((arg) => /^(-f|--force.*|\+.*)$/.test(arg) || arg.includes(':+')), `never forced: ${argv.join(' ')}`)
  }
  // the head holds the render of the last publish to land, whole
  const last = log[0]?.subject.split(' ')[1]
  const expected = await rendered(dirs[Number(last)] as string)
  for (const [file, content] of expected) assert.is(await ctx.server.readFile(repo, file), content, file)
})

Publish('an app taken out of the config disappears from the repository and is named', async () => {
  const repo = await newRepo()
  const dir = homelab(ctx.server.url(repo), { web: 'hello', api: 'hi' })
  assert.is((await publish(dir)).code, 0)
  const smaller = homelab(ctx.server.url(repo), { web: 'hello' })
  const result = await publish(smaller)
  assert.is(result.code, 0, result.stderr)
  assert.match(result.stderr, /Flux will prune everything of api/)
  assert.match(result.stdout, /  - apps\/api\/configmap\.yaml/)
  assert.match(result.stdout, /  - apps\/flux\/api\.yaml/)
  const files = await ctx.server.listFiles(repo)
  assert.not.ok(files.some((file) => file.startsWith('apps/api/') || file === 'apps/flux/api.yaml'), files.join('\n'))
  assert.ok(files.includes('apps/web/configmap.yaml'))
  assert.ok(files.includes('flux/flux-system/gotk-components.yaml'))
})

Publish('a render with no app is refused unless --allow-empty', async () => {
  const repo = await newRepo()
  assert.is((await publish(homelab(ctx.server.url(repo), { web: 'hello' }))).code, 0)
  const empty = homelab(ctx.server.url(repo), {})
  const requests = ctx.server.requests.length
  const refused = await publish(empty)
  assert.is(refused.code, 1)
  assert.match(refused.stderr, /^error: homelab\.config\.yaml has no app for Flux to reconcile: publishing it would make Flux prune every app of the cluster\nhint: .*--allow-empty/m)
  assert.is(ctx.server.requests.length, requests, 'not even cloned')
  assert.is((await ctx.server.log(repo)).length, 2)
  // the switch written out as false keeps the guard on
  for (const off of [['--allow-empty=false'], ['--allow-empty', 'false']]) {
    const stillRefused = await publish(empty, off)
    assert.is(stillRefused.code, 1, off.join(' '))
    assert.match(stillRefused.stderr, /has no app for Flux to reconcile/)
  }
  const unclear = await publish(empty, ['--allow-empty=no'])
  assert.is(unclear.code, 2, unclear.stderr)
  assert.match(unclear.stderr, /^error: --allow-empty is a switch: give it alone, or as --allow-empty=true or --allow-empty=false \(not "no"\)/)
  assert.is(ctx.server.requests.length, requests, 'still not cloned')

  const allowed = await publish(empty, ['--allow-empty'])
  assert.is(allowed.code, 0, allowed.stderr)
  assert.match(allowed.stderr, /Flux will prune everything of web/)
  assert.not.ok((await ctx.server.listFiles(repo)).some((file) => file.startsWith('apps/web/')))
})

Publish('a wrong token fails with exit 1 and a clear error; nothing is pushed', async () => {
  const repo = await newRepo()
  const dir = homelab(ctx.server.url(repo), { web: 'hello' })
  const wrong = 'wrong-SENTINEL-token-4242'
  const result = await publish(dir, [], { HOMELAB_GIT_TOKEN: wrong })
  assert.is(result.code, 1)
  assert.match(result.stderr, /^error: git clone of http:\/\/127\.0\.0\.1:\d+\/manifests-\d+\.git \(branch main\) failed: Authentication failed/m)
  assert.match(result.stderr, /^hint: set HOMELAB_GIT_TOKEN to a token with read and write access/m)
  assert.not.ok((result.stdout + result.stderr).includes(wrong), 'the wrong token is not printed either')
  assert.is((await ctx.server.log(repo)).length, 1, 'nothing pushed')
  assert.ok(ctx.server.requests.some((r) => r.status === 401))
})

/** A pre-receive hook on the server's bare repository that prints `message` on stderr and refuses every push. */
function refusingHook(repo: string, message: string): void {
  writeFileSync(path.join(ctx.server.root, `${repo}.git`, 'hooks', 'pre-receive'), `#!/bin/sh\ncat >/dev/null\nprintf '%s\\n' '${message}' >&2\nexit 1\n`, { mode: 0o755 })
}

Publish('a push the server refuses says why, in one line, and is not retried', async () => {
  const repo = await newRepo()
  refusingHook(repo, 'error: GH006: Protected branch update failed for refs/heads/main.')
  const dir = homelab(ctx.server.url(repo), { web: 'hello' })
  const before = ctx.spy.calls().length
  const result = await publish(dir)
  assert.is(result.code, 1)
  assert.match(result.stderr, /^error: git push to http:\/\/127\.0\.0\.1:\d+\/manifests-\d+\.git \(branch main\) failed: GH006: Protected branch update failed for refs\/heads\/main\. \(pre-receive hook declined\)\n/m)
  assert.is(ctx.spy.calls().slice(before).filter((argv) => argv.includes('push')).length, 1, 'a refusal is no race: one push')
  assert.is((await ctx.server.log(repo)).length, 1, 'nothing landed')

  // a server that explains without error: lines
  refusingHook(repo, 'GitLab: You are not allowed to push code to protected branches on this project.')
  const gitlab = await publish(dir)
  assert.is(gitlab.code, 1)
  assert.match(gitlab.stderr, /failed: GitLab: You are not allowed to push code to protected branches on this project\. \(pre-receive hook declined\)\n/)
})

Publish("a push into a non-bare repository's checked-out branch says so", async () => {
  const target = tempDir('homelab-publish-nonbare-')
  ctx.dirs.push(target)
  writeFileSync(path.join(target, 'README.md'), '# manifests\n')
  execFileSync(findRealGit(), ['init', '-q', '-b', 'main'], { cwd: target })
  commitSource(target, 'init')
  const result = await publish(homelab('https://example.invalid/not-used.git', { web: 'hello' }), ['--repo', target], { HOMELAB_GIT_TOKEN: '' })
  assert.is(result.code, 1)
  assert.match(result.stderr, /^error: git push to .* \(branch main\) failed: refusing to update checked out branch: refs\/heads\/main.* \(branch is currently checked out\)\n/m)
})

Publish('--dry-run shows the files that would change and commits nothing', async () => {
  const repo = await newRepo()
  assert.is((await publish(homelab(ctx.server.url(repo), { web: 'hello', api: 'hi' }))).code, 0)
  const changed = homelab(ctx.server.url(repo), { web: 'bonjour', db: 'hey' })
  const before = ctx.spy.calls().length
  const result = await publish(changed, ['--dry-run'])
  assert.is(result.code, 0, result.stderr)
  assert.match(result.stdout, /^  \+ apps\/db\/configmap\.yaml$/m)
  assert.match(result.stdout, /^  ~ apps\/web\/configmap\.yaml$/m)
  assert.match(result.stdout, /^  - apps\/api\/configmap\.yaml$/m)
  assert.match(result.stderr, /Flux will prune everything of api/)
  assert.match(result.stdout, /dry run: \d+ files would change in .*; nothing committed/)
  assert.not.match(result.stdout, /✔ (commit|push)/)
  assert.is((await ctx.server.log(repo)).length, 2, 'no commit')
  const calls = ctx.spy.calls().slice(before)
  assert.ok(calls.some((argv) => argv.includes('clone')))
  assert.not.ok(calls.some((argv) => argv.includes('commit') || argv.includes('push')), 'neither commit nor push ran')
})

Publish('a render error stops before anything is cloned or pushed', async () => {
  const repo = await newRepo()
  const dir = homelab(ctx.server.url(repo), { web: 'hello' })
  const broken = minimalHomelab(config(ctx.server.url(repo), { web: 'hello' }), { 'templates/web/configmap.yaml.hbs': 'kind: ConfigMap\nmetadata: {{nope}}\n' })
  ctx.dirs.push(broken, dir)
  const requests = ctx.server.requests.length
  const result = await publish(broken)
  assert.is(result.code, 1)
  assert.match(result.stderr, /^error: .*configmap\.yaml\.hbs/m)
  assert.is(ctx.server.requests.length, requests, 'no request reached the server')
  assert.is((await ctx.server.log(repo)).length, 1)
})

Publish('a local path works as the repository (no token needed)', async () => {
  const repo = await newRepo()
  const dir = homelab('https://example.invalid/not-used.git', { web: 'hello' })
  const result = await publish(dir, ['--repo', path.join(ctx.server.root, `${repo}.git`)], { HOMELAB_GIT_TOKEN: '' })
  assert.is(result.code, 0, result.stderr)
  assert.ok((await ctx.server.listFiles(repo)).includes('apps/web/configmap.yaml'))
})

Publish('a password in the repository URL is refused without printing it', async () => {
  const dir = homelab('https://example.invalid/not-used.git', { web: 'hello' })
  const result = await publish(dir, ['--repo', `https://bot:${TOKEN}@127.0.0.1:1/x.git`])
  assert.is(result.code, 1)
  assert.match(result.stderr, /^error: the repository URL https:\/\/\*\*\*@127\.0\.0\.1:1\/x\.git contains a password/m)
  // a password with / or @ in it: no URL parser splits it where the user meant, so all of it up to the last @ counts
  const before = ctx.spy.calls().length
  for (const password of ['hunter2/secret-PW', 'hun@ter2secret-PW', "it's/a\"secret-PW"]) {
    const refused = await publish(dir, ['--repo', `https://x:${password}@127.0.0.1:1/x.git`])
    assert.is(refused.code, 1)
    assert.match(refused.stderr, /^error: the repository URL https:\/\/\*\*\*@127\.0\.0\.1:1\/x\.git contains a password\n/, refused.stderr)
    assert.not.match(refused.stdout + refused.stderr, /secret-PW/)
  }
  const calls = ctx.spy.calls().slice(before)
  assert.not.ok(calls.some((argv) => argv.includes('clone') || argv.join(' ').includes('secret-PW')), `git got no password: ${JSON.stringify(calls)}`)
})

Publish('a render of uncommitted changes warns, and its commit says it is not the source commit alone', async () => {
  const repo = await newRepo()
  const dir = homelab(ctx.server.url(repo), { web: 'hello' })
  const sourceSha = commitSource(dir, 'Add web')
  writeFileSync(path.join(dir, 'homelab.config.yaml'), config(ctx.server.url(repo), { web: 'edited' }))
  writeFiles(dir, { 'templates/web/notes.txt': 'not committed yet\n' })
  const result = await publish(dir)
  assert.is(result.code, 0, result.stderr)
  assert.is(UNCOMMITTED.exec(result.stderr)?.[1], 'homelab.config.yaml, templates/web/notes.txt', result.stderr)
  assert.is(lastMessage(repo), `Add web\n\nSource: ${sourceSha} with uncommitted changes`)
  assert.match((await ctx.server.readFile(repo, 'apps/web/configmap.yaml')) ?? '', /greeting: "edited"/, 'the render is of the working tree')
  assert.is(await ctx.server.readFile(repo, 'apps/web/notes.txt'), 'not committed yet\n')

  // --message is used as given; the warning still says what was rendered
  writeFileSync(path.join(dir, 'homelab.config.yaml'), config(ctx.server.url(repo), { web: 'again' }))
  const given = await publish(dir, ['--message', 'Try the new greeting'])
  assert.is(given.code, 0, given.stderr)
  assert.is(UNCOMMITTED.exec(given.stderr)?.[1], 'homelab.config.yaml, templates/web/notes.txt', given.stderr)
  assert.is(lastMessage(repo), 'Try the new greeting')

  // a long list is cut: deleted files count too
  sourceGit(dir, 'rm', '-q', 'templates/web/configmap.yaml.hbs')
  writeFiles(dir, Object.fromEntries(['a', 'b', 'c', 'd', 'e'].map((name) => [`templates/web/${name}.txt`, `${name}\n`])))
  const many = await publish(dir, ['--dry-run'])
  assert.is(many.code, 0, many.stderr)
  assert.is(UNCOMMITTED.exec(many.stderr)?.[1], 'homelab.config.yaml, templates/web/a.txt, templates/web/b.txt, templates/web/c.txt, templates/web/configmap.yaml.hbs and 3 more', many.stderr)
})

Publish('staged changes count as uncommitted; once committed the Source line is plain again', async () => {
  const repo = await newRepo()
  const dir = homelab(ctx.server.url(repo), { web: 'hello' })
  const first = commitSource(dir, 'Add web')
  writeFileSync(path.join(dir, 'templates/web/configmap.yaml.hbs'), `# staged\n${readFileSync(path.join(dir, 'templates/web/configmap.yaml.hbs'), 'utf8')}`)
  sourceGit(dir, 'add', 'templates')
  const staged = await publish(dir)
  assert.is(staged.code, 0, staged.stderr)
  assert.is(UNCOMMITTED.exec(staged.stderr)?.[1], 'templates/web/configmap.yaml.hbs', staged.stderr)
  assert.is(lastMessage(repo), `Add web\n\nSource: ${first} with uncommitted changes`)

  commitSource(dir, 'Comment the ConfigMap')
  writeFileSync(path.join(dir, 'homelab.config.yaml'), config(ctx.server.url(repo), { web: 'committed' }))
  const second = commitSource(dir, 'Greet differently')
  const clean = await publish(dir)
  assert.is(clean.code, 0, clean.stderr)
  assert.not.match(clean.stderr, /uncommitted/)
  assert.is(lastMessage(repo), `Greet differently\n\nSource: ${second}`)
})

Publish('changes the render does not read do not count: a README, crds/, an output folder', async () => {
  const repo = await newRepo()
  const dir = homelab(ctx.server.url(repo), { web: 'hello' })
  writeFiles(dir, { 'README.md': '# my homelab\n', 'crds/flux.yaml': '# CRDs\n' })
  const sourceSha = commitSource(dir, 'Add web')
  writeFiles(dir, { 'README.md': '# my homelab, edited\n', 'crds/flux.yaml': '# other CRDs\n', 'manifests/apps/web/configmap.yaml': 'x: 1\n', 'notes.txt': 'untracked\n' })
  const result = await publish(dir)
  assert.is(result.code, 0, result.stderr)
  assert.not.match(result.stderr, /uncommitted/)
  assert.is(lastMessage(repo), `Add web\n\nSource: ${sourceSha}`)

  // with a template edited as well, only the template is named
  writeFileSync(path.join(dir, 'templates/web/configmap.yaml.hbs'), `# edited\n${readFileSync(path.join(dir, 'templates/web/configmap.yaml.hbs'), 'utf8')}`)
  const edited = await publish(dir)
  assert.is(edited.code, 0, edited.stderr)
  assert.is(UNCOMMITTED.exec(edited.stderr)?.[1], 'templates/web/configmap.yaml.hbs', edited.stderr)
  assert.is(lastMessage(repo), `Add web\n\nSource: ${sourceSha} with uncommitted changes`)
})

Publish('the token never appears in output, argv, .git/config or any file of the temp clone', async () => {
  const repo = await newRepo()
  const dir = homelab(ctx.server.url(repo), { web: 'hello' })
  // DEBUG=homelab keeps the temp clone for inspection; '*' would switch on simple-git's debug output too
  const result = await publish(dir, [], { DEBUG: '*,homelab' })
  assert.is(result.code, 0, result.stderr)
  const kept = /debug: keeping the clone in (\S+)/.exec(result.stderr)?.[1]
  assert.ok(kept && kept.startsWith(ctx.tmp), result.stderr)
  const askpass = path.join(kept as string, 'askpass.sh')
  assert.is(statSync(askpass).mode & 0o777, 0o700, 'the askpass script is private')
  const gitConfig = readFileSync(path.join(kept as string, 'repo', '.git', 'config'), 'utf8')
  assert.match(gitConfig, new RegExp(`url = ${ctx.server.url(repo).replace(/[.]/g, '\\.')}\\n`), 'the plain URL, no credentials')

  const files = filesUnder(ctx.tmp)
  assert.ok(files.some((file) => file.endsWith(`${path.sep}.git${path.sep}config`)), 'a .git/config was searched')
  for (const file of files) assert.not.ok(readFileSync(file).includes(TOKEN), `token in ${file}`)

  const calls = ctx.spy.calls()
  assert.ok(calls.some((argv) => argv.includes('clone')) && calls.some((argv) => argv.includes('push')), 'the spy saw clone and push')
  for (const argv of calls) assert.not.ok(argv.join(' ').includes(TOKEN), `token in git ${argv.join(' ')}`)
  assert.ok(ctx.results.length >= 10)
  for (const { stdout, stderr } of ctx.results) {
    assert.not.ok(stdout.includes(TOKEN), stdout)
    assert.not.ok(stderr.includes(TOKEN), stderr)
  }
})

Publish.run()

const Units = suite('publish helpers')

Units('remote kinds', () => {
  assert.is(remoteKind('https://github.com/a/b.git'), 'http')
  assert.is(remoteKind('http://127.0.0.1:8080/b.git'), 'http')
  assert.is(remoteKind('ssh://git@github.com/a/b'), 'ssh')
  assert.is(remoteKind('git@github.com:a/b.git'), 'ssh')
  assert.is(remoteKind('../manifests'), 'local')
  assert.is(remoteKind('/srv/git/manifests.git'), 'local')
})

Units('only a URL with a password is refused: ports, ssh users and scp-like addresses are not passwords', () => {
  for (const remote of ['https://host:8443/org/repo.git', 'ssh://git@host:22/repo.git', 'git@github.com:org/repo.git', 'https://bot@host/x.git', '/srv/git/m.git', '../manifests']) {
    checkRemote(remote)
  }
  for (const remote of ['https://x:p@host/x.git', 'https://x:pa/ss@host/x.git', 'https://x:pa@ss@host:8443/x.git', 'HTTPS://x:@host/x', 'ssh://git:pw@host/x']) {
    assert.throws(() => checkRemote(remote), /https?:\/\/\*\*\*@host|ssh:\/\/\*\*\*@host/i, remote)
  }
})

Units('only a branch that moved on is retried', () => {
  assert.ok(isRaceRejection('To http://x/m.git\n!\tHEAD:refs/heads/main\t[rejected] (fetch first)\nDone'))
  assert.ok(isRaceRejection('!\tHEAD:refs/heads/main\t[rejected] (non-fast-forward)'))
  assert.ok(isRaceRejection('!\tHEAD:refs/heads/main\t[remote rejected] (failed to update ref)'))
  assert.not.ok(isRaceRejection('!\tHEAD:refs/heads/main\t[remote rejected] (pre-receive hook declined)'))
  assert.not.ok(isRaceRejection("fatal: Authentication failed for 'http://x/m.git/'"))
})

Units('a git failure keeps the server\'s reason and git\'s verdict, redacted', () => {
  const push = (text: string) => gitFailure('git push to http://x/m.git (branch main)', new Error(text)).oneLine
  assert.is(
    push("To http://x/m.git\n!\tHEAD:refs/heads/main\t[remote rejected] (pre-receive hook declined)\nDone\nremote: error: GH006: Protected branch update failed for refs/heads/main.        \nerror: failed to push some refs to 'http://x/m.git'\n"),
    'git push to http://x/m.git (branch main) failed: GH006: Protected branch update failed for refs/heads/main. (pre-receive hook declined)',
  )
  assert.is(
    push("remote: \nremote: Resolving deltas: 100% (1/1), done.\nremote: see https://bot:hunter2/x@host/policy        \nremote: \nTo http://x/m.git\n ! [remote rejected] HEAD -> main (policy)\nerror: failed to push some refs to 'http://x/m.git'\n"),
    'git push to http://x/m.git (branch main) failed: see https://***@host/policy (policy)',
  )
  assert.is(push("error: src refspec main does not match any\nerror: failed to push some refs to 'http://x/m.git'"), "git push to http://x/m.git (branch main) failed: src refspec main does not match any | failed to push some refs to 'http://x/m.git'")
  const clone = gitFailure('git clone of http://x/m.git', new Error("remote: Repository not found.\nfatal: repository 'http://x/m.git/' not found\n"))
  assert.is(clone.oneLine, "git clone of http://x/m.git failed: repository 'http://x/m.git/' not found | Repository not found.")
})

Units('uncommitted files: only under the given paths, inside the repository; none in a folder outside any', async () => {
  const outside = tempDir('homelab-publish-norepo-')
  const repo = tempDir('homelab-publish-source-')
  try {
    writeFiles(outside, { 'homelab.config.yaml': 'x\n' })
    assert.is(await readUncommitted(outside, [path.join(outside, 'homelab.config.yaml')]), undefined, 'no git repository: nothing to tell')

    // the config in a subfolder of the repository; a path elsewhere (the schema of an installed homelab) is not looked at
    writeFiles(repo, { 'README.md': 'r\n', 'lab/homelab.config.yaml': 'a\n', 'lab/templates/web/a.hbs': 'a\n', 'lab/templates/web/gone.hbs': 'g\n' })
    commitSource(repo, 'init')
    const lab = path.join(repo, 'lab')
    const inputs = [path.join(lab, 'homelab.config.yaml'), path.join(lab, 'templates'), path.join(outside, 'homelab.config.yaml')]
    assert.equal(await readUncommitted(lab, inputs), [])
    writeFiles(repo, { 'README.md': 'edited\n', 'lab/homelab.config.yaml': 'b\n', 'lab/templates/web/new.hbs': 'n\n', 'lab/templates-old/x.hbs': 'x\n' })
    sourceGit(repo, 'rm', '-q', '--cached', 'lab/templates/web/gone.hbs')
    const top = sourceGit(repo, 'rev-parse', '--show-toplevel').trim()
    assert.equal(await readUncommitted(lab, inputs), ['homelab.config.yaml', 'templates/web/gone.hbs', 'templates/web/new.hbs'].map((file) => path.join(top, 'lab', file)))
  } finally {
    removeDir(outside)
    removeDir(repo)
  }
})

Units('removed apps: folders gone, and Kustomizations dropped (those Flux prunes)', () => {
  const plan = new Map<string, string>([
    ['apps/web/configmap.yaml', ''],
    ['apps/tool/configmap.yaml', ''],
    ['apps/flux/web.yaml', ''],
    ['apps/flux/kustomization.yaml', ''],
  ])
  const changes = {
    added: [],
    changed: [],
    unchanged: 0,
    removed: ['apps/api/configmap.yaml', 'apps/api/kustomization.yaml', 'apps/flux/api.yaml', 'apps/flux/tool.yaml', 'apps/old/x.yaml', 'apps/web/stale.yaml'],
  }
  assert.equal(removedApps(changes, plan), [
    { id: 'api', pruned: true },
    { id: 'old', pruned: false },
    { id: 'tool', pruned: true },
  ])
})

Units.run()
