import { chmodSync, copyFileSync, existsSync, mkdirSync, readdirSync, readFileSync, rmSync, statSync, symlinkSync, utimesSync, writeFileSync } from 'node:fs'
import path from 'node:path'
import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import { ROOT, removeDir, runCli, tempDir } from './helpers/cli.ts'

/**
 * The code cache (code-cache.ts): the second run of a command starts from what V8
 * compiled in the first, and a cache that cannot be used, or is not safe to
 * use, never changes what a command does.
 */
const CodeCache = suite('code cache')

const CONFIG = path.join(ROOT, 'homelab.config.yaml')

async function run(cacheDir: string, args: string[], extra: NodeJS.ProcessEnv = {}) {
  return runCli(args, { env: { HOMELAB_CACHE_DIR: cacheDir, DEBUG: 'homelab', ...extra } })
}

async function graph(cacheDir: string, extra: NodeJS.ProcessEnv = {}) {
  const result = await run(cacheDir, ['graph', '--config', CONFIG], extra)
  assert.is(result.code, 0, result.stderr)
  return result
}

const codeFiles = (cacheDir: string) => readdirSync(path.join(cacheDir, 'code')).sort()
/** The one cache file a run saved (there must be one), besides the files named. */
const savedFile = (cacheDir: string, besides: readonly string[] = []) => {
  const files = codeFiles(cacheDir).filter((name) => !besides.includes(name))
  assert.is(files.length, 1, files.join(', '))
  return path.join(cacheDir, 'code', files[0] as string)
}

CodeCache('the first run of a command saves its compiled code, the next starts from it, with the same output', async () => {
  const cache = tempDir()
  try {
    const first = await graph(cache)
    const saved = savedFile(cache)
    assert.match(path.basename(saved), /^[0-9a-f]{24}-graph\.bin$/)
    assert.match(first.stderr, `debug: code cache: none yet at ${saved}\n`)
    assert.match(first.stderr, `debug: code cache: saved ${saved}\n`)
    assert.ok(statSync(saved).size > 100_000, 'holds the functions the run compiled, not only the top level')

    const second = await graph(cache)
    assert.match(second.stderr, `debug: code cache: started from ${saved}\n`)
    assert.not.match(second.stderr, 'saved')
    assert.is(second.stdout, first.stdout)
    assert.ok(first.stdout.includes('traefik'), first.stdout)
  } finally {
    removeDir(cache)
  }
})

CodeCache("each command has its own file, named past an option's value; a run that failed saves nothing", async () => {
  const cache = tempDir()
  try {
    const before = await run(cache, ['--config', CONFIG, 'graph'])
    assert.is(before.code, 0, before.stderr)
    const failed = await run(cache, ['render', '--config', path.join(cache, 'missing.yaml'), '--out', path.join(cache, 'out')])
    assert.is(failed.code, 1, failed.stderr)
    assert.match(failed.stderr, /code cache: none yet at .*-render\.bin/)
    assert.not.match(failed.stderr, 'saved')
    assert.equal(codeFiles(cache).map((name) => name.replace(/^[0-9a-f]+-/, '')), ['graph.bin'])
  } finally {
    removeDir(cache)
  }
})

CodeCache('a cache saved by a short run (--help) is saved again by a run that compiles much more, once', async () => {
  const cache = tempDir()
  const out = path.join(cache, 'out')
  try {
    assert.is((await run(cache, ['render', '--help'])).code, 0)
    const saved = savedFile(cache)
    const small = statSync(saved).size
    const check = () => run(cache, ['render', '--check', '--config', CONFIG, '--out', out])
    const first = await check()
    assert.is(first.code, 3, first.stderr)
    assert.match(first.stderr, `debug: code cache: started from ${saved}\n`)
    assert.match(first.stderr, `debug: code cache: saved ${saved}\n`)
    assert.ok(statSync(saved).size > 2 * small, `${statSync(saved).size} against ${small}`)
    const second = await check()
    assert.match(second.stderr, `debug: code cache: started from ${saved}\n`)
    assert.not.match(second.stderr, 'saved')
    // and a short run after it keeps the large one
    assert.not.match((await run(cache, ['render', '--help'])).stderr, 'saved')
  } finally {
    removeDir(cache)
  }
})

CodeCache('a damaged cache never reaches V8; one V8 refuses (other flags) is saved again; the command runs as without either', async () => {
  const cache = tempDir()
  try {
    const first = await graph(cache)
    const saved = savedFile(cache)
    const good = readFileSync(saved)
    const flipped = Buffer.from(good)
    const middle = good.length >> 1
    flipped[middle] = (flipped[middle] as number) ^ 1
    for (const damaged of [flipped, good.subarray(0, middle), Buffer.alloc(good.length, 7), Buffer.alloc(0)]) {
      writeFileSync(saved, damaged)
      const again = await graph(cache)
      assert.match(again.stderr, `debug: code cache: damaged, not used: ${saved}\n`)
      assert.match(again.stderr, `debug: code cache: saved ${saved}\n`)
      assert.is(again.stdout, first.stdout)
      assert.match((await graph(cache)).stderr, `debug: code cache: started from ${saved}\n`)
    }
    // V8 keeps a hash of its flags in the cache: a cache made under another heap limit (which names its own file) is refused
    const otherFlags = { NODE_OPTIONS: '--max-old-space-size=300' }
    const other = await graph(cache, otherFlags)
    assert.match(other.stderr, 'debug: code cache: none yet at ')
    const otherFile = codeFiles(cache).map((name) => path.join(cache, 'code', name)).find((file) => file !== saved) as string
    copyFileSync(otherFile, saved)
    const refused = await graph(cache)
    assert.match(refused.stderr, `debug: code cache: refused by V8 at ${saved}\n`)
    assert.match(refused.stderr, `debug: code cache: saved ${saved}\n`)
    assert.is(refused.stdout, first.stdout)
  } finally {
    removeDir(cache)
  }
})

