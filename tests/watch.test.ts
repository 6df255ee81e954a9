import { spawn } from 'node:child_process'
import type { ChildProcessWithoutNullStreams } from 'node:child_process'
import { appendFileSync, mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs'
import path from 'node:path'
import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import { watchHomelab } from '../src/watch.js'
import { BIN, cliEnv, copyExample, readTree, removeDir, runCli, tempDir, writeFiles } from './helpers/cli.js'

/** Poll `check` until it returns true; fail with `what` (and the context) after `timeoutMs`. */
async function until(check: () => boolean, what: string, context: () => string = () => '', timeoutMs = 60_000): Promise<void> {
  const deadline = Date.now() + timeoutMs
  while (!check()) {
    if (Date.now() > deadline) assert.unreachable(`timed out waiting for ${what}\n${context()}`)
    await new Promise((resolve) => setTimeout(resolve, 50))
  }
}

/** `homelab render --watch` running in `dir`, its output collected as it comes. */
function startWatch(dir: string, args: string[] = []) {
  const child: ChildProcessWithoutNullStreams = spawn(process.execPath, [BIN, 'render', '--watch', '--out', 'out', ...args], {
    cwd: dir,
    env: cliEnv(),
  })
  const output = { stdout: '', stderr: '' }
  child.stdout.setEncoding('utf8').on('data', (d: string) => (output.stdout += d))
  child.stderr.setEncoding('utf8').on('data', (d: string) => (output.stderr += d))
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.on('exit', (code, signal) => resolve({ code, signal })),
  )
  const summaries = () => output.stdout.split('\n').filter((line) => line.startsWith('✔ rendered ')).length
  const errors = () => output.stderr.split('\n').filter((line) => line.startsWith('error: ')).length
  const context = () => `stdout:\n${output.stdout}\nstderr:\n${output.stderr}`
  return { child, output, exited, summaries, errors, context }
}

// ---------------------------------------------------------------------------
const Cli = suite('homelab render --watch (built CLI, example homelab)')

Cli('re-renders on changes of config, partials and crds/, survives a broken template, recovers, ends with 0 on Ctrl-C', async () => {
  const dir = copyExample()
  const watch = startWatch(dir)
  const deployment = path.join(dir, 'out', 'apps', 'whoami', 'deployment.yaml')
  const read = () => readFileSync(deployment, 'utf8')
  try {
    await until(() => watch.summaries() >= 1, 'the first render', watch.context)
    assert.match(watch.output.stdout, /^watching homelab\.config\.yaml, templates\/, crds\/ \(Ctrl-C to stop\)$/m)
    assert.match(read(), /memory: "32Mi"/)

    // an option in the config
    const config = path.join(dir, 'homelab.config.yaml')
    const beforeConfig = watch.summaries()
    writeFileSync(config, readFileSync(config, 'utf8').replace('memory: 32Mi', 'memory: 48Mi'))
    await until(() => read().includes('memory: "48Mi"'), 'the config change in the output', watch.context)
    await until(() => watch.summaries() > beforeConfig, 'a summary line for the change', watch.context)

    // a partial, saved the way editors do: a temp file renamed over the original
    const beforePartial = watch.summaries()
    const partial = path.join(dir, 'templates', '_partials', 'labels.hbs')
    writeFileSync(`${partial}.tmp`, `${readFileSync(partial, 'utf8')}app.kubernetes.io/watched: "yes"\n`)
    renameSync(`${partial}.tmp`, partial)
    await until(() => read().includes('app.kubernetes.io/watched: "yes"'), 'the partial change in the output', watch.context)

    // a broken template: an error line, nothing written, the watch goes on
    const template = path.join(dir, 'templates', 'webapp', 'service.yaml.hbs')
    const good = readFileSync(template, 'utf8')
    await until(() => watch.summaries() > beforePartial, 'the summary of the partial change', watch.context)
    const outBefore = readTree(path.join(dir, 'out'))
    writeFileSync(template, `${good}{{#if options.port}}\n`)
    await until(() => watch.errors() >= 1, 'an error line', watch.context)
    assert.match(watch.output.stderr, /^error: templates\/webapp\/service\.yaml\.hbs:\d+(:\d+)?: /m)
    assert.is(watch.child.exitCode, null, 'still running after the error')
    assert.equal(readTree(path.join(dir, 'out')), outBefore, 'nothing written after an error')

    // fixed: renders again
    const before = watch.summaries()
    writeFileSync(template, good.replace('port: 80', 'port: 8080'))
    await until(() => watch.summaries() > before, 'a render after the fix', watch.context)
    await until(() => readFileSync(path.join(dir, 'out', 'apps', 'whoami', 'service.yaml'), 'utf8').includes('port: 8080'), 'the fixed template in the output', watch.context)

    // crds/ did not exist at the start: its creation and a file in it are seen
    const beforeCrds = watch.summaries()
    mkdirSync(path.join(dir, 'crds'))
    writeFileSync(path.join(dir, 'crds', 'extra.yaml'), '# a CRD file\n')
    await until(() => watch.summaries() > beforeCrds, 'a render after crds/ appeared', watch.context)
    const afterCreate = watch.summaries()
    appendFileSync(path.join(dir, 'crds', 'extra.yaml'), '# more\n')
    await until(() => watch.summaries() > afterCreate, 'a render after a change inside crds/', watch.context)

    watch.child.kill('SIGINT')
    const { code, signal } = await watch.exited
    assert.is(signal, null, watch.context())
    assert.is(code, 0, watch.context())
  } finally {
    if (watch.child.exitCode === null && watch.child.signalCode === null) watch.child.kill('SIGKILL')
    removeDir(dir)
  }
})

