import { execFileSync } from 'node:child_process'
import { cpSync, existsSync, readFileSync, writeFileSync } from 'node:fs'
import path from 'node:path'
import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import { diffPlan, filePatch, prunesOnDelete } from '../src/diff.js'
import { copyExample, readTree, removeDir, runCli, tempDir, writeFiles } from './helpers/cli.js'

/** Edit the example's config text in place. */
function editConfig(dir: string, edit: (text: string) => string): void {
  const file = path.join(dir, 'homelab.config.yaml')
  const before = readFileSync(file, 'utf8')
  const after = edit(before)
  assert.is.not(after, before, 'the edit must change the config')
  writeFileSync(file, after)
}

let rendered: string | undefined

/** A fresh copy of the example homelab with its render in `manifests/` (the default output folder); rendered once. */
async function renderedExample(): Promise<string> {
  if (!rendered) {
    rendered = copyExample()
    const result = await runCli(['render'], { cwd: rendered })
    assert.is(result.code, 0, result.stderr)
  }
  const dir = copyExample()
  cpSync(path.join(rendered, 'manifests'), path.join(dir, 'manifests'), { recursive: true })
  return dir
}

const removeWhoami = (text: string) => text.replace(/ {2}- template: webapp\n {4}id: whoami\n(?: {4}.*\n| {6}.*\n)*/, '')

// ---------------------------------------------------------------------------
const Cli = suite('homelab diff (built CLI, example homelab)')

Cli('no change: exit 0, says so, writes nothing', async () => {
  const dir = await renderedExample()
  const before = readTree(dir)
  const result = await runCli(['diff'], { cwd: dir })
  assert.is(result.code, 0, result.stderr)
  assert.match(result.stdout, /no differences: manifests\/ is what a render gives \(7 apps\)/)
  assert.not.match(result.stdout, /^[-+]{3} /m)
  assert.equal(readTree(dir), before)
  removeDir(dir)
})

