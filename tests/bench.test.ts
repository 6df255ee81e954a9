/**
 * The benchmark must not rot: its generated homelab and Helm charts render the
 * same objects, a small run produces every row with finite numbers, and the
 * profile summary adds up. No timing assertions.
 */
import { spawnSync } from 'node:child_process'
import { utimesSync, writeFileSync } from 'node:fs'
import path from 'node:path'
import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { parseAllDocuments } from 'yaml'
import { runBenchmark } from '../bench/bench.js'
import type { Timing } from '../bench/bench.js'
import { benchApps, objectFileCount, writeFlatHelmChart, writeHelmChart, writeHomelab } from '../bench/generate.js'
import { loadProfiles, ownInclusiveTimes, selfTimes, summarizeProfile } from '../bench/profile-summary.js'
import type { CpuProfile } from '../bench/profile-summary.js'
import { formatReport } from '../bench/report.js'
import { readTree, removeDir, runCli, tempDir } from './helpers/cli.js'
import { helmPath } from './helpers/tools.js'

/** Every non-empty document of a YAML stream, read as Kubernetes reads it (YAML 1.1), keys sorted. */
function objects(text: string): string[] {
  const sortKeys = (value: unknown): unknown =>
    Array.isArray(value)
      ? value.map(sortKeys)
      : value && typeof value === 'object'
        ? Object.fromEntries(Object.entries(value).sort(([a], [b]) => a.localeCompare(b)).map(([k, v]) => [k, sortKeys(v)]))
        : value
  return parseAllDocuments(text, { version: '1.1' })
    .map((doc) => doc.toJS() as unknown)
    .filter((data) => data !== null)
    .map((data) => JSON.stringify(sortKeys(data)))
}

for (const [shape, writeChart] of [
  ['umbrella', writeHelmChart],
  ['flat', writeFlatHelmChart],
] as const) {
  test(`the homelab and the ${shape} Helm chart of the benchmark render the same objects`, async () => {
    const dir = tempDir('homelab-bench-objects-')
    try {
      const apps = benchApps(8, 1)
      writeHomelab(path.join(dir, 'homelab'), apps)
      writeChart(path.join(dir, 'chart'), apps)
      const rendered = await runCli(['render', '--config', 'homelab/homelab.config.yaml', '--out', 'out'], { cwd: dir })
      assert.is(rendered.code, 0, rendered.stderr)
      const fromHomelab = [...readTree(path.join(dir, 'out')).entries()]
        .filter(([file]) => /^apps\/app-\d+\/(?!kustomization\.yaml)/.test(file))
        .flatMap(([, text]) => objects(text))
        .sort()
      const helm = spawnSync(await helmPath(), ['template', 'bench', path.join(dir, 'chart')], { encoding: 'utf8', env: { ...process.env, KUBECONFIG: '/dev/null' } })
      assert.is(helm.status, 0, helm.stderr)
      const fromHelm = objects(helm.stdout).sort()
      assert.is(fromHomelab.length, objectFileCount(apps))
      assert.equal(fromHomelab, fromHelm)
      // YAML 1.1 traps survive as strings on both sides
      assert.ok(fromHelm.some((o) => o.includes('"FEATURE_FLAGS":"on"')))
      assert.ok(fromHelm.some((o) => o.includes('"FEATURE_FLAGS":"no"')))
    } finally {
      removeDir(dir)
    }
  })
}

test('a one-app change differs from the base config in one app only', () => {
  const base = benchApps(20)
  const changed = benchApps(20, 2)
  const differing = base.filter((app, i) => JSON.stringify(app) !== JSON.stringify(changed[i]))
  assert.is(differing.length, 1)
})

