/**
 * What kubectl kustomize refuses to build though the yaml library reads it,
 * held to the real kubectl: the name-reference fields of kustomize-refs.ts
 * (for every listed path, an object that fills the path builds, and one
 * whose field is a mapping without `name` fails in both; so do hand-picked
 * shapes: a scalar on the way, lists, nulls, a kind of another group), and
 * YAML merges of what Go's reader cannot merge. Each case runs
 * `kubectl kustomize` on a folder of its own.
 */
import { mkdirSync, writeFileSync } from 'node:fs'
import path from 'node:path'
import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import { stringify } from 'yaml'
import { HomelabError } from '../src/errors.ts'
import { checkManifestFile } from '../src/check-manifests.ts'
import { findRefFieldProblem, refFieldList } from '../src/kustomize-refs.ts'
import { removeDir, tempDir } from './helpers/cli.ts'
import { kustomizeBuild } from './helpers/tools.ts'

const Refs = suite('name-reference fields and merges, against kubectl kustomize')

/** A plausible apiVersion for a kind of any group. */
const API_VERSIONS: Record<string, string> = {
  Deployment: 'apps/v1', ReplicaSet: 'apps/v1', DaemonSet: 'apps/v1', StatefulSet: 'apps/v1', Job: 'batch/v1', CronJob: 'batch/v1',
  HorizontalPodAutoscaler: 'autoscaling/v2', Role: 'rbac.authorization.k8s.io/v1', ClusterRole: 'rbac.authorization.k8s.io/v1',
  Ingress: 'networking.k8s.io/v1', StorageClass: 'storage.k8s.io/v1', HTTPRoute: 'gateway.networking.k8s.io/v1',
}

function apiVersionOf(entry: { group?: string; version?: string; kind: string }): string {
  if (entry.group === undefined) return API_VERSIONS[entry.kind] ?? 'v1'
  const version = entry.version ?? 'v1'
  return entry.group === '' ? version : `${entry.group}/${version}`
}

/** An object of `kind` holding `leaf` at `fieldPath` (mappings all the way). */
function objectWith(apiVersion: string, kind: string, fieldPath: readonly string[], leaf: unknown, name = 'x'): Record<string, unknown> {
  const object: Record<string, unknown> = { apiVersion, kind, metadata: { name } }
  let at = object
  for (const [i, key] of fieldPath.entries()) {
    if (i === fieldPath.length - 1) {
      at[key] = leaf
    } else {
      at[key] = (at[key] as Record<string, unknown> | undefined) ?? {}
      at = at[key] as Record<string, unknown>
    }
  }
  return object
}

interface Case {
  label: string
  /** The object, written with the yaml library; or the file's text as it is. */
  object?: Record<string, unknown>
  text?: string
}

const textOf = (c: Case): string => c.text ?? stringify(c.object)

/** What homelab's check says of the case: undefined when it passes, else its error. */
function ours(c: Case): string | undefined {
  const text = textOf(c)
  try {
    checkManifestFile(text, 'r.yaml', 'test')
  } catch (error) {
    if (error instanceof HomelabError) return error.oneLine
    throw error
  }
  if (c.object) assert.is(findRefFieldProblem(c.object), undefined, `the check passed ${text} but findRefFieldProblem did not`)
  return undefined
}

/** Build each case alone with kubectl (a few at once); each must pass or fail in both. */
async function agree(cases: readonly Case[]): Promise<{ ok: number; failed: number }> {
  const dir = tempDir('homelab-refs-')
  const counts = { ok: 0, failed: 0 }
  const mismatches: string[] = []
  try {
    let next = 0
    const worker = async () => {
      while (next < cases.length) {
        const index = next++
        const c = cases[index] as Case
        const folder = path.join(dir, String(index))
        mkdirSync(folder)
        writeFileSync(path.join(folder, 'kustomization.yaml'), 'resources:\n  - r.yaml\n')
        writeFileSync(path.join(folder, 'r.yaml'), textOf(c))
        const kubectl = await kustomizeBuild(folder)
        const error = ours(c)
        if (kubectl.ok !== (error === undefined)) {
          mismatches.push(`${c.label}: kubectl ${kubectl.ok ? 'builds it' : `fails (${kubectl.stderr.trim().slice(0, 200)})`}, homelab ${error ? `rejects it (${error})` : 'accepts it'}`)
        }
        counts[kubectl.ok ? 'ok' : 'failed']++
      }
    }
    await Promise.all(Array.from({ length: 4 }, worker))
  } finally {
    removeDir(dir)
  }
  assert.equal(mismatches, [], mismatches.join('\n'))
  return counts
}