Cli('a changed option: the changed lines in a unified diff, the app changed, exit 3, nothing written', async () => {
  const dir = await renderedExample()
  editConfig(dir, (text) => text.replace('memory: 32Mi', 'memory: 48Mi'))
  const before = readTree(dir)
  const result = await runCli(['diff', '--out', 'manifests'], { cwd: dir })
  assert.is(result.code, 3, result.stderr)
  const out = result.stdout
  assert.match(out, /^--- a\/apps\/whoami\/deployment\.yaml\n\+\+\+ b\/apps\/whoami\/deployment\.yaml\n@@ -\d+,\d+ \+\d+,\d+ @@/m)
  assert.match(out, /^- {14}memory: "32Mi"$/m)
  assert.match(out, /^\+ {14}memory: "48Mi"$/m)
  assert.match(out, /^ {15}cpu: 10m$/m, 'context lines are shown')
  assert.not.match(out, /apps\/homepage\//, 'an unchanged app is not in the diff')
  assert.match(out, /apps: 0 added, 1 changed, 0 removed\n {2}~ whoami: 1 file changed\n/)
  assert.match(out, /1 file of manifests\/ would change/)
  assert.not.match(out, /prune/)
  assert.equal(readTree(dir), before, 'diff writes nothing')
  removeDir(dir)
})

Cli('a removed app: its files as deletions, and "Flux will prune every object of <id>"', async () => {
  const dir = await renderedExample()
  editConfig(dir, removeWhoami)
  const before = readTree(dir)
  const result = await runCli(['diff'], { cwd: dir })
  assert.is(result.code, 3, result.stderr)
  assert.match(result.stdout, /^--- a\/apps\/whoami\/deployment\.yaml\n\+\+\+ \/dev\/null$/m)
  assert.match(result.stdout, /^--- a\/apps\/flux\/whoami\.yaml\n\+\+\+ \/dev\/null$/m)
  assert.match(result.stdout, /^- {2}- whoami\.yaml$/m, 'the app of apps no longer lists it')
  assert.match(result.stdout, /apps: 0 added, 0 changed, 1 removed\n {2}- whoami: removed: Flux will prune every object of whoami\n/)
  assert.equal(readTree(dir), before)
  removeDir(dir)
})

Cli('an id change is shown as delete + create', async () => {
  const dir = await renderedExample()
  editConfig(dir, (text) => text.replace('id: whoami', 'id: whoareyou'))
  const result = await runCli(['diff'], { cwd: dir })
  assert.is(result.code, 3, result.stderr)
  assert.match(result.stdout, /^--- \/dev\/null\n\+\+\+ b\/apps\/whoareyou\/deployment\.yaml$/m)
  assert.match(result.stdout, /apps: 1 added, 0 changed, 1 removed\n/)
  assert.match(result.stdout, / {2}\+ whoareyou: added \(replaces whoami\? an id change is a delete \+ create\)\n/)
  assert.match(result.stdout, / {2}- whoami: removed: Flux will prune every object of whoami; whoareyou is created from scratch/)
  removeDir(dir)
})

Cli('flux: false on a reconciled app: its Flux Kustomization goes, so Flux prunes it', async () => {
  const dir = await renderedExample()
  editConfig(dir, (text) => text.replace('    id: whoami\n', '    id: whoami\n    flux: false\n'))
  const result = await runCli(['diff'], { cwd: dir })
  assert.is(result.code, 3, result.stderr)
  assert.match(result.stdout, / {2}~ whoami: 1 file changed: its Flux Kustomization is removed: Flux will prune every object of whoami\n/)
  removeDir(dir)
})

Cli('a removed flux: false app is not pruned by Flux, and the diff says so', async () => {
  const dir = await renderedExample()
  editConfig(dir, (text) => text.replace('  - template: toolbox\n    flux: false\n', ''))
  const result = await runCli(['diff'], { cwd: dir })
  assert.is(result.code, 3, result.stderr)
  assert.match(result.stdout, / {2}- toolbox: removed: not reconciled by Flux, so its objects stay in the cluster/)
  assert.not.match(result.stdout, /prune every object/)
  removeDir(dir)
})

Cli('no output folder yet: every file is added, and a warning says the folder is not there; it is not created', async () => {
  const dir = copyExample()
  const result = await runCli(['diff'], { cwd: dir })
  assert.is(result.code, 3, result.stderr)
  assert.match(result.stdout, /apps: 7 added, 0 changed, 0 removed/)
  assert.is(result.stderr, 'warning: manifests/ does not exist yet: every file would be new\n')
  // a misspelt folder next to a rendered one
  await runCli(['render'], { cwd: dir })
  const misspelt = await runCli(['diff', '--out', 'manifest'], { cwd: dir })
  assert.is(misspelt.code, 3, misspelt.stderr)
  assert.is(misspelt.stderr, 'warning: manifest/ does not exist yet: every file would be new\n')
  const rendered = await runCli(['diff', '--out', 'manifests'], { cwd: dir })
  assert.is(rendered.code, 0, rendered.stderr)
  assert.not.ok(existsSync(path.join(dir, 'manifest')))
  editConfig(dir, removeWhoami)
  const changed = await runCli(['diff'], { cwd: dir })
  assert.is(changed.code, 3, changed.stderr)
  assert.not.match(changed.stderr, /does not exist/)
  removeDir(dir)
})

Cli('a broken config: exit 1 with the one-line error, no diff', async () => {
  const dir = await renderedExample()
  editConfig(dir, (text) => text.replace('dependsOn: [cert-manager]', 'dependsOn: [cert-manger]'))
  const result = await runCli(['diff'], { cwd: dir })
  assert.is(result.code, 1)
  assert.match(result.stderr, /^error: homelab\.config\.yaml:\d+:\d+: .*cert-manger/m)
  assert.is(result.stdout, '')
  removeDir(dir)
})

Cli('--out and --repo together: a usage error (exit 2)', async () => {
  const dir = copyExample()
  const result = await runCli(['diff', '--out', 'manifests', '--repo', '.'], { cwd: dir })
  assert.is(result.code, 2)
  assert.match(result.stderr, /^error: --out and --repo cannot be combined/m)
  removeDir(dir)
})

Cli.run()

// ---------------------------------------------------------------------------
const Repo = suite('homelab diff --repo (a real local git repository)')

const git = (cwd: string, ...args: string[]) =>
  execFileSync('git', ['-c', 'user.name=test', '-c', 'user.email=test@example.com', ...args], { cwd, encoding: 'utf8' })

/** A manifest repository (branch main) holding the example's rendered apps/, plus a file of flux bootstrap. */
async function manifestRepository(): Promise<{ dir: string; repo: string }> {
  const dir = await renderedExample()
  const repo = tempDir('homelab-manifests-')
  git(repo, 'init', '--quiet', '--initial-branch=main')
  for (const [file, content] of readTree(path.join(dir, 'manifests'))) writeFiles(repo, { [file]: content })
  writeFiles(repo, { 'flux/flux-system/gotk-sync.yaml': '# written by flux bootstrap\n' })
  git(repo, 'add', '--all')
  git(repo, 'commit', '--quiet', '-m', 'rendered')
  return { dir, repo }
}

Repo('same content: exit 0; a change: the diff against the repository, exit 3; the repository is untouched', async () => {
  const { dir, repo } = await manifestRepository()
  const before = readTree(repo)
  const same = await runCli(['diff', '--repo', repo], { cwd: dir })
  assert.is(same.code, 0, same.stderr)
  assert.match(same.stdout, /no differences/)

  editConfig(dir, (text) => text.replace('memory: 32Mi', 'memory: 48Mi'))
  const changed = await runCli(['diff', '--repo', repo], { cwd: dir })
  assert.is(changed.code, 3, changed.stderr)
  assert.match(changed.stdout, /^- {14}memory: "32Mi"$/m)
  assert.match(changed.stdout, /^\+ {14}memory: "48Mi"$/m)
  assert.not.match(changed.stdout, /flux-system/, 'files outside apps/ are not compared')
  assert.match(changed.stdout, new RegExp(`1 file of ${repo.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')} would change`))

  assert.equal(readTree(repo), before, 'the repository (and its .git) is byte-identical')
  assert.is(git(repo, 'status', '--porcelain'), '')
  removeDir(dir)
  removeDir(repo)
})

Repo('a relative path and a removed app against the repository', async () => {
  const { dir, repo } = await manifestRepository()
  editConfig(dir, removeWhoami)
  const result = await runCli(['diff', '--repo', path.relative(dir, repo)], { cwd: dir })
  assert.is(result.code, 3, result.stderr)
  assert.match(result.stdout, /- whoami: removed: Flux will prune every object of whoami/)
  removeDir(dir)
  removeDir(repo)
})

Repo('--repo alone is flux.repository; an empty --repo= or --repo \'\' is a usage error, not the same', async () => {
  const { dir, repo } = await manifestRepository()
  editConfig(dir, (text) => text.replace('https://github.com/your-user/homelab-manifests.git', repo))
  const alone = await runCli(['diff', '--repo'], { cwd: dir })
  assert.is(alone.code, 0, alone.stderr)
  assert.match(alone.stdout, /no differences/)
  for (const args of [['--repo='], ['--repo', '']]) {
    const empty = await runCli(['diff', ...args], { cwd: dir })
    assert.is(empty.code, 2, `${args.join(' ')}: ${empty.stderr}`)
    assert.is(empty.stderr.split('\n')[0], 'error: --repo is empty: give --repo <url>, or --repo alone')
    assert.is(empty.stdout, '')
  }
  removeDir(dir)
  removeDir(repo)
})

Repo('a repository that cannot be cloned: exit 1 with a one-line git error', async () => {
  const dir = copyExample()
  const result = await runCli(['diff', '--repo', path.join(dir, 'no-such-repo')], { cwd: dir })
  assert.is(result.code, 1)
  assert.match(result.stderr, /^error: git clone of .*no-such-repo.* failed/m)
  removeDir(dir)
})

Repo.after(() => {
  if (rendered) removeDir(rendered)
})

Repo.run()

// ---------------------------------------------------------------------------
const Core = suite('diffPlan, filePatch, prunesOnDelete')

const kustomization = (spec: string) =>
  `apiVersion: kustomize.toolkit.fluxcd.io/v1\nkind: Kustomization\nmetadata:\n  name: a\n  namespace: flux-system\nspec:\n${spec}`

Core('prunesOnDelete follows prune and deletionPolicy as Flux does', () => {
  assert.is(prunesOnDelete(kustomization('  prune: true\n')), true)
  assert.is(prunesOnDelete(kustomization('  prune: false\n')), false)
  assert.is(prunesOnDelete(kustomization('  prune: false\n  deletionPolicy: Delete\n')), true)
  assert.is(prunesOnDelete(kustomization('  prune: false\n  deletionPolicy: WaitForTermination\n')), true)
  assert.is(prunesOnDelete(kustomization('  prune: true\n  deletionPolicy: Orphan\n')), false)
  assert.is(prunesOnDelete(kustomization('  prune: false\n  deletionPolicy: MirrorPrune\n')), false)
  assert.is(prunesOnDelete('# header\n---\n' + kustomization('  prune: false\n')), false)
  assert.is(prunesOnDelete('spec: [unclosed\n'), true, 'unreadable: assume the worst')
})

Core('an app whose Kustomization had prune off is orphaned, not pruned', async () => {
  const out = tempDir()
  writeFiles(out, {
    'apps/a/kustomization.yaml': 'resources: []\n',
    'apps/flux/a.yaml': kustomization('  prune: false\n'),
    'apps/flux/kustomization.yaml': 'resources:\n  - a.yaml\n',
  })
  const result = await diffPlan(out, new Map([['apps/flux/kustomization.yaml', 'resources: []\n']]))
  assert.equal(result.apps, [{ id: 'a', change: 'removed', files: ['apps/a/kustomization.yaml', 'apps/flux/a.yaml'], prune: false, orphaned: true }])
  assert.equal(result.files.map((f) => `${f.change} ${f.file}`), [
    'removed apps/a/kustomization.yaml',
    'removed apps/flux/a.yaml',
    'changed apps/flux/kustomization.yaml',
  ])
  removeDir(out)
})

Core('files of apps/flux-bootstrap and the app of apps belong to no app', async () => {
  const out = tempDir()
  writeFiles(out, { 'apps/flux-bootstrap/flux-bootstrap.yaml': 'old\n', 'apps/b/x.yaml': 'same\n' })
  const plan = new Map([
    ['apps/flux-bootstrap/flux-bootstrap.yaml', 'new\n'],
    ['apps/flux/kustomization.yaml', 'resources: []\n'],
    ['apps/b/x.yaml', 'same\n'],
  ])
  const result = await diffPlan(out, plan)
  assert.equal(result.apps, [])
  assert.is(result.unchanged, 1)
  assert.equal(result.files.map((f) => f.file), ['apps/flux-bootstrap/flux-bootstrap.yaml', 'apps/flux/kustomization.yaml'])
  removeDir(out)
})

Core('two renames with the same files are not guessed', async () => {
  const out = tempDir()
  writeFiles(out, { 'apps/old1/cm.yaml': 'a\n', 'apps/old2/cm.yaml': 'b\n' })
  const result = await diffPlan(out, new Map([['apps/new1/cm.yaml', 'a\n'], ['apps/new2/cm.yaml', 'b\n']]))
  assert.equal(result.apps.map((app) => [app.id, app.change, app.replaces, app.replacedBy]), [
    ['new1', 'added', undefined, undefined],
    ['new2', 'added', undefined, undefined],
    ['old1', 'removed', undefined, undefined],
    ['old2', 'removed', undefined, undefined],
  ])
  removeDir(out)
})

Core('filePatch: unified diff with a/ b/ and /dev/null names; binary files are not dumped', () => {
  assert.fixture(filePatch('apps/a/x.yaml', 'a: 1\nb: 2\n', 'a: 1\nb: 3\n'), '--- a/apps/a/x.yaml\n+++ b/apps/a/x.yaml\n@@ -1,2 +1,2 @@\n a: 1\n-b: 2\n+b: 3\n')
  assert.fixture(filePatch('apps/a/x.yaml', undefined, 'a: 1\n'), '--- /dev/null\n+++ b/apps/a/x.yaml\n@@ -0,0 +1,1 @@\n+a: 1\n')
  assert.is(filePatch('apps/a/logo.png', Buffer.from([0x89, 0x50, 0, 1]), new Uint8Array([0x89, 0x50, 0, 2])), 'Binary files a/apps/a/logo.png and b/apps/a/logo.png differ\n')
  assert.is(filePatch('apps/a/x.bin', Buffer.from([0xff, 0xfe]), undefined), 'Binary files a/apps/a/x.bin and /dev/null differ\n')
})

Core.run()
