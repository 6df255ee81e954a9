import { createHash } from 'node:crypto'
import { mkdirSync, readdirSync, readFileSync, rmSync, statSync, symlinkSync, unlinkSync, utimesSync, writeFileSync } from 'node:fs'
import path from 'node:path'
import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import { TEMP_MARK } from '../src/write-plan.ts'
import { copyExample, readTree, removeDir, runCli, tempDir } from './helpers/cli.ts'
import { fuzzSeed, mulberry32 } from './helpers/mutate.ts'

/**
 * The render memo: a re-render keeps the apps whose inputs did not change,
 * and must still give exactly the bytes of a fresh render.
 */
const Memo = suite('render memo')

async function render(dir: string, cacheDir: string, out = 'out') {
  const result = await runCli(['render', '--out', out], { cwd: dir, env: { HOMELAB_CACHE_DIR: cacheDir } })
  assert.is(result.code, 0, result.stderr)
  return result
}

/** What a render without any memo gives. */
async function fresh(dir: string) {
  const result = await runCli(['render', '--out', 'fresh'], { cwd: dir, env: { HOMELAB_CACHE: '0' } })
  assert.is(result.code, 0, result.stderr)
  const tree = readTree(path.join(dir, 'fresh'))
  removeDir(path.join(dir, 'fresh'))
  return tree
}

/** The memo files in a cache folder (the code cache, code-cache.ts, keeps its files in code/ beside them). */
const memoFiles = (cacheDir: string) => readdirSync(cacheDir).filter((file) => file.endsWith('.json'))

interface MemoFile {
  name: string
  hash: string
  /** size, inode, mtime, ctime; undefined when not recorded. */
  status?: number[]
}

/** A memo file read back (render-cache.ts's format): each app's files, and the run's, with their statuses. */
function readMemo(file: string): { apps: Map<string, MemoFile[]>; run?: Array<MemoFile & { object?: string }> } {
  const stored = JSON.parse(readFileSync(file, 'utf8')) as { apps: string[][]; run?: { files: Array<[string, string, string?]> }; statuses: string }
  const bytes = Buffer.from(stored.statuses, 'base64')
  let at = 0
  const status = () => {
    const numbers = [0, 1, 2, 3].map((i) => bytes.readDoubleLE(at + 8 * i))
    at += 32
    return numbers.every(Number.isNaN) ? undefined : numbers
  }
  const apps = new Map<string, MemoFile[]>()
  for (const [id, , ...names] of stored.apps) {
    const files: MemoFile[] = []
    for (let i = 0; i < names.length; i += 2) files.push({ name: names[i] as string, hash: names[i + 1] as string, status: status() })
    apps.set(id as string, files)
  }
  const run = stored.run?.files.map(([name, hash, object]) => ({ name, hash, status: status(), object }))
  assert.is(at, bytes.length, 'a status for every file')
  return { apps, run }
}

const written = (stdout: string) => Number(/ (\d+) written/.exec(stdout)?.[1])

Memo('records every app with the hashes of its files, outside the output folder', async () => {
  const dir = copyExample()
  const cache = tempDir()
  try {
    await render(dir, cache)
    const [file, ...more] = memoFiles(cache)
    assert.ok(file, 'one memo file')
    assert.equal(more, [])
    const memo = readMemo(path.join(cache, file as string))
    assert.equal([...memo.apps.keys()].sort(), ['cert-issuers', 'cert-manager', 'cluster-base', 'homepage', 'toolbox', 'traefik', 'whoami'])
    for (const [id, files] of memo.apps) {
      for (const { name, hash } of files) {
        const bytes = readFileSync(path.join(dir, 'out', 'apps', id, name))
        assert.is(createHash('sha256').update(bytes).digest('base64url').slice(0, 22), hash, `${id}/${name}`)
      }
    }
    assert.not.ok([...readTree(path.join(dir, 'out')).keys()].some((f) => !f.startsWith('apps/')), 'nothing outside apps/')
  } finally {
    removeDir(dir)
    removeDir(cache)
  }
})

