import { execFileSync } from 'node:child_process'
import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import { formatDot, formatMermaid } from '../src/graph.js'
import type { AppGraph } from '../src/graph.js'
import { copyExample, minimalConfig, minimalHomelab, removeDir, runCli } from './helpers/cli.js'

/** Run real Graphviz on dot text; return the SVG. */
function graphviz(dot: string): string {
  return execFileSync('dot', ['-Tsvg'], { input: dot, encoding: 'utf8' })
}

/** Edges of a dot graph as `from -> to` (ids unquoted). */
function dotEdges(dot: string): string[] {
  return [...dot.matchAll(/^ {2}"([^"]+)" -> "([^"]+)";$/gm)].map((m) => `${m[1]} -> ${m[2]}`)
}

/** Nodes (label by node id) and edges (as labels) of a Mermaid flowchart, checking every line's shape. */
function parseMermaid(text: string): { labels: Map<string, string>; edges: string[] } {
  const lines = text.trimEnd().split('\n')
  assert.is(lines[0], 'flowchart LR')
  const labels = new Map<string, string>()
  const edges: string[] = []
  for (const line of lines.slice(1)) {
    const node = /^ {2}(app\d+)\["([^"]*)"\]$/.exec(line)
    const edge = /^ {2}(app\d+) --> (app\d+)$/.exec(line)
    if (node) labels.set(node[1] as string, node[2] as string)
    else if (edge) edges.push(`${labels.get(edge[1] as string)} -> ${labels.get(edge[2] as string)}`)
    else assert.ok(/^ {2}(classDef \w+ [\w:;\- ]+|class app\d+(,app\d+)* \w+)$/.test(line), `unexpected line: ${line}`)
  }
  return { labels, edges }
}

// ---------------------------------------------------------------------------
const Example = suite('homelab graph on the example homelab')

const EXAMPLE_EDGES = [
  'cluster-base -> cert-manager',
  'cluster-base -> traefik',
  'cert-manager -> cert-issuers',
  'cert-issuers -> whoami',
  'cert-issuers -> homepage',
  'traefik -> whoami',
  'traefik -> homepage',
]

Example('text: every enabled app in dependency order with its dependents; marks; the disabled app is left out', async () => {
  const dir = copyExample()
  const result = await runCli(['graph'], { cwd: dir })
  assert.is(result.code, 0, result.stderr)
  assert.fixture(
    result.stdout,
    [
      'cluster-base [bootstrap] -> cert-manager, traefik',
      'cert-manager -> cert-issuers',
      'cert-issuers -> whoami, homepage',
      'traefik -> whoami, homepage',
      'whoami',
      'homepage',
      'toolbox [flux: false]',
      '',
    ].join('\n'),
  )
  assert.not.match(result.stdout, /monitoring/)
  removeDir(dir)
})