Refs('every listed path: filled with a name it builds; a mapping without name there fails, in both', async () => {
  const filled: Case[] = []
  const broken: Case[] = []
  for (const [i, entry] of refFieldList().entries()) {
    const apiVersion = apiVersionOf(entry)
    const label = `${apiVersion} ${entry.kind} ${entry.path.join('/')}`
    const name = entry.path.at(-1) === 'subjects' ? [{ kind: 'ServiceAccount', name: 'a', namespace: 'n' }] : 'a'
    filled.push({ label: `${label} = a name`, object: objectWith(apiVersion, entry.kind, entry.path, name, `x${i}`) })
    broken.push({ label: `${label} = {other: a}`, object: objectWith(apiVersion, entry.kind, entry.path, { other: 'a' }) })
  }
  // the filled ones in one build: each passes homelab's check, and kubectl builds them all
  for (const c of filled) assert.is(ours(c), undefined, c.label)
  const dir = tempDir('homelab-refs-')
  try {
    writeFileSync(path.join(dir, 'kustomization.yaml'), 'resources:\n  - r.yaml\n')
    writeFileSync(path.join(dir, 'r.yaml'), filled.map(textOf).join('---\n'))
    const kubectl = await kustomizeBuild(dir)
    assert.ok(kubectl.ok, kubectl.stderr)
    assert.is(kubectl.stdout.match(/^kind: /gm)?.length, filled.length, 'kubectl wrote every object')
  } finally {
    removeDir(dir)
  }
  const counts = await agree(broken)
  assert.is(counts.failed, broken.length, 'kubectl fails on each')
})

Refs('scalars, lists and nulls on the way, and kinds of another group, as kubectl decides', async () => {
  const pod = (spec: unknown) => ({ apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name: 'x' }, spec: { template: { spec } } })
  const cases: Case[] = [
    { label: 'Ingress annotations a string', object: { apiVersion: 'networking.k8s.io/v1', kind: 'Ingress', metadata: { name: 'x', annotations: 'a: b' } } },
    { label: 'Ingress annotations a list', object: { apiVersion: 'networking.k8s.io/v1', kind: 'Ingress', metadata: { name: 'x', annotations: ['a'] } } },
    { label: 'ConfigMap annotations a string', object: { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'x', annotations: 'a: b' } } },
    { label: 'Service spec a string', object: { apiVersion: 'v1', kind: 'Service', metadata: { name: 'x' }, spec: 'a' } },
    { label: 'Deployment spec a string', object: { apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name: 'x' }, spec: 'a' } },
    { label: 'Deployment template null', object: { apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name: 'x' }, spec: { template: null } } },
    { label: 'Deployment template an empty string', object: { apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name: 'x' }, spec: { template: '' } } },
    { label: 'Deployment template false', object: { apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name: 'x' }, spec: { template: false } } },
    { label: 'volumes a string', object: pod({ volumes: 'a' }) },
    { label: 'volumes [null]', object: pod({ volumes: [null] }) },
    { label: 'volumes [""]', object: pod({ volumes: [''] }) },
    { label: 'volumes [[configMap]]', object: pod({ volumes: [[{ configMap: { name: 'a' } }]] }) },
    { label: 'env valueFrom a string', object: pod({ containers: [{ name: 'c', env: [{ name: 'E', valueFrom: 'a' }] }] }) },
    { label: 'serviceAccountName 12', object: pod({ serviceAccountName: 12 }) },
    { label: 'serviceAccountName [a]', object: pod({ serviceAccountName: ['a'] }) },
    { label: 'serviceAccountName [null]', object: pod({ serviceAccountName: [null] }) },
    { label: 'serviceAccountName [[a]]', object: pod({ serviceAccountName: [['a']] }) },
    { label: 'serviceAccountName {name: a}', object: pod({ serviceAccountName: { name: 'a' } }) },
    { label: 'serviceAccountName [{a: b}]', object: pod({ serviceAccountName: [{ a: 'b' }] }) },
    { label: 'RoleBinding subjects a string', object: { apiVersion: 'rbac.authorization.k8s.io/v1', kind: 'RoleBinding', metadata: { name: 'x' }, subjects: 'a' } },
    { label: 'RoleBinding subjects [a]', object: { apiVersion: 'rbac.authorization.k8s.io/v1', kind: 'RoleBinding', metadata: { name: 'x' }, subjects: ['a'] } },
    { label: 'RoleBinding of another group, subjects [a]', object: { apiVersion: 'example.com/v1', kind: 'RoleBinding', metadata: { name: 'x' }, subjects: ['a'] } },
    { label: 'Pod of another group, spec a string', object: { apiVersion: 'example.com/v2', kind: 'Pod', metadata: { name: 'x' }, spec: 'a' } },
    { label: 'Pod of another group, volumes a string', object: { apiVersion: 'example.com/v2', kind: 'Pod', metadata: { name: 'x' }, spec: { volumes: 'a' } } },
    { label: 'knative Service spec a string', object: { apiVersion: 'serving.knative.dev/v1', kind: 'Service', metadata: { name: 'x' }, spec: 'a' } },
  ]
  const counts = await agree(cases)
  assert.ok(counts.ok > 0 && counts.failed > 0, `both outcomes: ${JSON.stringify(counts)}`)
})