Memo('render --check records only the apps whose files the folder already holds as rendered', async () => {
  const dir = copyExample()
  const cache = tempDir()
  // no memo file at all is a memo of no apps
  const memoApps = () => memoFiles(cache).flatMap((file) => [...readMemo(path.join(cache, file)).apps.keys()]).sort()
  try {
    const check = () => runCli(['render', '--check', '--out', 'out'], { cwd: dir, env: { HOMELAB_CACHE_DIR: cache } })
    assert.is((await check()).code, 3, 'an empty folder differs')
    assert.equal(memoApps(), [], 'nothing to keep in an empty folder')
    await render(dir, cache)
    writeFileSync(path.join(dir, 'out', 'apps', 'whoami', 'service.yaml'), 'edited by hand\n')
    assert.is((await check()).code, 3, 'one file differs')
    assert.equal(memoApps(), ['cert-issuers', 'cert-manager', 'cluster-base', 'homepage', 'toolbox', 'traefik'], 'all but the app with the edited file')
    assert.is(written((await render(dir, cache)).stdout), 1, 'the next render rewrites just that file')
    assert.equal(readTree(path.join(dir, 'out')), await fresh(dir))
  } finally {
    removeDir(dir)
    removeDir(cache)
  }
})

Memo('an option change rewrites just that app, and the tree equals a fresh render', async () => {
  const dir = copyExample()
  const cache = tempDir()
  try {
    await render(dir, cache)
    assert.is(written((await render(dir, cache)).stdout), 0)
    const config = path.join(dir, 'homelab.config.yaml')
    writeFileSync(config, readFileSync(config, 'utf8').replace('memory: 32Mi', 'memory: 48Mi'))
    const result = await render(dir, cache)
    assert.is(written(result.stdout), 1, result.stdout)
    assert.equal(readTree(path.join(dir, 'out')), await fresh(dir))
  } finally {
    removeDir(dir)
    removeDir(cache)
  }
})

Memo('a file edited by hand, a changed template, a changed partial: all rendered again', async () => {
  const dir = copyExample()
  const cache = tempDir()
  try {
    await render(dir, cache)
    writeFileSync(path.join(dir, 'out', 'apps', 'whoami', 'service.yaml'), 'edited by hand\n')
    assert.is(written((await render(dir, cache)).stdout), 1)
    assert.equal(readTree(path.join(dir, 'out')), await fresh(dir))

    const service = path.join(dir, 'templates', 'webapp', 'service.yaml.hbs')
    writeFileSync(service, readFileSync(service, 'utf8').replace(/^kind: Service$/m, '# a comment\nkind: Service'))
    assert.is(written((await render(dir, cache)).stdout), 2, 'both webapp instances')
    assert.equal(readTree(path.join(dir, 'out')), await fresh(dir))

    const labels = path.join(dir, 'templates', '_partials', 'labels.hbs')
    writeFileSync(labels, readFileSync(labels, 'utf8') + 'example.com/extra: "1"\n')
    assert.ok(written((await render(dir, cache)).stdout) > 5)
    assert.equal(readTree(path.join(dir, 'out')), await fresh(dir))
  } finally {
    removeDir(dir)
    removeDir(cache)
  }
})

