import { chmodSync, existsSync, mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs'
import path from 'node:path'
import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import { ROOT, removeDir, runCli, tempDir } from './helpers/cli.ts'

/**
 * The code cache (code-cache.ts): the second run of a command starts from what V8
 * compiled in the first, and a cache that cannot be used never changes what
 * a command does.
 */
const CodeCache = suite('code cache')

const CONFIG = path.join(ROOT, 'homelab.config.yaml')

async function graph(cacheDir: string, extra: NodeJS.ProcessEnv = {}) {
  const result = await runCli(['graph', '--config', CONFIG], { env: { HOMELAB_CACHE_DIR: cacheDir, DEBUG: 'homelab', ...extra } })
  assert.is(result.code, 0, result.stderr)
  return result
}

const codeFiles = (cacheDir: string) => readdirSync(path.join(cacheDir, 'code'))

CodeCache('the first run of a command saves its compiled code, the next starts from it, with the same output', async () => {
  const cache = tempDir()
  try {
    const first = await graph(cache)
    const [file] = codeFiles(cache)
    assert.match(file ?? '', /^[0-9a-f]{24}-graph\.bin$/)
    const saved = path.join(cache, 'code', file as string)
    assert.match(first.stderr, `debug: code cache: none yet at ${saved}\n`)
    assert.match(first.stderr, `debug: code cache: saved ${saved}\n`)
    assert.ok(statSync(saved).size > 10_000, 'holds compiled code, not only the top level')

    const second = await graph(cache)
    assert.match(second.stderr, `debug: code cache: started from ${saved}\n`)
    assert.not.match(second.stderr, 'saved')
    assert.is(second.stdout, first.stdout)
    assert.ok(first.stdout.includes('traefik'), first.stdout)
  } finally {
    removeDir(cache)
  }
})

CodeCache('each command has its own file; a run that failed saves nothing', async () => {
  const cache = tempDir()
  try {
    await graph(cache)
    const failed = await runCli(['render', '--config', path.join(cache, 'missing.yaml'), '--out', path.join(cache, 'out')], {
      env: { HOMELAB_CACHE_DIR: cache, DEBUG: 'homelab' },
    })
    assert.is(failed.code, 1, failed.stderr)
    assert.match(failed.stderr, /code cache: none yet at .*-render\.bin/)
    assert.not.match(failed.stderr, 'saved')
    assert.equal(codeFiles(cache).map((name) => name.replace(/^[0-9a-f]+-/, '')), ['graph.bin'])
  } finally {
    removeDir(cache)
  }
})

CodeCache('a damaged cache never reaches V8; one V8 refuses (other flags) is saved again; the command runs as without either', async () => {
  const cache = tempDir()
  try {
    const first = await graph(cache)
    const saved = path.join(cache, 'code', codeFiles(cache)[0] as string)
    const good = readFileSync(saved)
    const flipped = Buffer.from(good)
    const middle = good.length >> 1
    flipped[middle] = (flipped[middle] as number) ^ 1
    for (const damaged of [flipped, good.subarray(0, good.length >> 1), Buffer.alloc(good.length, 7), Buffer.alloc(0)]) {
      writeFileSync(saved, damaged)
      const run = await graph(cache)
      assert.match(run.stderr, `debug: code cache: damaged, not used: ${saved}\n`)
      assert.match(run.stderr, `debug: code cache: saved ${saved}\n`)
      assert.is(run.stdout, first.stdout)
      assert.match((await graph(cache)).stderr, `debug: code cache: started from ${saved}\n`)
    }
    // V8 keeps a hash of its flags in the cache: another heap limit is another cache
    const otherFlags = await graph(cache, { NODE_OPTIONS: '--max-old-space-size=300' })
    assert.match(otherFlags.stderr, `debug: code cache: refused by V8 at ${saved}\n`)
    assert.match(otherFlags.stderr, `debug: code cache: saved ${saved}\n`)
    assert.is(otherFlags.stdout, first.stdout)
  } finally {
    removeDir(cache)
  }
})

CodeCache('a cache is code: one that others can write, or in a folder others can write, is not used; saved ones are private', async () => {
  if (process.getuid === undefined) return // no file owners to check (Windows)
  const cache = tempDir()
  try {
    await graph(cache)
    const dir = path.join(cache, 'code')
    const saved = path.join(dir, codeFiles(cache)[0] as string)
    assert.is(statSync(saved).mode & 0o077, 0, 'the cache file is the user\'s alone')
    assert.is(statSync(dir).mode & 0o077, 0, 'its folder too')
    for (const [target, mode] of [[saved, 0o666], [dir, 0o777]] as const) {
      chmodSync(target, mode)
      const run = await graph(cache)
      assert.match(run.stderr, `debug: code cache: not used, as not only its owner can write it: ${saved}\n`)
      chmodSync(target, target === dir ? 0o700 : 0o600)
    }
  } finally {
    removeDir(cache)
  }
})

CodeCache("saving removes other bundles' caches, and leaves no temp file", async () => {
  const cache = tempDir()
  try {
    mkdirSync(path.join(cache, 'code'))
    const old = path.join(cache, 'code', `${'0'.repeat(24)}-graph.bin`)
    writeFileSync(old, 'code of an earlier homelab')
    await graph(cache)
    assert.not.ok(existsSync(old))
    assert.equal(codeFiles(cache).length, 1)
    assert.match(codeFiles(cache)[0] ?? '', /-graph\.bin$/)
  } finally {
    removeDir(cache)
  }
})

CodeCache('HOMELAB_CACHE=0 keeps no code; a cache folder that cannot be written only means starting without it', async () => {
  const cache = tempDir()
  try {
    const off = await graph(cache, { HOMELAB_CACHE: '0' })
    assert.not.match(off.stderr, 'code cache')
    assert.equal(readdirSync(cache), [])

    const notAFolder = path.join(cache, 'file')
    writeFileSync(notAFolder, '')
    const run = await graph(notAFolder)
    assert.match(run.stderr, 'debug: code cache: not saved: ')
    assert.is(run.stdout, off.stdout)
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