Refs('YAML merges ("<<"): of mappings, aliases of mappings and lists of those, as kubectl decides', async () => {
  const configMap = (rest: string) => `apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: x\n${rest}`
  const cases: Case[] = [
    ['a mapping', 'data:\n  <<: {a: b}\n  c: d\n'],
    ['an alias of a mapping', 'x: &m {a: b}\ndata:\n  <<: *m\n'],
    ['a list of mappings and aliases', 'x: &m {a: b}\ndata:\n  <<: [*m, {c: d}]\n'],
    ['an empty list', 'data:\n  <<: []\n'],
    ['a list of strings', 'data:\n  <<: [a, b]\n'],
    ['a list holding null', 'data:\n  <<: [null]\n'],
    ['an alias of a string', 'x: &s b\ndata:\n  <<: *s\n'],
    ['an alias of a list of mappings', 'x: &l [{a: b}]\ndata:\n  <<: *l\n'],
    ['a list holding an alias of a string', 'x: &s b\ndata:\n  <<: [{a: b}, *s]\n'],
  ].map(([label, rest]) => ({ label: `merge of ${label}`, text: configMap(rest as string) }))
  // a field kustomize walks for names, brought in by a merge
  const deployment = (template: string) =>
    `apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: x\n  annotations:\n    base: &base\n      template: ${template}\nspec:\n  <<: *base\n  replicas: 1\n`
  cases.push({ label: 'merged-in spec.template a string', text: deployment('oops') }, { label: 'merged-in spec.template null', text: deployment('null') })
  const counts = await agree(cases)
  assert.equal(counts, { ok: 5, failed: 6 })
})

Refs('the error names the field, the object and the line', () => {
  const text = 'apiVersion: networking.k8s.io/v1\nkind: Ingress\nmetadata:\n  name: web\n  annotations:\n    # a comment\n    cert-manager.io/cluster-issuer:x "letsencrypt"\n'
  try {
    checkManifestFile(text, 'ingress.yaml', 'app "web"')
    assert.unreachable('the check passed')
  } catch (error) {
    assert.instance(error, HomelabError)
    assert.is(
      (error as HomelabError).oneLine,
      'ingress.yaml:7:5: metadata.annotations is a string, where kubectl kustomize expects a mapping or a list (Ingress "web", app "web")',
    )
  }
})

Refs.run()