Memo('settled files are known by their status; a same-size edit with the old mtime restored is still caught', async () => {
  const dir = copyExample()
  const cache = tempDir()
  try {
    await render(dir, cache)
    const memoFile = path.join(cache, memoFiles(cache)[0] as string)
    const statuses = () => [...readMemo(memoFile).apps.values()].flatMap((files) => files.map((file) => file.status))
    // just written: too fresh to stand for its content
    assert.ok(statuses().every((status) => status === undefined), 'no status recorded for files changed moments ago')
    await new Promise((resolve) => setTimeout(resolve, 2200))
    assert.is(written((await render(dir, cache)).stdout), 0)
    assert.ok(statuses().every((status) => Array.isArray(status) && status.length === 4 && status.every(Number.isFinite)), 'every file settled: its status recorded')
    // nothing changed since: the stored memo already says so, and is not written again
    const memoBefore = statSync(memoFile)
    assert.is(written((await render(dir, cache)).stdout), 0)
    assert.is(statSync(memoFile).ino, memoBefore.ino, 'the memo of a re-render that kept everything is not rewritten')
    assert.is(statSync(memoFile).mtimeMs, memoBefore.mtimeMs)

    // same size, same mtime: only the change time (and the content) differ
    const service = path.join(dir, 'out', 'apps', 'whoami', 'service.yaml')
    const before = statSync(service)
    const text = readFileSync(service, 'utf8')
    writeFileSync(service, text.replace('kind: Service', 'kind: Servicf'))
    utimesSync(service, before.atime, before.mtime)
    assert.is(statSync(service).size, before.size)
    assert.is(written((await render(dir, cache)).stdout), 1)
    assert.equal(readTree(path.join(dir, 'out')), await fresh(dir))
    assert.is.not(statSync(memoFile).ino, memoBefore.ino, 'a render that wrote a file stores the memo again')
  } finally {
    removeDir(dir)
    removeDir(cache)
  }
})

Memo('a config change keeps the Flux files it generates again; it writes those that change, and those edited by hand', async () => {
  const dir = copyExample()
  const cache = tempDir()
  const flux = path.join(dir, 'out', 'apps', 'flux')
  const inodes = () => new Map(readdirSync(flux).map((name) => [name, statSync(path.join(flux, name)).ino]))
  try {
    await render(dir, cache)
    await new Promise((resolve) => setTimeout(resolve, 2200))
    // every status settles and the run is recorded with them
    await render(dir, cache)
    const before = inodes()

    // a Flux file edited by hand: same size, its mtime put back; and an option change, which changes no Flux file
    const edited = path.join(flux, 'homepage.yaml')
    const stat = statSync(edited)
    writeFileSync(edited, readFileSync(edited, 'utf8').replace('prune: true', 'prune: tru3'))
    utimesSync(edited, stat.atime, stat.mtime)
    const config = path.join(dir, 'homelab.config.yaml')
    writeFileSync(config, readFileSync(config, 'utf8').replace('memory: 32Mi', 'memory: 48Mi'))
    const told = await renderTold(dir, cache)
    assert.is(told.written, 2, 'the app of the option, and the Flux file edited by hand')
    // known from the objects they are generated from: not generated again
    assert.match(told.stderr, /and the Flux folders \(5 Kustomizations kept\)/)
    assert.equal(readTree(path.join(dir, 'out')), await fresh(dir))
    for (const [name, ino] of inodes()) if (name !== 'homepage.yaml') assert.is(ino, before.get(name), `${name} kept as it was`)

    // a change to a Flux Kustomization: that file is written, the others kept
    await new Promise((resolve) => setTimeout(resolve, 2200))
    await render(dir, cache)
    const settled = inodes()
    writeFileSync(config, readFileSync(config, 'utf8').replace('kustomization: { wait: true, timeout: 5m }   # its CRDs', 'kustomization: { wait: true, timeout: 6m }   # its CRDs'))
    const changed = await renderTold(dir, cache)
    assert.is(changed.written, 1, 'only cert-manager.yaml of the Flux folder')
    assert.match(changed.stderr, /and the Flux folders \(5 Kustomizations kept\)/)
    assert.equal(readTree(path.join(dir, 'out')), await fresh(dir))
    for (const [name, ino] of inodes()) if (name !== 'cert-manager.yaml') assert.is(ino, settled.get(name), `${name} kept as it was`)
    assert.is.not(inodes().get('cert-manager.yaml'), settled.get('cert-manager.yaml'))

    // Kustomizations recorded without the object they hold (as by other code): kept by their bytes, and
    // recorded with it, so that the next render knows them from the object again
    await new Promise((resolve) => setTimeout(resolve, 2200))
    await render(dir, cache)
    const memoFile = path.join(cache, memoFiles(cache)[0] as string)
    assert.is(readMemo(memoFile).run?.filter((file) => file.object !== undefined).length, 6, 'the Kustomizations recorded with their objects')
    const memo = JSON.parse(readFileSync(memoFile, 'utf8')) as { run: { files: unknown[][] } }
    for (const record of memo.run.files) record.splice(2)
    writeFileSync(memoFile, JSON.stringify(memo))
    writeFileSync(config, readFileSync(config, 'utf8').replace('memory: 48Mi', 'memory: 64Mi'))
    const byBytes = await renderTold(dir, cache)
    assert.is(byBytes.written, 1, 'the app of the option')
    assert.match(byBytes.stderr, /and the Flux folders \(0 Kustomizations kept\) \d+ ms, kept other Flux files as written before \(9\)/)
    writeFileSync(config, readFileSync(config, 'utf8').replace('memory: 64Mi', 'memory: 32Mi'))
    assert.match((await renderTold(dir, cache)).stderr, /and the Flux folders \(6 Kustomizations kept\) \d+ ms, kept other Flux files as written before \(3\)/)
    assert.equal(readTree(path.join(dir, 'out')), await fresh(dir))
  } finally {
    removeDir(dir)
    removeDir(cache)
  }
})