Example('dot: exactly the dependency -> dependent edges, accepted by Graphviz', async () => {
  const dir = copyExample()
  const result = await runCli(['graph', '--format', 'dot'], { cwd: dir })
  assert.is(result.code, 0, result.stderr)
  assert.equal(dotEdges(result.stdout), EXAMPLE_EDGES)
  assert.match(result.stdout, /^ {2}"cluster-base" \[label="cluster-base\\n\(bootstrap\)", style="bold"\];$/m)
  assert.match(result.stdout, /^ {2}"toolbox" \[label="toolbox\\n\(flux: false\)", style="dashed"\];$/m)
  const svg = graphviz(result.stdout)
  assert.match(svg, /<svg /)
  for (const id of ['cluster-base', 'cert-manager', 'cert-issuers', 'traefik', 'whoami', 'homepage', 'toolbox']) {
    assert.ok(svg.includes(`<title>${id.replace(/-/g, '&#45;')}</title>`), `node ${id} drawn`)
  }
  assert.match(svg, /<title>cluster&#45;base&#45;&gt;cert&#45;manager<\/title>/, 'edge drawn')
  removeDir(dir)
})

Example('mermaid: a flowchart with one node per app and the same edges', async () => {
  const dir = copyExample()
  const result = await runCli(['graph', '--format', 'mermaid'], { cwd: dir })
  assert.is(result.code, 0, result.stderr)
  const { labels, edges } = parseMermaid(result.stdout)
  assert.equal([...labels.values()], [
    'cluster-base<br/>(bootstrap)', 'cert-manager', 'cert-issuers', 'traefik', 'whoami', 'homepage', 'toolbox<br/>(flux: false)',
  ])
  assert.equal(edges.map((e) => e.replace(/<br\/>\(bootstrap\)/, '')), EXAMPLE_EDGES)
  assert.match(result.stdout, /^ {2}class app0 bootstrap$/m)
  assert.match(result.stdout, /^ {2}class app6 noflux$/m)
  removeDir(dir)
})

Example('an unknown --format is a usage error (exit 2)', async () => {
  const dir = copyExample()
  const result = await runCli(['graph', '--format', 'png'], { cwd: dir })
  assert.is(result.code, 2)
  assert.match(result.stderr, /^error: --format must be one of text, mermaid, dot, not "png"$/m)
  assert.is(result.stdout, '')
  removeDir(dir)
})

Example.run()

// ---------------------------------------------------------------------------
const Fixture = suite('homelab graph on a small fixture')

// `end` is a Mermaid keyword and `ops` starts like a Mermaid edge (`--o`): both must stay plain nodes
const FIXTURE = minimalConfig(
  [
    '  - template: web',
    '    id: end',
    '  - template: web',
    '    id: ops',
    '    dependsOn: [end]',
    '    bootstrap: true',
    '  - template: web',
    '    id: db',
    '    flux: false',
    '    bootstrap: true',
    '  - template: web',
    '    id: api',
    '    dependsOn: [ops, db, end]',
    '  - template: web',
    '    id: off',
    '    enabled: false',
    '    dependsOn: [api]',
  ].join('\n'),
)
const FIXTURE_EDGES = ['end -> ops', 'end -> api', 'ops -> api', 'db -> api']

Fixture('text', async () => {
  const dir = minimalHomelab(FIXTURE)
  const result = await runCli(['graph', '--format', 'text'], { cwd: dir })
  assert.is(result.code, 0, result.stderr)
  assert.fixture(result.stdout, ['end -> ops, api', 'ops [bootstrap] -> api', 'db [bootstrap] [flux: false] -> api', 'api', ''].join('\n'))
  removeDir(dir)
})

Fixture('dot through Graphviz', async () => {
  const dir = minimalHomelab(FIXTURE)
  const result = await runCli(['graph', '--format', 'dot'], { cwd: dir })
  assert.is(result.code, 0, result.stderr)
  assert.equal(dotEdges(result.stdout), FIXTURE_EDGES)
  assert.match(result.stdout, /^ {2}"db" \[label="db\\n\(bootstrap\)\\n\(flux: false\)", style="bold,dashed"\];$/m)
  assert.not.match(result.stdout, /"off"/)
  assert.match(graphviz(result.stdout), /<title>db&#45;&gt;api<\/title>/)
  removeDir(dir)
})

Fixture('mermaid: keywords are labels, never node ids', async () => {
  const dir = minimalHomelab(FIXTURE)
  const result = await runCli(['graph', '--format', 'mermaid'], { cwd: dir })
  assert.is(result.code, 0, result.stderr)
  const { labels, edges } = parseMermaid(result.stdout)
  assert.equal([...labels.values()], ['end', 'ops<br/>(bootstrap)', 'db<br/>(bootstrap)<br/>(flux: false)', 'api'])
  assert.equal(edges.map((e) => e.replace(/<br\/>.*? ->/, ' ->').replace(/<br\/>.*$/, '')), FIXTURE_EDGES)
  assert.match(result.stdout, /^ {2}class app1,app2 bootstrap$/m)
  assert.match(result.stdout, /^ {2}class app2 noflux$/m)
  removeDir(dir)
})

Fixture('a config error: exit 1, one line, no graph', async () => {
  const dir = minimalHomelab(minimalConfig('  - template: web\n    dependsOn: [nope]'))
  const result = await runCli(['graph'], { cwd: dir })
  assert.is(result.code, 1)
  assert.match(result.stderr, /^error: homelab\.config\.yaml:\d+:\d+: .*nope/m)
  assert.is(result.stdout, '')
  removeDir(dir)
})

Fixture.run()

// ---------------------------------------------------------------------------
const Quoting = suite('ids are quoted safely in each format')

const ODD: AppGraph = {
  apps: [
    { id: 'say "hi"', flux: true, bootstrap: false },
    { id: 'back\\slash', flux: false, bootstrap: true },
    { id: 'a<b>#c&d', flux: true, bootstrap: false },
  ],
  edges: [['say "hi"', 'back\\slash'], ['back\\slash', 'a<b>#c&d']],
}

Quoting('dot: Graphviz reads quotes and backslashes as part of the id', () => {
  const svg = graphviz(formatDot(ODD))
  assert.match(svg, /<title>say &quot;hi&quot;<\/title>/)
  assert.match(svg, /<title>say &quot;hi&quot;&#45;&gt;back\\\\slash<\/title>/)
  assert.is(svg.match(/<g id="node\d+" class="node">/g)?.length, 3, 'three nodes, no stray ones')
  assert.is(svg.match(/<g id="edge\d+" class="edge">/g)?.length, 2)
})

Quoting('mermaid: quotes and markup become entity codes inside the quoted label', () => {
  const { labels, edges } = parseMermaid(formatMermaid(ODD))
  assert.equal([...labels.values()], ['say #34;hi#34;', 'back\\slash<br/>(bootstrap)<br/>(flux: false)', 'a#60;b#62;#35;c#38;d'])
  assert.is(edges.length, 2)
})

Quoting.run()