test('a small run of the benchmark produces every row with finite numbers', async () => {
  const result = await runBenchmark({ sizes: [5], runs: 1, warmup: 0, build: false })
  const finite = (timing: Timing, what: string) => {
    assert.ok(timing.samples.length >= 1, what)
    assert.ok(Number.isFinite(timing.median) && timing.median > 0, `${what}: ${timing.median}`)
  }
  assert.is(result.sizes.length, 1)
  const size = result.sizes[0]!
  assert.is(size.apps, 5)
  assert.ok(size.files >= objectFileCount(benchApps(5)) + 5, `files: ${size.files}`)
  for (const key of ['helmTemplate', 'helmFlatTemplate', 'check', 'helmOutputDir', 'render', 'floor', 'noop', 'change'] as const) finite(size[key], key)
  finite(result.version.homelab, 'homelab --version')
  finite(result.version.node, 'node -e 0')
  // the summary line and the file system agree on what a re-render wrote
  assert.equal(size.noopRewritten.summary, size.noopRewritten.onDisk)
  assert.equal(size.changeRewritten.summary, size.changeRewritten.onDisk)
  assert.ok(size.changeRewritten.onDisk[0]! >= 1)
  // under render --watch, the same change: rendered and timed, its files written
  finite(size.watchChange.render, 'watch: render')
  finite(size.watchChange.saveToSummary, 'watch: config written to summary')
  assert.ok(size.watchChange.saveToSummary.median >= size.watchChange.render.median, 'the render is part of the wait')
  assert.equal(size.watchChange.written, [size.changeRewritten.summary[0]])
  for (const mb of [size.memory.render, size.memory.check]) assert.ok(mb !== undefined && Number.isFinite(mb) && mb > 0, `memory ${mb}`)

  const report = formatReport(result)
  for (const row of ['render --check, empty folder', 'render, new folder', 'write floor', 'no-op re-render', 'one-app change', 'one-app change under render --watch', 'peak memory', 'homelab --version', 'target (issue 6)']) {
    assert.ok(report.includes(row), `report lacks "${row}"`)
  }
  assert.not.match(report, /NaN|Infinity|undefined/)
  assert.match(report, /\| --version ≤ 1\.3× node -e 0 \| [\d.]+× .* \| [✔✖] \|/)
})

test('the profile summary adds self time by function, file and package', () => {
  const frame = (functionName: string, url: string) => ({ functionName, url, lineNumber: 0 })
  const profile: CpuProfile = {
    nodes: [
      { id: 1, callFrame: frame('(root)', ''), children: [2, 3] },
      { id: 2, callFrame: frame('render', 'file:///repo/dist/render.js'), children: [4] },
      { id: 3, callFrame: frame('(garbage collector)', '') },
      { id: 4, callFrame: frame('compile', 'file:///repo/node_modules/handlebars/dist/cjs/handlebars.js') },
    ],
    startTime: 0,
    endTime: 10_000,
    // a sample lasts until the next: 2 ms in render, 5 ms in compile, the last 3 ms (to endTime) in the garbage collector
    samples: [2, 4, 3],
    timeDeltas: [0, 2_000, 5_000],
  }
  const times = selfTimes(profile, '/repo')
  assert.equal(times.functions.map((t) => [t.name, t.ms]), [
    ['compile node_modules/handlebars/dist/cjs/handlebars.js:1', 5],
    ['(garbage collector)', 3],
    ['render dist/render.js:1', 2],
  ])
  assert.equal(times.packages.map((t) => [t.name, t.ms]), [['handlebars', 5], ['(garbage collector)', 3], ['homelab (dist)', 2]])
  // render's total holds the handlebars compile it called
  assert.equal(ownInclusiveTimes(profile, '/repo').map((t) => [t.name, t.ms]), [['render dist/render.js:1', 7]])
  assert.match(summarizeProfile(profile, { root: '/repo' }), /\| 5\.0 \| 50\.0 % \| `handlebars` \|/)

  // a folder: every thread of the newest run (by pid), added up
  const dir = tempDir('homelab-bench-prof-')
  try {
    const write = (name: string, ageSeconds: number) => {
      writeFileSync(path.join(dir, name), JSON.stringify(profile))
      const when = Date.now() / 1000 - ageSeconds
      utimesSync(path.join(dir, name), when, when)
    }
    write('CPU.20260101.120000.100.0.001.cpuprofile', 60)
    write('CPU.20260101.120100.200.0.001.cpuprofile', 2)
    write('CPU.20260101.120100.200.1.002.cpuprofile', 1)
    const profiles = loadProfiles(dir)
    assert.is(profiles.length, 2)
    assert.equal(selfTimes(profiles, '/repo').packages[0], { name: 'handlebars', ms: 10 })
  } finally {
    removeDir(dir)
  }
})

test.run()