/** A render with DEBUG=homelab: whether the memo knew the folder unchanged without rendering, and the summary's counts. */
async function renderTold(dir: string, cacheDir: string, args: string[] = ['render', '--out', 'out'], env: Record<string, string> = {}) {
  const result = await runCli(args, { cwd: dir, env: { HOMELAB_CACHE_DIR: cacheDir, DEBUG: 'homelab', ...env } })
  return {
    code: result.code,
    known: result.stderr.includes('render memo: same inputs'),
    written: written(result.stdout),
    removed: Number(/ (\d+) removed/.exec(result.stdout)?.[1]),
    stdout: result.stdout,
    stderr: result.stderr,
  }
}

Memo('same inputs, untouched folder: known unchanged without rendering; any change to the inputs or the folder renders', async () => {
  const dir = copyExample()
  const cache = tempDir()
  const out = path.join(dir, 'out')
  try {
    await render(dir, cache)
    await new Promise((resolve) => setTimeout(resolve, 2200))
    const settling = await renderTold(dir, cache, ['render', '--check', '--out', 'out'])
    assert.ok(!settling.known && settling.code === 0, 'the Flux files were just written: their statuses were not recorded')
    const first = await renderTold(dir, cache)
    assert.ok(first.known, 'every status settled: known unchanged')
    assert.is(first.code, 0)
    assert.match(first.stdout, /rendered 7 apps into out\/: 0 written, 0 removed, \d+ unchanged/)
    assert.is(Number(/ (\d+) unchanged/.exec(first.stdout)?.[1]), readTree(out).size)
    const check = await renderTold(dir, cache, ['render', '--check', '--out', 'out'])
    assert.ok(check.known && check.code === 0 && check.stdout.includes('out/ is up to date (7 apps'), check.stdout)
    const expected = await fresh(dir)

    // changes that write nothing: each renders, and the next render is known unchanged again
    const config = path.join(dir, 'homelab.config.yaml')
    writeFileSync(config, `${readFileSync(config, 'utf8')}# a comment\n`)
    const afterComment = await renderTold(dir, cache)
    assert.ok(!afterComment.known && afterComment.written === 0, 'a config byte changed: rendered')
    assert.ok((await renderTold(dir, cache)).known)
    writeFileSync(path.join(dir, 'templates', 'NOTES.md'), 'not a template\n')
    assert.not.ok((await renderTold(dir, cache)).known, 'a new file under templates/: rendered')
    assert.ok((await renderTold(dir, cache)).known)
    assert.not.ok((await renderTold(dir, cache, ['render', '--out', 'out'], { HOMELAB_CACHE: '0' })).known, 'HOMELAB_CACHE=0: no memo')
    symlinkSync(path.join(dir, 'templates', 'NOTES.md'), path.join(dir, 'templates', 'notes-link.md'))
    assert.not.ok((await renderTold(dir, cache)).known, 'a link under templates/: never known unchanged')
    unlinkSync(path.join(dir, 'templates', 'notes-link.md'))
    assert.not.ok((await renderTold(dir, cache)).known, 'the link gone: inputs differ from the last record')
    assert.ok((await renderTold(dir, cache)).known)

    // the folder changed: what a render would undo is undone
    writeFileSync(path.join(out, 'apps', 'whoami', 'extra.yaml'), 'kind: Extra\n')
    assert.is((await renderTold(dir, cache, ['render', '--check', '--out', 'out'])).code, 3, 'a file the plan lacks: out of date')
    const extra = await renderTold(dir, cache)
    assert.ok(!extra.known && extra.removed === 1, 'the extra file removed')
    assert.ok((await renderTold(dir, cache)).known)
    mkdirSync(path.join(out, 'apps', 'whoami', 'empty'))
    assert.not.ok((await renderTold(dir, cache)).known, 'an empty folder: rendered')
    assert.not.ok(readdirSync(path.join(out, 'apps', 'whoami')).includes('empty'), 'and removed')
    writeFileSync(path.join(out, 'apps', 'whoami', `.service.yaml${TEMP_MARK}0123456789ab`), 'apiVersion: v1\nkind: Serv')
    assert.not.ok((await renderTold(dir, cache)).known, 'a temp file of a killed render: rendered')
    assert.ok((await renderTold(dir, cache)).known)
    rmSync(path.join(out, 'apps', 'flux', 'whoami.yaml'))
    assert.is((await renderTold(dir, cache, ['render', '--check', '--out', 'out'])).code, 3, 'a missing Flux file: out of date')
    const missing = await renderTold(dir, cache)
    assert.ok(!missing.known && missing.written === 1, 'the missing file written again')
    assert.equal(readTree(out), expected)

    // a template edited: its apps render anew
    const service = path.join(dir, 'templates', 'webapp', 'service.yaml.hbs')
    writeFileSync(service, readFileSync(service, 'utf8').replace(/^kind: Service$/m, '# edited\nkind: Service'))
    const edited = await renderTold(dir, cache)
    assert.ok(!edited.known && edited.written === 2, 'both webapp instances')
    assert.equal(readTree(out), await fresh(dir))
  } finally {
    removeDir(dir)
    removeDir(cache)
  }
})