CodeCache('a cache is code: a file others can write, or a link, is not used; saving needs a private code/ folder of its own', async () => {
  if (process.getuid === undefined) return // no file owners to check (Windows)
  const cache = tempDir()
  const elsewhere = tempDir()
  try {
    await graph(cache)
    const dir = path.join(cache, 'code')
    const saved = savedFile(cache)
    assert.is(statSync(saved).mode & 0o077, 0, "the cache file is the user's alone")
    assert.is(statSync(dir).mode & 0o077, 0, 'its folder too')
    assert.is(statSync(cache).mode & 0o077, 0o077 & ~0o022 & statSync(cache).mode, 'the folders above are as the memo makes them')

    chmodSync(saved, 0o666)
    assert.match((await graph(cache)).stderr, `debug: code cache: not used, as not only its owner can write it: ${saved}\n`)

    // a link to a good cache elsewhere
    const target = path.join(elsewhere, 'cache.bin')
    copyFileSync(saved, target)
    rmSync(saved)
    symlinkSync(target, saved)
    assert.match((await graph(cache)).stderr, `debug: code cache: not used, as it is a link: ${saved}\n`)

    // a code/ folder others can write: nothing is saved into it
    rmSync(dir, { recursive: true })
    mkdirSync(dir, { mode: 0o777 })
    chmodSync(dir, 0o777)
    const shared = await graph(cache)
    assert.match(shared.stderr, `debug: code cache: not saved: ${dir} is not a folder of the user's own that only they can write\n`)
    assert.equal(codeFiles(cache), [])

    // code/ a link to another folder: nothing saved there, nothing removed from it
    rmSync(dir, { recursive: true })
    writeFileSync(path.join(elsewhere, 'notes.md'), 'mine\n')
    chmodSync(elsewhere, 0o700)
    symlinkSync(elsewhere, dir)
    assert.match((await graph(cache)).stderr, `debug: code cache: not saved: ${dir} is not a folder`)
    assert.equal(readdirSync(elsewhere).sort(), ['cache.bin', 'notes.md'])
  } finally {
    removeDir(cache)
    removeDir(elsewhere)
  }
})

CodeCache("saving keeps the two newest caches of other bundles per command, removes older ones and stale temp files, and nothing else", async () => {
  const cache = tempDir()
  try {
    const dir = path.join(cache, 'code')
    mkdirSync(dir, { mode: 0o700 })
    const planted: string[] = []
    const plant = (name: string, ageSeconds: number) => {
      planted.push(name)
      writeFileSync(path.join(dir, name), 'x', { mode: 0o600 })
      const time = Date.now() / 1000 - ageSeconds
      utimesSync(path.join(dir, name), time, time)
    }
    plant(`${'1'.repeat(24)}-graph.bin`, 30)
    plant(`${'2'.repeat(24)}-graph.bin`, 20)
    plant(`${'3'.repeat(24)}-graph.bin`, 10)
    plant(`${'4'.repeat(24)}-render.bin`, 40)
    plant(`${'5'.repeat(24)}-graph.bin.0123456789abcdef.tmp`, 3600)
    plant('notes.md', 50)
    await graph(cache)
    const saved = path.basename(savedFile(cache, planted))
    assert.equal(codeFiles(cache), [`${'2'.repeat(24)}-graph.bin`, `${'3'.repeat(24)}-graph.bin`, `${'4'.repeat(24)}-render.bin`, saved, 'notes.md'].sort())
  } finally {
    removeDir(cache)
  }
})

CodeCache('HOMELAB_CACHE=0 or --enable-source-maps keep no code; a cache folder that cannot be written only means starting without it', async () => {
  const cache = tempDir()
  try {
    const off = await graph(cache, { HOMELAB_CACHE: '0' })
    assert.not.match(off.stderr, 'code cache')
    assert.equal(readdirSync(cache), [])
    const mapped = await graph(cache, { NODE_OPTIONS: '--enable-source-maps' })
    assert.not.match(mapped.stderr, 'code cache')
    assert.is(mapped.stdout, off.stdout)
    assert.equal(readdirSync(cache), [])

    const notAFolder = path.join(cache, 'file')
    writeFileSync(notAFolder, '')
    const unwritable = await graph(notAFolder)
    assert.match(unwritable.stderr, 'debug: code cache: not saved: ')
    assert.is(unwritable.stdout, off.stdout)
    assert.not.ok(existsSync(path.join(cache, 'code')))
  } finally {
    removeDir(cache)
  }
})

CodeCache('the bundle holds no import(), which fails in code started from a cache on Node 20', () => {
  // "A dynamic import callback was not specified": bundle.ts makes every import() a require()
  const bundle = readFileSync(path.join(ROOT, 'dist', 'bundle', 'homelab.cjs'), 'utf8')
  assert.not.match(bundle, /\bimport\(/)
})

CodeCache.run()
