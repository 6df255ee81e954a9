import { existsSync, mkdirSync, readFileSync, readdirSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs'
import path from 'node:path'
import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import { ROOT, copyExample, minimalConfig, minimalHomelab, readTree, removeDir, runCli, tempDir, writeFiles } from './helpers/cli.ts'
import { kustomizeBuild } from './helpers/tools.ts'
import { parse } from 'yaml'

const GOLDEN = path.join(ROOT, 'tests', 'golden', 'example')

/** The example homelab rendered into `<dir>/out`. */
async function renderExample(dir: string, ...args: string[]) {
  const result = await runCli(['render', '--out', 'out', ...args], { cwd: dir })
  assert.is(result.code, 0, result.stderr)
  return result
}

const Example = suite('the example homelab')

Example('renders byte for byte as the golden tree (UPDATE_GOLDEN=1 to refresh)', async () => {
  const dir = copyExample()
  try {
    const result = await renderExample(dir)
    assert.match(result.stdout, /^✔ rendered 7 apps into out\/: \d+ written, 0 removed, 0 unchanged \(\d+ ms\)\n$/)
    const rendered = readTree(path.join(dir, 'out'))
    if (process.env.UPDATE_GOLDEN) {
      rmSync(GOLDEN, { recursive: true, force: true })
      for (const [file, content] of rendered) writeFiles(GOLDEN, { [file]: content })
    }
    const golden = readTree(GOLDEN)
    assert.equal([...rendered.keys()], [...golden.keys()], 'the same files')
    for (const [file, content] of rendered) assert.fixture(content, golden.get(file) ?? '', file)
  } finally {
    removeDir(dir)
  }
})

Example('every app folder builds with a real kubectl kustomize', async () => {
  const dir = copyExample()
  try {
    await renderExample(dir)
    const apps = path.join(dir, 'out', 'apps')
    const folders = readTree(apps)
    const names = [...new Set([...folders.keys()].map((file) => file.split('/')[0] as string))]
    assert.ok(names.length >= 9, `app folders: ${names.join(', ')}`)
    for (const name of names) {
      const built = await kustomizeBuild(path.join(apps, name))
      assert.ok(built.ok, `kubectl kustomize apps/${name}: ${built.stderr}`)
      assert.match(built.stdout, /kind: /)
    }
  } finally {
    removeDir(dir)
  }
})

Example('disabled apps are not rendered; flux: false apps are rendered but not reconciled', async () => {
  const dir = copyExample()
  try {
    await renderExample(dir)
    const tree = readTree(path.join(dir, 'out'))
    assert.not.ok([...tree.keys()].some((file) => file.startsWith('apps/monitoring/')), 'monitoring is disabled')
    assert.ok(tree.has('apps/toolbox/kustomization.yaml'), 'toolbox is rendered')
    assert.not.ok(tree.has('apps/flux/toolbox.yaml'), 'toolbox has no Flux Kustomization')
    assert.not.match(tree.get('apps/flux/kustomization.yaml') ?? '', /toolbox/)
    assert.match(tree.get('apps/flux/whoami.yaml') ?? '', /dependsOn:\n    - name: cert-issuers\n    - name: traefik\n/)
    assert.match(tree.get('apps/flux-bootstrap/flux-bootstrap.yaml') ?? '', /path: \.\/apps\/flux\n/)
  } finally {
    removeDir(dir)
  }
})

Example('the monitoring app, when switched on, builds and takes Grafana\'s admin login from a Secret', async () => {
  const dir = copyExample()
  try {
    const configFile = path.join(dir, 'homelab.config.yaml')
    const config = readFileSync(configFile, 'utf8')
    assert.match(config, /  - template: monitoring\n    enabled: false\n/)
    writeFileSync(configFile, config.replace('  - template: monitoring\n    enabled: false\n', '  - template: monitoring\n'))
    await renderExample(dir)
    const built = await kustomizeBuild(path.join(dir, 'out', 'apps', 'monitoring'))
    assert.ok(built.ok, built.stderr)
    // the chart's built-in admin password is the same in every install, and Grafana is on an Ingress
    const release = readFileSync(path.join(dir, 'out', 'apps', 'monitoring', 'helmrelease.yaml'), 'utf8')
    assert.match(release, /\n {4}grafana:\n(?: {6}.*\n)*? {6}admin:\n {8}existingSecret: "grafana-admin"\n {8}userKey: admin-user\n {8}passwordKey: admin-password\n/)
    assert.not.match(built.stdout, /adminPassword/)
  } finally {
    removeDir(dir)
  }
})

/** The chart values the traefik template sets. */
interface TraefikValues {
  ingressClass: unknown
  providers: { kubernetesIngress: { enabled: unknown } }
  api: { dashboard: unknown }
  service: unknown
  priorityClassName: unknown
}

Example('traefik serves the IngressClass every Ingress of the example names, on the Service its options ask for', async () => {
  const dir = copyExample()
  try {
    const configFile = path.join(dir, 'homelab.config.yaml')
    const config = readFileSync(configFile, 'utf8')
    const serviceType = '      serviceType: LoadBalancer   #'
    assert.ok(config.includes(serviceType))
    const traefikValues = async (edited: string) => {
      writeFileSync(configFile, edited)
      await renderExample(dir)
      const tree = readTree(path.join(dir, 'out'))
      const release = parse(tree.get('apps/traefik/helmrelease.yaml') ?? '') as { spec: { values: TraefikValues } }
      return { tree, values: release.spec.values }
    }

    const { tree, values } = await traefikValues(config.replace(serviceType, `      loadBalancerIP: 192.168.1.240\n${serviceType}`))
    assert.equal(values.ingressClass, { enabled: true, isDefaultClass: true, name: 'traefik' })
    assert.is(values.providers.kubernetesIngress.enabled, true)
    assert.is(values.api.dashboard, false, 'no dashboard, and so no API')
    assert.equal(values.service, { type: 'LoadBalancer', spec: { loadBalancerIP: '192.168.1.240' } })
    assert.is(values.priorityClassName, 'homelab-infrastructure')
    // the apps' Ingresses and cert-manager's HTTP-01 solvers name the class the chart creates
    const classes = ['apps/whoami/ingress.yaml', 'apps/homepage/ingress.yaml', 'apps/cert-issuers/clusterissuers.yaml'].flatMap((file) =>
      [...(tree.get(file) ?? '').matchAll(/ingressClassName: (.*)/g)].map((m) => `${file}: ${m[1]}`))
    assert.equal(classes, [
      'apps/whoami/ingress.yaml: "traefik"',
      'apps/homepage/ingress.yaml: "traefik"',
      'apps/cert-issuers/clusterissuers.yaml: "traefik"',
      'apps/cert-issuers/clusterissuers.yaml: "traefik"',
    ])

    const nodePort = await traefikValues(config.replace(serviceType, '      serviceType: NodePort   #'))
    assert.equal(nodePort.values.service, { type: 'NodePort' })
  } finally {
    removeDir(dir)
  }
})

Example('the webapp template refuses options the cluster would reject or that drift', async () => {
  const dir = copyExample()
  try {
    const configFile = path.join(dir, 'homelab.config.yaml')
    const config = readFileSync(configFile, 'utf8')
    const cases: Array<[string, string, RegExp]> = [
      // a second TZ beside the one from values.timezone: the API server refuses the duplicate env name
      ['      memory: 32Mi\n', '      memory: 32Mi\n      env: { TZ: UTC }\n', /:53:14: the key "TZ" is not allowed in apps\[4\]\.options\.env/],
      // images that change under a running app
      ['image: traefik/whoami:v1.11.0', 'image: traefik/whoami', /:50:14: apps\[4\]\.options\.image must match the pattern .*, not "traefik\/whoami"\nhint: Container image with a pinned tag or digest/],
      ['image: traefik/whoami:v1.11.0', 'image: traefik/whoami:latest', /:50:14: apps\[4\]\.options\.image must match the pattern .*, not "traefik\/whoami:latest"/],
      // host names an Ingress cannot have
      ['host: whoami.home.example.com', 'host: Whoami.home.example.com', /:51:13: apps\[4\]\.options\.host must match the pattern .*, not "Whoami\.home\.example\.com"/],
      ['host: whoami.home.example.com', 'host: https://whoami.home.example.com', /:51:13: apps\[4\]\.options\.host must match the pattern .*, not "https:/],
    ]
    for (const [from, to, says] of cases) {
      assert.ok(config.includes(from), from)
      writeFileSync(configFile, config.replace(from, to))
      const result = await runCli(['render', '--out', 'out'], { cwd: dir })
      assert.is(result.code, 1, `${to}: ${result.stderr}`)
      assert.match(result.stderr, says)
    }
    // a registry with a port, and a digest, are pinned images
    for (const image of ['registry.local:5000/team/whoami:v1.11.0', `traefik/whoami@sha256:${'0'.repeat(64)}`]) {
      writeFileSync(configFile, config.replace('image: traefik/whoami:v1.11.0', `image: ${image}`))
      await renderExample(dir)
    }
  } finally {
    removeDir(dir)
  }
})

const Writing = suite('writing the output')

Writing('a re-render with nothing changed rewrites no file', async () => {
  const dir = copyExample()
  try {
    await renderExample(dir)
    const out = path.join(dir, 'out')
    const stamps = new Map([...readTree(out).keys()].map((file) => [file, statSync(path.join(out, file), { bigint: true })]))
    const again = await renderExample(dir)
    assert.match(again.stdout, / 0 written, 0 removed, \d+ unchanged/)
    for (const [file, before] of stamps) {
      const after = statSync(path.join(out, file), { bigint: true })
      assert.is(after.ino, before.ino, `${file} replaced`)
      assert.is(after.mtimeNs, before.mtimeNs, `${file} rewritten`)
    }
  } finally {
    removeDir(dir)
  }
})

Writing('`---` before, between and after documents is fine; a file of only `---` and comments is left out', async () => {
  const dir = copyExample()
  try {
    writeFiles(path.join(dir, 'templates', 'separators'), {
      'objects.yaml.hbs': '---\napiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: one\n---\n# between\n---\napiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: two\n---\n',
      'nothing.yaml.hbs': '---\n# {{app.id}} has nothing here\n---\n',
    })
    const config = path.join(dir, 'homelab.config.yaml')
    writeFileSync(config, `${readFileSync(config, 'utf8')}  - template: separators\n    namespace: separators\n`)
    await renderExample(dir)
    const folder = path.join(dir, 'out', 'apps', 'separators')
    assert.equal([...readTree(folder).keys()].sort(), ['kustomization.yaml', 'objects.yaml'])
    const built = await kustomizeBuild(folder)
    assert.ok(built.ok, built.stderr)
    assert.equal(built.stdout.match(/^kind: ConfigMap$/gm)?.length, 2, built.stdout)
  } finally {
    removeDir(dir)
  }
})

Writing('the same input renders the same bytes into a fresh folder', async () => {
  const dir = copyExample()
  try {
    await renderExample(dir)
    const first = readTree(path.join(dir, 'out'))
    await runCli(['render', '--out', 'fresh'], { cwd: dir })
    assert.equal(readTree(path.join(dir, 'fresh')), first)
  } finally {
    removeDir(dir)
  }
})

Writing('removing an app removes its folder and nothing else; files outside apps/ stay', async () => {
  const dir = copyExample()
  try {
    await renderExample(dir)
    writeFiles(path.join(dir, 'out'), { 'flux/flux-system/gotk-sync.yaml': 'flux owns this\n', 'README.md': 'mine\n' })
    const before = readTree(path.join(dir, 'out'))
    const config = path.join(dir, 'homelab.config.yaml')
    const text = readFileSync(config, 'utf8')
    const withoutHomepage = text.replace(/\n  - template: webapp\n    id: homepage\n(    .*\n|      .*\n)*/, '\n')
    assert.not.equal(withoutHomepage, text, 'the homepage app was cut from the config')
    writeFileSync(config, withoutHomepage)
    const result = await renderExample(dir)
    assert.match(result.stdout, / 6 apps .* [1-9]\d* removed/)
    const after = readTree(path.join(dir, 'out'))
    const gone = [...before.keys()].filter((file) => !after.has(file))
    assert.ok(gone.length > 0)
    for (const file of gone) assert.ok(file.startsWith('apps/homepage/') || file === 'apps/flux/homepage.yaml', `removed ${file}`)
    assert.not.ok(existsSync(path.join(dir, 'out', 'apps', 'homepage')), 'the empty folder is gone too')
    assert.is(after.get('flux/flux-system/gotk-sync.yaml'), 'flux owns this\n')
    assert.is(after.get('README.md'), 'mine\n')
    for (const [file, content] of after) {
      if (file !== 'apps/flux/kustomization.yaml') assert.is(content, before.get(file), `${file} unchanged`)
    }
  } finally {
    removeDir(dir)
  }
})

Writing('apps/ as a link, apps/ as a file, or --out a file: an error, and nothing is removed or written', async () => {
  const dir = copyExample()
  try {
    writeFiles(path.join(dir, 'elsewhere'), { 'x/important.txt': 'keep\n' })
    mkdirSync(path.join(dir, 'out'))
    symlinkSync(path.join(dir, 'elsewhere'), path.join(dir, 'out', 'apps'))
    for (const args of [['--out', 'out'], ['--out', 'out', '--check']]) {
      const linked = await runCli(['render', ...args], { cwd: dir })
      assert.is(linked.code, 1, args.join(' '))
      assert.match(linked.stderr, /^error: out\/apps is a symbolic link: homelab writes apps\/ as a folder of its own/)
    }
    assert.equal([...readTree(path.join(dir, 'elsewhere')).keys()], ['x/important.txt'], 'nothing written or removed where the link points')

    rmSync(path.join(dir, 'out', 'apps'))
    writeFileSync(path.join(dir, 'out', 'apps'), 'a file\n')
    const file = await runCli(['render', '--out', 'out'], { cwd: dir })
    assert.is(file.code, 1)
    assert.match(file.stderr, /^error: out\/apps is not a folder/)
    assert.not.match(file.stderr, /bug/)
    assert.is(readFileSync(path.join(dir, 'out', 'apps'), 'utf8'), 'a file\n')

    const outFile = await runCli(['render', '--out', 'out/apps'], { cwd: dir })
    assert.is(outFile.code, 1)
    assert.match(outFile.stderr, /^error: out\/apps is not a folder: the output folder holds apps\//)
  } finally {
    removeDir(dir)
  }
})

Writing('an output folder inside templates/ or crds/ is refused before anything is written', async () => {
  const dir = copyExample()
  try {
    const before = readTree(path.join(dir, 'templates'))
    for (const out of ['templates/webapp', 'templates', 'crds/out']) {
      for (const extra of [[], ['--watch']]) {
        const result = await runCli(['render', '--out', out, ...extra], { cwd: dir })
        assert.is(result.code, 1, `${out} ${extra.join(' ')}`)
        assert.match(result.stderr, new RegExp(`^error: the output folder ${out}/ is inside ${out.split('/')[0]}/, which the render reads`))
      }
    }
    assert.equal(readTree(path.join(dir, 'templates')), before)
    assert.not.ok(existsSync(path.join(dir, 'crds', 'out')))
  } finally {
    removeDir(dir)
  }
})

Writing('stale files and interrupted temp files under apps/ are removed', async () => {
  const dir = copyExample()
  try {
    writeFiles(path.join(dir, 'out'), {
      'apps/gone/deployment.yaml': 'old\n',
      'apps/whoami/.deployment.yaml.homelab-tmp-abc123': 'torn',
      'apps/whoami/leftover.yaml': 'old\n',
    })
    await renderExample(dir)
    const tree = readTree(path.join(dir, 'out'))
    assert.not.ok(tree.has('apps/gone/deployment.yaml'))
    assert.not.ok(tree.has('apps/whoami/.deployment.yaml.homelab-tmp-abc123'))
    assert.not.ok(tree.has('apps/whoami/leftover.yaml'))
    assert.not.ok(existsSync(path.join(dir, 'out', 'apps', 'gone')))
  } finally {
    removeDir(dir)
  }
})

Writing('--check writes nothing and exits 3 when the folder differs, 0 when it matches', async () => {
  const dir = copyExample()
  try {
    const empty = await runCli(['render', '--out', 'out', '--check'], { cwd: dir })
    assert.is(empty.code, 3, empty.stderr)
    assert.match(empty.stdout, /\+ apps\/whoami\/deployment\.yaml/)
    // a misspelt --out would look the same: the folder not being there is said
    assert.is(empty.stderr, 'warning: out/ does not exist yet: every file would be new\n')
    assert.not.ok(existsSync(path.join(dir, 'out')), 'nothing written')
    await renderExample(dir)
    const clean = await runCli(['render', '--out', 'out', '--check'], { cwd: dir })
    assert.is(clean.code, 0, clean.stdout)
    writeFiles(path.join(dir, 'out'), { 'apps/whoami/service.yaml': 'edited by hand\n' })
    const before = readTree(path.join(dir, 'out'))
    const dirty = await runCli(['render', '--out', 'out', '--check'], { cwd: dir })
    assert.is(dirty.code, 3)
    assert.match(dirty.stdout, /~ apps\/whoami\/service\.yaml/)
    assert.not.match(dirty.stderr, /does not exist/)
    assert.equal(readTree(path.join(dir, 'out')), before)
  } finally {
    removeDir(dir)
  }
})

Writing('--only writes just the named apps and the Flux folders, and removes no other app', async () => {
  const dir = copyExample()
  try {
    writeFiles(path.join(dir, 'out'), { 'apps/not-in-config/x.yaml': 'kept\n' })
    const result = await renderExample(dir, '--only', 'whoami')
    assert.match(result.stdout, /rendered 1 app /)
    const tree = readTree(path.join(dir, 'out'))
    const folders = new Set([...tree.keys()].map((file) => file.split('/')[1]))
    assert.equal([...folders].sort(), ['flux', 'flux-bootstrap', 'not-in-config', 'whoami'])
    assert.ok(tree.has('apps/flux/homepage.yaml'), 'the app of apps still lists every app')
    const unknown = await runCli(['render', '--out', 'out', '--only', 'whoam'], { cwd: dir })
    assert.is(unknown.code, 1)
    assert.match(unknown.stderr, /--only names "whoam"/)
  } finally {
    removeDir(dir)
  }
})

Writing('--only after an app was renamed in the config: a warning for the Flux Kustomizations out of step with the folders', async () => {
  const dir = copyExample()
  try {
    await renderExample(dir)
    const config = path.join(dir, 'homelab.config.yaml')
    writeFileSync(config, readFileSync(config, 'utf8').replace('    id: whoami\n', '    id: whoa\n'))
    const result = await renderExample(dir, '--only', 'homepage')
    assert.match(result.stderr, /apps\/flux\/ now lists whoa, whose folders are not rendered yet: Flux reports their path as missing/)
    assert.match(result.stderr, /apps\/flux\/ no longer lists whoami: Flux prunes them, though their folders stay/)
    const quiet = await renderExample(dir, '--only', 'whoa')
    assert.not.match(quiet.stderr, /now lists|no longer lists whoa\b/)
    const full = await renderExample(dir)
    assert.is(full.stderr, '')
  } finally {
    removeDir(dir)
  }
})

Writing('a file where a folder must go, and a folder where a file must go, are replaced', async () => {
  const dir = copyExample()
  try {
    mkdirSync(path.join(dir, 'out', 'apps', 'whoami', 'service.yaml'), { recursive: true })
    writeFiles(path.join(dir, 'out'), { 'apps/homepage': 'a file\n' })
    await renderExample(dir)
    assert.ok(statSync(path.join(dir, 'out', 'apps', 'whoami', 'service.yaml')).isFile())
    assert.ok(statSync(path.join(dir, 'out', 'apps', 'homepage')).isDirectory())
  } finally {
    removeDir(dir)
  }
})

const Cli = suite('the command line')

Cli('--help and --version work everywhere; unknown commands and options exit 2', async () => {
  const help = await runCli(['--help'])
  assert.is(help.code, 0)
  assert.match(help.stdout, /render/)
  const renderHelp = await runCli(['render', '--help'])
  assert.match(renderHelp.stdout, /--check/)
  const version = JSON.parse(readFileSync(path.join(ROOT, 'package.json'), 'utf8')).version as string
  assert.is((await runCli(['--version'])).stdout, `homelab ${version}\n`)
  assert.is((await runCli(['render', '--version'])).stdout, `homelab ${version}\n`)
  const unknown = await runCli(['rendr'])
  assert.is(unknown.code, 2)
  assert.match(unknown.stderr, /^error: unknown command "rendr" \(did you mean "render"\?\)/)
  const badOption = await runCli(['render', '--bogus'])
  assert.is(badOption.code, 2)
  assert.match(badOption.stderr, /^error: unknown option --bogus for render\n/)
  // named as typed, not as cac's camelCase (--dryRun); a near miss is suggested
  assert.match((await runCli(['render', '--dry-run'])).stderr, /^error: unknown option --dry-run for render\n/)
  assert.match((await runCli(['render', '--chek'])).stderr, /^error: unknown option --chek for render \(did you mean "--check"\?\)\n/)
})

Cli('the help lists the exit codes; render --help and diff --help say when they exit 3', async () => {
  const help = await runCli(['--help'])
  assert.match(help.stdout, /\nExit codes:\n {2}0 {2}success\n {2}1 {2}error: .*\n {2}2 {2}usage: .*\n {2}3 {2}differences found \(render --check, diff\)\n/)
  assert.match((await runCli(['render', '--help'])).stdout, /\nExit codes:\n {2}3 {2}--check: the output folder differs from a fresh render\n/)
  assert.match((await runCli(['diff', '--help'])).stdout, /\nExit codes:\n {2}3 {2}a render would change the output folder or the repository\n/)
  assert.not.match((await runCli(['graph', '--help'])).stdout, /Exit codes/)
})

Cli('the help names the environment variables homelab reads', async () => {
  const help = (await runCli(['--help'])).stdout
  const section = help.slice(help.indexOf('\nEnvironment:\n'))
  for (const name of ['HOMELAB_GIT_TOKEN', 'HOMELAB_CACHE_DIR', 'HOMELAB_CACHE=0', 'DEBUG=homelab', 'NO_COLOR']) assert.match(section, `\n  ${name} `)
  // bootstrap's token variables, as flux-provider.ts reads them
  assert.match(section, '\n  GITHUB_TOKEN, GITLAB_TOKEN, GITEA_TOKEN, BITBUCKET_TOKEN, GIT_PASSWORD\n ')
  assert.not.match((await runCli(['render', '--help'])).stdout, 'Environment')
})

Cli('no command: homelab alone prints the help (exit 0); options without a command are a usage error', async () => {
  const alone = await runCli([])
  assert.is(alone.code, 0, alone.stderr)
  assert.match(alone.stdout, /^Usage:\n {2}\$ homelab <command> \[options\]$/m)
  // (stderr may hold Node's warning that the tests' NO_COLOR and uvu's FORCE_COLOR disagree)
  assert.not.match(alone.stderr, /error/)
  const hint = 'hint: run homelab --help to see the commands and their options\n'
  for (const [args, message] of [
    [['--bogus'], 'unknown option --bogus'],
    [['-x'], 'unknown option -x'],
    [['--config', 'x.yaml'], 'no command given'],
    [['--config=x.yaml', '--', 'render'], 'no command given'],
  ] as [string[], string][]) {
    const result = await runCli(args)
    assert.is(result.code, 2, args.join(' '))
    assert.is(result.stderr, `error: ${message}\n${hint}`, args.join(' '))
    assert.is(result.stdout, '', args.join(' '))
  }
})

Cli('a switch written out as =false is off, as =true on; any other value, of any switch, is a usage error that says so', async () => {
  const dir = copyExample()
  try {
    const rendered = await runCli(['render', '--check=false', '--out', 'out'], { cwd: dir })
    assert.is(rendered.code, 0, rendered.stderr)
    assert.ok(existsSync(path.join(dir, 'out', 'apps', 'whoami', 'deployment.yaml')), 'rendered, not checked')
    writeFileSync(path.join(dir, 'out', 'apps', 'whoami', 'deployment.yaml'), 'edited\n')
    const checked = await runCli(['render', '--check=true', '--out', 'out'], { cwd: dir })
    assert.is(checked.code, 3, checked.stderr)
    assert.is(readFileSync(path.join(dir, 'out', 'apps', 'whoami', 'deployment.yaml'), 'utf8'), 'edited\n', 'checked, not rendered')
    // every switch, one-word or not, says what it takes; a word after it is read as its value too
    const unclear: [string[], string, string][] = [
      [['render', '--check=no', '--out', 'out'], '--check', 'no'],
      [['render', '--watch=nope', '--out', 'out'], '--watch', 'nope'],
      [['render', '--check', 'nope', '--out', 'out'], '--check', 'nope'],
      [['render', '--out', 'out', '--check='], '--check', ''],
      [['validate', '--strict=maybe'], '--strict', 'maybe'],
      [['publish', '--dry-run=1'], '--dry-run', '1'],
      [['crds', 'pull', '--from-cluster', 'extra'], '--from-cluster', 'extra'],
    ]
    for (const [args, flag, value] of unclear) {
      const result = await runCli(args, { cwd: dir })
      assert.is(result.code, 2, `${args.join(' ')}: ${result.stderr}`)
      assert.is(result.stderr.split('\n')[0], `error: ${flag} is a switch: give it alone, or as ${flag}=true or ${flag}=false (not "${value}")`)
    }
    assert.is(readFileSync(path.join(dir, 'out', 'apps', 'whoami', 'deployment.yaml'), 'utf8'), 'edited\n', 'nothing rendered')
  } finally {
    removeDir(dir)
  }
})

Cli('values that look like numbers are taken as written: --out 007 is 007/, not 7/', async () => {
  const dir = copyExample()
  try {
    const rendered = await runCli(['render', '--out', '007'], { cwd: dir })
    assert.is(rendered.code, 0, rendered.stderr)
    assert.match(rendered.stdout, /into 007\//)
    assert.ok(existsSync(path.join(dir, '007', 'apps', 'whoami', 'deployment.yaml')))
    assert.not.ok(existsSync(path.join(dir, '7')))
    const checked = await runCli(['render', '--check', '--out=1e3'], { cwd: dir })
    assert.is(checked.code, 3)
    assert.match(checked.stdout + checked.stderr, /1e3\/ is out of date/)
    const diffed = await runCli(['diff', '--out', '2024'], { cwd: dir })
    assert.is(diffed.code, 3, diffed.stderr)
    assert.not.match(diffed.stderr, /bug/)
    const none = await runCli(['render', '--only', ','], { cwd: dir })
    assert.is(none.code, 2)
    assert.match(none.stderr, /^error: --only needs one or more app ids, comma-separated/)
  } finally {
    removeDir(dir)
  }
})

Cli('an option that takes one value, given twice, is a usage error; --only lists are merged', async () => {
  const dir = copyExample()
  try {
    const twice = await runCli(['render', '--out', 'a', '--out', 'b'], { cwd: dir })
    assert.is(twice.code, 2, twice.stderr)
    assert.is(twice.stderr, 'error: --out given twice ("a" and "b"): give it once\nhint: run homelab --help to see the commands and their options\n')
    assert.equal(readdirSync(dir).sort(), ['homelab.config.yaml', 'templates'], 'nothing written, no a,b/')
    // every command, the global --config too; caught before anything is rendered or cloned
    const cases: [string[], string][] = [
      [['diff', '--repo', '--repo', 'x'], '--repo given twice (without a value and "x")'],
      [['publish', '--message', 'a', '--message=b', '--message', 'c'], '--message given 3 times ("a", "b" and "c")'],
      [['publish', '--branch', 'main', '--branch', 'dev', '--dry-run'], '--branch given twice ("main" and "dev")'],
      [['graph', '--config', 'homelab.config.yaml', '--format', 'dot', '--config', 'x.yaml'], '--config given twice ("homelab.config.yaml" and "x.yaml")'],
      [['validate', '--format', 'json', '--format=json'], '--format given twice ("json" and "json")'],
    ]
    for (const [args, message] of cases) {
      const result = await runCli(args, { cwd: dir })
      assert.is(result.code, 2, `${args.join(' ')}: ${result.stderr}`)
      assert.is(result.stderr.split('\n')[0], `error: ${message}: give it once`)
      assert.is(result.stdout, '')
    }
    const merged = await runCli(['render', '--only', 'whoami', '--only', 'homepage', '--out', 'out'], { cwd: dir })
    assert.is(merged.code, 0, merged.stderr)
    assert.match(merged.stdout, /rendered 2 apps into out\//)
    assert.equal(readdirSync(path.join(dir, 'out', 'apps')).sort(), ['flux', 'flux-bootstrap', 'homepage', 'whoami'])
  } finally {
    removeDir(dir)
  }
})

Cli('an empty or missing value is a usage error for every option that takes one', async () => {
  const dir = copyExample()
  try {
    const cases: [string[], string][] = [
      [['render', '--out='], '--out is empty: give --out <dir>'],
      [['render', '--out', ''], '--out is empty: give --out <dir>'],
      [['render', '--out=', 'out'], '--out is empty: give --out <dir>'],
      [['render', '--only', ''], '--only is empty: give --only <ids>'],
      [['diff', '--out='], '--out is empty: give --out <dir>'],
      [['graph', '--format='], '--format is empty: give --format <format>'],
      [['validate', '--config='], '--config is empty: give --config <file>'],
      [['publish', '--message', '', '--dry-run'], '--message is empty: give --message <text>'],
      [['publish', '--branch=', '--dry-run'], '--branch is empty: give --branch <branch>'],
      [['render', '--out'], '--out needs a value: give --out <dir>'],
      [['render', '--out', '--check'], '--out needs a value: give --out <dir>'],
      [['crds'], 'crds needs an action (the one action is: pull)'],
    ]
    for (const [args, message] of cases) {
      const result = await runCli(args, { cwd: dir })
      assert.is(result.code, 2, `${args.join(' ')}: ${result.stderr}`)
      assert.is(result.stderr, `error: ${message}\nhint: run homelab --help to see the commands and their options\n`, args.join(' '))
      assert.is(result.stdout, '')
    }
    assert.equal(readdirSync(dir).sort(), ['homelab.config.yaml', 'templates'], 'nothing rendered, not into the current folder either')
  } finally {
    removeDir(dir)
  }
})

Cli('a file system problem is one line naming the path, not a bug of homelab', async () => {
  const dir = copyExample()
  try {
    symlinkSync('loop', path.join(dir, 'loop'))
    const looped = await runCli(['render', '--out', 'loop'], { cwd: dir })
    assert.is(looped.code, 1)
    assert.is(looped.stderr, 'error: loop/apps: too many symbolic links in this path (ELOOP on lstat)\n')
    const long = 'n'.repeat(300)
    const tooLong = await runCli(['render', '--out', long], { cwd: dir })
    assert.is(tooLong.code, 1)
    assert.match(tooLong.stderr, /^error: n+: the path is too long \(ENAMETOOLONG on \w+\)\n$/)
  } finally {
    removeDir(dir)
  }
})

Cli('--config reads templates from beside the config file', async () => {
  const dir = copyExample()
  const elsewhere = tempDir()
  try {
    const result = await runCli(['render', '--config', path.join(dir, 'homelab.config.yaml'), '--out', 'out'], { cwd: elsewhere })
    assert.is(result.code, 0, result.stderr)
    assert.ok(existsSync(path.join(elsewhere, 'out', 'apps', 'whoami', 'deployment.yaml')))
  } finally {
    removeDir(dir)
    removeDir(elsewhere)
  }
})

const OwnKustomization = suite("a template's own kustomization")

/** A minimal homelab whose template `web` ships its own kustomization and an Ingress that renders only with `ingress: true`. */
function ownKustomizationHomelab(kustomization: Record<string, string>, options = '{}'): string {
  return minimalHomelab(minimalConfig(`  - template: web\n    options: ${options}`), {
    'templates/web/template.yaml': [
      'options:',
      '  type: object',
      '  properties:',
      '    greeting: { type: string, default: hello }',
      '    replicas: { type: integer, default: 1 }',
      '    ingress: { type: boolean, default: false }',
      '',
    ].join('\n'),
    'templates/web/ingress.yaml.hbs': '{{#if options.ingress}}\napiVersion: networking.k8s.io/v1\nkind: Ingress\nmetadata:\n  name: web\n{{/if}}\n',
    'templates/web/app.conf': 'x=1\n',
    'templates/web/base/kustomization.yaml': 'apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\nmetadata:\n  name: base\n',
    ...kustomization,
  })
}

const HEAD = 'apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\n'

OwnKustomization('a file it lists that the render left out is an error at the entry, and nothing is written', async () => {
  const dir = ownKustomizationHomelab({ 'templates/web/kustomization.yaml': `${HEAD}resources:\n  - configmap.yaml\n  - ./ingress.yaml\n` })
  try {
    const withIngress = ownKustomizationHomelab({ 'templates/web/kustomization.yaml': `${HEAD}resources:\n  - configmap.yaml\n  - ./ingress.yaml\n` }, '{ ingress: true }')
    try {
      const result = await runCli(['render', '--out', 'out'], { cwd: withIngress })
      assert.is(result.code, 0, result.stderr)
      const built = await kustomizeBuild(path.join(withIngress, 'out', 'apps', 'web'))
      assert.ok(built.ok, built.stderr)
    } finally {
      removeDir(withIngress)
    }
    const result = await runCli(['render', '--out', 'out'], { cwd: dir })
    assert.is(result.code, 1, result.stdout)
    assert.is(
      result.stderr.split('\n')[0],
      'error: templates/web/kustomization.yaml:5:5: resources names "./ingress.yaml", which the render left out: every document of templates/web/ingress.yaml.hbs rendered empty (app "web"): kubectl kustomize cannot build the folder',
    )
    assert.match(result.stderr, /\nhint: make the kustomization a template \(kustomization\.yaml\.hbs\) and put the entry in the same \{\{#if\}\} as the file/)
    assert.not.ok(existsSync(path.join(dir, 'out')), 'nothing written')
    const validate = await runCli(['validate'], { cwd: dir })
    assert.is(validate.code, 1, validate.stdout)
    assert.match(validate.stderr, /^error: templates\/web\/kustomization\.yaml:5:5: resources names "\.\/ingress\.yaml", which the render left out/)
  } finally {
    removeDir(dir)
  }
})

OwnKustomization('every local path kustomize reads must be in the folder, as a file or a folder with a kustomization', async () => {
  const cases: Array<[string, string]> = [
    ['resources:\n  - configmap.yaml\n  - missing.yaml\n', '5:5: resources names "missing.yaml", which is not in the template'],
    ['resources:\n  - configmap.yml\n', '4:5: resources names "configmap.yml", which is not in the template (app "web"): kubectl kustomize cannot build the folder\nhint: did you mean "configmap.yaml"?'],
    ['bases: [nowhere]\n', '3:9: bases names "nowhere", which is not in the template'],
    ['resources: [configmap.yaml]\ncomponents:\n  - base\n  - configmap.yaml\n', '6:5: components names "configmap.yaml", a file, where kustomize expects a folder with a kustomization.yaml'],
    ['resources: [configmap.yaml, templates]\n', '3:29: resources names "templates", which is not in the template'],
    ['resources: [configmap.yaml]\npatches:\n  - path: base\n  - path: patch.yaml\n', '5:11: patches[0].path names "base", a folder, where kustomize expects a file'],
    ['patchesJson6902:\n  - path: gone.json\n', '4:11: patchesJson6902[0].path names "gone.json", which is not in the template'],
    ['configMapGenerator:\n  - name: a\n    files: [app.conf, key=other.conf]\n', '5:23: configMapGenerator[0].files names "other.conf", which is not in the template'],
    ['secretGenerator:\n  - name: a\n    envs: [app.env]\n', '5:12: secretGenerator[0].envs names "app.env", which is not in the template'],
    ['configMapGenerator:\n  - name: a\n    env: app.env\n', '5:10: configMapGenerator[0].env names "app.env", which is not in the template'],
    ['crds: [crd.json]\n', '3:8: crds names "crd.json", which is not in the template'],
    ['resources: [configmap.yaml]\nresources: [ingress.yaml]\n', '4:13: resources names "ingress.yaml", which the render left out'],
  ]
  for (const [body, expected] of cases) {
    const dir = ownKustomizationHomelab({ 'templates/web/kustomization.yaml': HEAD + body })
    try {
      const result = await runCli(['render', '--out', 'out'], { cwd: dir })
      assert.is(result.code, 1, `${body}\n${result.stdout}`)
      assert.ok(result.stderr.startsWith(`error: templates/web/kustomization.yaml:${expected}`), `${body}\n${result.stderr}`)
    } finally {
      removeDir(dir)
    }
  }
})

OwnKustomization('paths it holds, remote entries and paths outside the folder are fine; a rendered one follows its options', async () => {
  const good = [
    'resources:\n  - configmap.yaml\n  - ./base/\n  - https://github.com/org/repo//deploy?ref=v1\n  - github.com/org/repo/deploy?ref=v1\n  - git@github.com:org/repo.git\n  - ../shared\n',
    'resources: [configmap.yaml]\ncomponents: [base]\nconfigMapGenerator:\n  - name: a\n    files: [key=app.conf]\n',
    '---\nresources: [configmap.yaml]\n---\nresources: [nowhere.yaml]\n',
  ]
  for (const body of good) {
    const dir = ownKustomizationHomelab({ 'templates/web/kustomization.yaml': HEAD + body })
    try {
      const result = await runCli(['render', '--out', 'out'], { cwd: dir })
      assert.is(result.code, 0, `${body}\n${result.stderr}`)
    } finally {
      removeDir(dir)
    }
  }
  const rendered = `${HEAD}resources:\n  - configmap.yaml\n{{#if options.ingress}}\n  - ingress.yaml\n{{/if}}\n`
  for (const options of ['{}', '{ ingress: true }']) {
    const dir = ownKustomizationHomelab({ 'templates/web/kustomization.yaml.hbs': rendered }, options)
    try {
      const result = await runCli(['render', '--out', 'out'], { cwd: dir })
      assert.is(result.code, 0, result.stderr)
      const built = await kustomizeBuild(path.join(dir, 'out', 'apps', 'web'))
      assert.ok(built.ok, built.stderr)
      assert.is(/kind: Ingress/.test(built.stdout), options !== '{}', built.stdout)
    } finally {
      removeDir(dir)
    }
  }
})

OwnKustomization('an empty one, or one that does not parse, is an error', async () => {
  const cases: Array<[Record<string, string>, string]> = [
    [{ 'templates/web/kustomization.yaml.hbs': '{{#if options.ingress}}\nresources: [configmap.yaml]\n{{/if}}\n' }, 'error: templates/web/kustomization.yaml.hbs: the kustomization is empty: kubectl kustomize cannot build the folder (app "web")'],
    [{ 'templates/web/kustomization.yaml': 'resources: [configmap.yaml\n' }, 'error: templates/web/kustomization.yaml:2:1: '],
  ]
  for (const [files, expected] of cases) {
    const dir = ownKustomizationHomelab(files)
    try {
      const result = await runCli(['render', '--out', 'out'], { cwd: dir })
      assert.is(result.code, 1, result.stdout)
      assert.ok(result.stderr.startsWith(expected), result.stderr)
    } finally {
      removeDir(dir)
    }
  }
})

const FluxNamespace = suite('the Namespace flux-system belongs to Flux')

const NAMESPACE_TEMPLATE = { 'templates/web/namespace.yaml.hbs': 'apiVersion: v1\nkind: Namespace\nmetadata:\n  name: {{app.namespace}}\n' }

/** Renders the homelab in `dir`; expects exit 1 and returns the first stderr line. */
async function renderError(dir: string): Promise<string> {
  const result = await runCli(['render', '--out', 'out'], { cwd: dir })
  assert.is(result.code, 1, result.stdout)
  assert.not.ok(existsSync(path.join(dir, 'out')), 'nothing written')
  return result.stderr.split('\n')[0] as string
}

FluxNamespace('an app that renders it is an error at the object', async () => {
  const rendered = minimalHomelab(minimalConfig('  - template: web\n    namespace: flux-system'), NAMESPACE_TEMPLATE)
  const copied = minimalHomelab(minimalConfig('  - template: web\n    flux: false'), {
    'templates/web/namespaces.yaml': 'apiVersion: v1\nkind: Namespace\nmetadata:\n  name: web\n---\napiVersion: v1\nkind: Namespace\nmetadata:\n  name: flux-system\n',
  })
  try {
    assert.match(await renderError(rendered), /^error: templates\/web\/namespace\.yaml\.hbs:1:1: app "web" creates the Namespace "flux-system", Flux's own Namespace \(flux bootstrap creates and labels it\): /)
    assert.match(await renderError(copied), /^error: templates\/web\/namespaces\.yaml:6:1: app "web" creates the Namespace "flux-system"/)
  } finally {
    removeDir(rendered)
    removeDir(copied)
  }
})

FluxNamespace('targetNamespace flux-system, or an own kustomization namespace flux-system, renames a Namespace to it: an error at the setting', async () => {
  const perApp = minimalHomelab(minimalConfig('  - template: web\n    kustomization:\n      targetNamespace: flux-system'), NAMESPACE_TEMPLATE)
  const byDefault = minimalHomelab(
    ['cluster:', '  name: test', 'flux:', '  repository: https://github.com/example/manifests.git', '  kustomization:', '    targetNamespace: flux-system', 'apps:', '  - template: web', ''].join('\n'),
    NAMESPACE_TEMPLATE,
  )
  const own = minimalHomelab(minimalConfig('  - template: web'), {
    ...NAMESPACE_TEMPLATE,
    'templates/web/kustomization.yaml': 'namespace: flux-system\nresources: [configmap.yaml, namespace.yaml]\n',
  })
  try {
    assert.match(await renderError(perApp), /^error: homelab\.config\.yaml:8:24: app "web" has targetNamespace flux-system, which renames its Namespace "web" \(templates\/web\/namespace\.yaml\.hbs:1:1\) to flux-system, Flux's own Namespace/)
    assert.match(await renderError(byDefault), /^error: homelab\.config\.yaml:6:22: app "web" has targetNamespace flux-system, which renames its Namespace "web"/)
    assert.match(await renderError(own), /^error: templates\/web\/kustomization\.yaml:1:12: the kustomization of app "web" sets namespace flux-system, and so renames its Namespace "web"/)
  } finally {
    for (const dir of [perApp, byDefault, own]) removeDir(dir)
  }
})

FluxNamespace('objects in flux-system are fine, and so is targetNamespace flux-system without a Namespace object', async () => {
  const dir = minimalHomelab(minimalConfig('  - template: web\n    namespace: flux-system\n  - template: web\n    id: alerts\n    kustomization: { targetNamespace: flux-system }'))
  try {
    const result = await runCli(['render', '--out', 'out'], { cwd: dir })
    assert.is(result.code, 0, result.stderr)
    assert.match(readFileSync(path.join(dir, 'out', 'apps', 'web', 'configmap.yaml'), 'utf8'), /namespace: flux-system/)
  } finally {
    removeDir(dir)
  }
})

FluxNamespace('setting targetNamespace flux-system later is caught although the render memo kept the app', async () => {
  const dir = minimalHomelab(minimalConfig('  - template: web'), NAMESPACE_TEMPLATE)
  try {
    const first = await runCli(['render', '--out', 'out'], { cwd: dir })
    assert.is(first.code, 0, first.stderr)
    writeFileSync(path.join(dir, 'homelab.config.yaml'), minimalConfig('  - template: web\n    kustomization: { targetNamespace: flux-system }'))
    const again = await runCli(['render', '--out', 'out'], { cwd: dir })
    assert.is(again.code, 1, again.stdout)
    assert.match(again.stderr, /^error: homelab\.config\.yaml:7:39: app "web" has targetNamespace flux-system/)
  } finally {
    removeDir(dir)
  }
})

Example.run()
Writing.run()
Cli.run()
OwnKustomization.run()
FluxNamespace.run()