Memo('files in a subfolder of an app: known unchanged; an empty folder beside them renders', async () => {
  const dir = copyExample()
  const cache = tempDir()
  const out = path.join(dir, 'out')
  try {
    // copied verbatim into each webapp instance's folder, as apps/<id>/conf/app.conf
    mkdirSync(path.join(dir, 'templates', 'webapp', 'conf'))
    writeFileSync(path.join(dir, 'templates', 'webapp', 'conf', 'app.conf'), 'listen 8080\n')
    await render(dir, cache)
    assert.ok(statSync(path.join(out, 'apps', 'whoami', 'conf', 'app.conf')).isFile())
    await new Promise((resolve) => setTimeout(resolve, 2200))
    await renderTold(dir, cache, ['render', '--check', '--out', 'out'])
    assert.ok((await renderTold(dir, cache)).known, 'every status settled: known unchanged, subfolders and all')
    mkdirSync(path.join(out, 'apps', 'whoami', 'conf', 'empty'))
    assert.not.ok((await renderTold(dir, cache)).known, 'an empty folder in the subfolder: rendered')
    assert.not.ok(readdirSync(path.join(out, 'apps', 'whoami', 'conf')).includes('empty'), 'and removed')
    assert.ok((await renderTold(dir, cache)).known)
    rmSync(path.join(out, 'apps', 'homepage', 'conf'), { recursive: true })
    assert.not.ok((await renderTold(dir, cache)).known, 'a subfolder gone: rendered')
    assert.equal(readTree(out), await fresh(dir))
  } finally {
    removeDir(dir)
    removeDir(cache)
  }
})