Cli('a broken config at the start: the error, then the first good save renders; SIGTERM ends with 0', async () => {
  const dir = copyExample()
  const config = path.join(dir, 'homelab.config.yaml')
  const good = readFileSync(config, 'utf8')
  writeFileSync(config, good.replace('dependsOn: [cert-manager]', 'dependsOn: [cert-manger]'))
  const watch = startWatch(dir)
  try {
    await until(() => watch.errors() >= 1, 'the error of the broken config', watch.context)
    assert.match(watch.output.stderr, /^error: homelab\.config\.yaml:\d+:\d+: .*cert-manger/m)
    assert.is(watch.summaries(), 0)
    writeFileSync(config, good)
    await until(() => watch.summaries() >= 1, 'a render after the fix', watch.context)
    watch.child.kill('SIGTERM')
    assert.equal(await watch.exited, { code: 0, signal: null })
  } finally {
    if (watch.child.exitCode === null && watch.child.signalCode === null) watch.child.kill('SIGKILL')
    removeDir(dir)
  }
})

Cli('--watch with --check is a usage error', async () => {
  const dir = copyExample()
  const result = await runCli(['render', '--watch', '--check'], { cwd: dir })
  assert.is(result.code, 2)
  assert.match(result.stderr, /^error: --watch and --check cannot be combined$/m)
  removeDir(dir)
})

Cli.run()

// ---------------------------------------------------------------------------
const Core = suite('watchHomelab')

/** A folder with a config and templates/, and a watch on it counting runs. */
function startCoreWatch(run: (count: number) => Promise<void> = async () => {}) {
  const dir = tempDir('homelab-watch-')
  writeFiles(dir, { 'homelab.config.yaml': 'a: 1\n', 'templates/t/x.hbs': 'x\n', 'manifests/apps/a/x.yaml': 'x\n' })
  const controller = new AbortController()
  const state = { runs: 0, errors: [] as unknown[] }
  const done = watchHomelab({
    configPath: path.join(dir, 'homelab.config.yaml'),
    run: async () => {
      state.runs++
      await run(state.runs)
    },
    onError: (error) => state.errors.push(error),
    signal: controller.signal,
    debounceMs: 20,
  })
  return { dir, controller, state, done }
}

Core('runs at the start and after a change in templates/, also after templates/ was replaced', async () => {
  const watch = startCoreWatch()
  try {
    await until(() => watch.state.runs === 1, 'the first run')
    writeFileSync(path.join(watch.dir, 'templates', 't', 'x.hbs'), 'y\n')
    await until(() => watch.state.runs === 2, 'a run after a template change')
    // a git checkout or mv may replace the whole folder: the new one is watched
    rmSync(path.join(watch.dir, 'templates'), { recursive: true })
    writeFiles(watch.dir, { 'templates/t/x.hbs': 'z\n' })
    await until(() => watch.state.runs >= 3, 'a run after templates/ was replaced')
    const runs = watch.state.runs
    writeFiles(watch.dir, { 'templates/u/new.hbs': 'new\n' })
    await until(() => watch.state.runs > runs, 'a run after a change inside the new templates/')
    assert.equal(watch.state.errors, [])
  } finally {
    watch.controller.abort()
    await watch.done
    removeDir(watch.dir)
  }
})

Core('a run that throws goes to onError and the watch goes on; abort resolves after closing everything', async () => {
  const watch = startCoreWatch(async (count) => {
    if (count === 2) throw new Error('broken')
  })
  await until(() => watch.state.runs === 1, 'the first run')
  writeFileSync(path.join(watch.dir, 'homelab.config.yaml'), 'a: 2\n')
  await until(() => watch.state.errors.length === 1, 'the error of the second run')
  assert.is((watch.state.errors[0] as Error).message, 'broken')
  writeFileSync(path.join(watch.dir, 'homelab.config.yaml'), 'a: 3\n')
  await until(() => watch.state.runs === 3, 'a third run')
  // resolving means every watcher is closed: had one stayed open, this test process would never exit
  watch.controller.abort()
  await watch.done
  removeDir(watch.dir)
})

Core('an already aborted signal: no run at all', async () => {
  const controller = new AbortController()
  controller.abort()
  let runs = 0
  await watchHomelab({ configPath: 'homelab.config.yaml', run: async () => void runs++, onError: () => {}, signal: controller.signal })
  assert.is(runs, 0)
})

Core.run()
