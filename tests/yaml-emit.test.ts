/**
 * The quick YAML writer may only ever write what the yaml library writes:
 * for every value it takes, the bytes equal stringifyKubernetesYaml's. Held
 * to that on the shapes render writes (Flux Kustomizations, kustomization.yaml,
 * toYaml of options) and on thousands of seeded random values.
 *
 * HOMELAB_FUZZ_SEED replays a run; HOMELAB_FUZZ_RUNS sets the number of values (default 5000).
 */
import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { appKustomization, kustomizeFile } from '../src/flux-objects.ts'
import type { ResolvedApp } from '../src/config/types.ts'
import { emitPlainYaml } from '../src/yaml-emit.ts'
import { stringifyKubernetesYaml, toKubernetesYaml } from '../src/yaml-source.ts'
import { caseRng, fuzzRuns, fuzzSeed } from './helpers/mutate.ts'
import type { Rng } from './helpers/mutate.ts'

const SEED = fuzzSeed()
const RUNS = fuzzRuns(5000)

function same(value: unknown, label: string): boolean {
  const quick = emitPlainYaml(value)
  if (quick === undefined) return false
  assert.fixture(quick, stringifyKubernetesYaml(value), `${label}: ${JSON.stringify(value)}`)
  return true
}

test('writes what render writes, byte for byte as the yaml library', () => {
  const app = { id: 'web-1', dependsOn: ['db'], kustomization: { interval: '10m', prune: true, wait: false, timeout: '5m' } } as unknown as ResolvedApp
  const values: unknown[] = [
    appKustomization(app, new Set(['db'])),
    { apiVersion: 'kustomize.config.k8s.io/v1beta1', kind: 'Kustomization', resources: ['a.yaml', 'b.yaml'] },
    { requests: { cpu: '50m', memory: '64Mi' }, limits: { memory: '128Mi' } },
    { LOG_LEVEL: 'info', FEATURE: 'on', PORT: ':8080', EMPTY: '' },
    [[1, [2, { a: [] }]], { b: { c: [{ d: {} }] } }],
    'word',
    42,
    null,
    {},
    [],
  ]
  let decided = 0
  for (const [i, value] of values.entries()) if (same(value, `value ${i}`)) decided++
  assert.ok(decided >= 7, `decided ${decided}`)
  assert.ok(kustomizeFile(['x.yaml']).endsWith('resources:\n  - x.yaml\n'))
  // strings YAML 1.1 or 1.2 readers would take for something else are quoted; anything unusual goes to the library, whole
  assert.is(emitPlainYaml({ a: 'on', b: '0x1f', c: '1e5', d: ':8080' }), 'a: "on"\nb: "0x1f"\nc: "1e5"\nd: :8080\n')
  assert.is(emitPlainYaml({ a: 'line\nbreak' }), undefined)
  assert.is(toKubernetesYaml({ a: 'it\'s "x"' }), stringifyKubernetesYaml({ a: 'it\'s "x"' }))
})

const STRINGS = ['a', 'web', 'app.kubernetes.io/name', './apps/x', '_x', 'A-b_c.d', '50m', '64Mi', '10s', '1e5', '1E', '0x1f', '0o17', '007', '12', '1.5', 'yes', 'No', 'on', 'OFF', 'y', 'N', 'true', 'Null', '~', '', ' a', 'a ', 'a b', 'a: b', ':8080', '-a', '- a', '#x', 'x #y', 'a\nb', "it's", 'say "hi"', '.inf', '.5', 'é', '<<', '__proto__', 'x'.repeat(1030), ':8080', '%x', '---', '--- a', '...x', '2001-12-14', '190:20:30', '0b101', '+1', '1_000', 'NaN', 'Yes', '#', 'a#b', 'a:', '-', '?', '? a', '[a]', '{a}', 'a,b', '&a', '!a', '|', '>', '@a', '`a', 'a\\b', 'x y z', '12:30', '1.0', '-1', '.inf', '0755']
const KEYS = ['a', 'name', 'app.kubernetes.io/name', 'b-c', '1', 'on', 'a b', '', 'x:y', '-k']

function randomValue(rng: Rng, depth: number): unknown {
  const roll = rng.int(depth > 3 ? 5 : 9)
  switch (roll) {
    case 0:
    case 1:
      return rng.pick(STRINGS)
    case 2:
      return rng.pick([0, 1, -5, 42, 1.5, -0, 2 ** 53, Number.NaN, 1e21])
    case 3:
      return rng.pick([true, false, null])
    case 4:
      return rng.chance(0.5) ? {} : []
    case 5:
    case 6: {
      const object: Record<string, unknown> = {}
      for (let n = 1 + rng.int(4); n > 0; n--) object[rng.chance(0.85) ? rng.pick(KEYS.slice(0, 4)) + rng.int(3) : rng.pick(KEYS)] = rng.chance(0.05) ? undefined : randomValue(rng, depth + 1)
      return object
    }
    default:
      return Array.from({ length: 1 + rng.int(3) }, () => randomValue(rng, depth + 1))
  }
}

test(`writes ${RUNS} random values as the yaml library does (seed ${SEED})`, () => {
  let decided = 0
  for (let i = 0; i < RUNS; i++) if (same(randomValue(caseRng(SEED, i), 0), `value ${i} (HOMELAB_FUZZ_SEED=${SEED})`)) decided++
  assert.ok(decided > RUNS / 5, `the quick path took only ${decided} of ${RUNS} values`)
  console.log(`  yaml emit: took ${decided} of ${RUNS} random values, each as the yaml library writes it`)
})

test.run()