Memo('DEBUG=homelab times each step of a render; without it, nothing is said', async () => {
  const dir = copyExample()
  const cache = tempDir()
  try {
    const quiet = await runCli(['render', '--out', 'out'], { cwd: dir, env: { HOMELAB_CACHE_DIR: cache } })
    assert.is(quiet.code, 0)
    assert.not.match(quiet.stderr, /render steps/)
    const config = path.join(dir, 'homelab.config.yaml')
    writeFileSync(config, readFileSync(config, 'utf8').replace('memory: 32Mi', 'memory: 48Mi'))
    const told = await runCli(['render', '--out', 'out'], { cwd: dir, env: { HOMELAB_CACHE_DIR: cache, DEBUG: 'homelab' } })
    assert.is(told.code, 0, told.stderr)
    assert.match(
      told.stderr,
      /^debug: render steps: hashed the inputs \d+ ms, read the memo \d+ ms, looked for a render with the same inputs \d+ ms, loaded the rendering code \d+ ms, read and checked the config \d+ ms, resolved apps, templates and options \d+ ms, kept apps as rendered before \(6\) \d+ ms, rendered apps \(1\) and the Flux folders \(\d+ Kustomizations kept\) \d+ ms, kept other Flux files as written before \(\d+\) \d+ ms, wrote the folder \d+ ms, stored the memo \d+ ms \(\d+ ms since the process started\)$/m,
    )
  } finally {
    removeDir(dir)
    removeDir(cache)
  }
})

Memo('a damaged memo is ignored', async () => {
  const dir = copyExample()
  const cache = tempDir()
  try {
    await render(dir, cache)
    for (const file of memoFiles(cache)) writeFileSync(path.join(cache, file), '{ not json')
    writeFileSync(path.join(dir, 'out', 'apps', 'toolbox', 'deployment.yaml'), 'stale\n')
    await render(dir, cache)
    assert.equal(readTree(path.join(dir, 'out')), await fresh(dir))

    // JSON that does not hold together: statuses cut short, a file without its digest, rows that are not rows
    await new Promise((resolve) => setTimeout(resolve, 2200))
    await render(dir, cache)
    const memoFile = path.join(cache, memoFiles(cache)[0] as string)
    const good = JSON.parse(readFileSync(memoFile, 'utf8')) as { apps: unknown[][]; statuses: string }
    const damaged = [
      { ...good, statuses: good.statuses.slice(0, good.statuses.length / 2) },
      { ...good, apps: good.apps.map((row, i) => (i === 0 ? row.slice(0, -1) : row)) },
      { ...good, apps: [7, ...good.apps] },
      { ...good, statuses: undefined },
    ]
    for (const memo of damaged) {
      writeFileSync(memoFile, JSON.stringify(memo))
      writeFileSync(path.join(dir, 'out', 'apps', 'toolbox', 'deployment.yaml'), 'stale\n')
      const told = await renderTold(dir, cache)
      assert.is(told.code, 0, told.stderr)
      assert.match(told.stderr, /kept apps as rendered before \(0\)/, 'nothing kept by a memo that does not hold together')
      assert.equal(readTree(path.join(dir, 'out')), await fresh(dir))
    }
  } finally {
    removeDir(dir)
    removeDir(cache)
  }
})

/** A text toggled between two forms by replacing one with the other (the longer looked for first: it may hold the shorter); throws when neither is there (the example changed). */
function toggle(file: string, one: string, other: string): void {
  const text = readFileSync(file, 'utf8')
  const [longer, shorter] = one.length >= other.length ? [one, other] : [other, one]
  if (text.includes(longer)) writeFileSync(file, text.replace(longer, shorter))
  else if (text.includes(shorter)) writeFileSync(file, text.replace(shorter, longer))
  else throw new Error(`neither form found in ${file}: ${JSON.stringify(one)}`)
}

Memo('a random walk of config, template and output changes: every render with the memo gives exactly a fresh render', async () => {
  // HOMELAB_FUZZ_SEED replays a walk; HOMELAB_MEMO_WALK_STEPS makes it longer
  const seed = fuzzSeed()
  const rng = mulberry32(seed)
  const steps = Number(process.env.HOMELAB_MEMO_WALK_STEPS ?? 16)
  const dir = copyExample()
  const cache = tempDir()
  const out = path.join(dir, 'out')
  const config = path.join(dir, 'homelab.config.yaml')
  const outputFile = () => path.join(out, rng.pick([...readTree(out).keys()]))
  const appFolder = () => path.join(out, 'apps', rng.pick(readdirSync(path.join(out, 'apps'))))
  const actions: Array<[string, () => string | void]> = [
    ['an option', () => writeFileSync(config, readFileSync(config, 'utf8').replace(/memory: \d+Mi\n/, `memory: ${rng.pick([32, 48, 64])}Mi\n`))],
    ['toolbox reconciled by Flux or not', () => toggle(config, '  - template: toolbox\n    flux: false\n', '  - template: toolbox\n')],
    ['a dependency', () => toggle(config, 'id: homepage\n    dependsOn: [cert-issuers, traefik]', 'id: homepage\n    dependsOn: [cert-issuers]')],
    ['a Kustomization timeout', () => toggle(config, 'timeout: 5m }   # its CRDs', 'timeout: 6m }   # its CRDs')],
    ['whoami enabled or not', () => toggle(config, 'id: whoami\n', 'id: whoami\n    enabled: false\n')],
    ['a comment in the config', () => writeFileSync(config, `${readFileSync(config, 'utf8')}# ${rng.int(1000)}\n`)],
    ['a template', () => toggle(path.join(dir, 'templates', 'webapp', 'service.yaml.hbs'), '\nkind: Service\n', '\n# walk\nkind: Service\n')],
    ['an output file edited', () => {
      const file = outputFile()
      writeFileSync(file, 'edited by hand\n')
      return path.relative(out, file)
    }],
    ['an output file edited, same size, mtime put back', () => {
      const file = outputFile()
      const stat = statSync(file)
      const text = readFileSync(file, 'utf8')
      writeFileSync(file, text.slice(0, -2) + (text.at(-2) === 'x' ? 'y' : 'x') + text.slice(-1))
      utimesSync(file, stat.atime, stat.mtime)
      return path.relative(out, file)
    }],
    ['an output file removed', () => {
      const file = outputFile()
      rmSync(file)
      return path.relative(out, file)
    }],
    ['an output file touched', () => {
      const file = outputFile()
      utimesSync(file, new Date(), new Date())
      return path.relative(out, file)
    }],
    ['an extra output file', () => writeFileSync(path.join(appFolder(), `extra-${rng.int(100)}.yaml`), 'kind: Extra\n')],
    ['an empty output folder', () => mkdirSync(path.join(appFolder(), `empty-${rng.int(100)}`), { recursive: true })],
    ['time for statuses to settle', async () => {
      await new Promise((resolve) => setTimeout(resolve, 2200))
    }],
  ]
  const walk: string[] = []
  try {
    await render(dir, cache)
    for (let step = 0; step < steps; step++) {
      const [name, act] = rng.pick(actions)
      const detail = await act()
      walk.push(detail ? `${name} (${detail})` : name)
      const told = `seed ${seed}, walk: ${walk.join('; ')}`
      const result = await renderTold(dir, cache)
      assert.is(result.code, 0, `${told}\n${result.stderr}`)
      assert.equal(readTree(out), await fresh(dir), told)
      assert.is((await renderTold(dir, cache, ['render', '--check', '--out', 'out'])).code, 0, told)
    }
  } finally {
    removeDir(dir)
    removeDir(cache)
  }
})

Memo.run()
