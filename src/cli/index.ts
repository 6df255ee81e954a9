import { cac } from 'cac'
import type { Command } from 'cac'
import { TOKEN_ENV } from '../flux-provider.js'
import { registerSecretsFromEnv } from '../redact.js'
import { UsageError, handleError } from './handle-error.js'
import { redactStreams } from './output.js'
import { checkGivenOnce, longFlag, optionsInPlay, readArgs, switchError, switchesAlone, useSwitches, useValuesAsWritten } from './parse-args.js'
import type { Positional } from './parse-args.js'

// for code-cache.ts, which runs this module from the bundle
export { debugNote } from './output.js'

/** Options every command takes. */
export interface GlobalOptions {
  config: string
}

/** The exit codes (ExitCode), for `homelab --help`. */
const EXIT_CODES = [
  '  0  success',
  '  1  error: bad input, a failed render or validation, an external command that failed',
  '  2  usage: an unknown command or option, no command, a missing, empty or repeated value',
  '  3  differences found (render --check, diff)',
].join('\n')

/** The environment variables homelab reads, for `homelab --help`. */
const ENVIRONMENT = [
  '  HOMELAB_GIT_TOKEN  publish, diff --repo: the token for an HTTPS manifest repository; never printed',
  `  ${Object.values(TOKEN_ENV).join(', ')}`,
  '                     bootstrap: the token flux bootstrap uses, by provider; never printed',
  '  HOMELAB_CACHE_DIR  where the render memo and the compiled code are kept (default: $XDG_CACHE_HOME/homelab, else ~/.cache/homelab)',
  '  HOMELAB_CACHE=0    keep and use neither: render every app, compile the code on every run',
  '  DEBUG=homelab      stack traces, what the caches decided, how long each step took',
  '  NO_COLOR           no colours',
].join('\n')

/** The exit code particular to a command, for its --help. */
const COMMAND_EXIT_CODES: Record<string, string> = {
  render: '  3  --check: the output folder differs from a fresh render',
  diff: '  3  a render would change the output folder or the repository',
}

/** Build the command-line interface. Each command loads its code only when it runs, so --help stays fast. */
export function createCli() {
  const cli = cac('homelab')
  cli.option('--config <file>', 'The homelab config; templates/ is read from beside it', { default: 'homelab.config.yaml' })
  cli.option('-v, --version', 'Print the version')
  // cac leaves a command's description out of `homelab <command> --help`: put it under the usage line;
  // the exit codes follow the options, and the environment the whole help
  cli.help((sections) => {
    const command = cli.matchedCommand
    if (command?.description) sections.splice(2, 0, { body: command.description })
    const exitCodes = command ? COMMAND_EXIT_CODES[command.name] : EXIT_CODES
    const options = sections.findIndex((section) => section.title === 'Options')
    if (exitCodes) sections.splice(options < 0 ? sections.length : options + 1, 0, { title: 'Exit codes', body: exitCodes })
    if (!command) sections.push({ title: 'Environment', body: ENVIRONMENT })
    return sections
  })

  cli
    .command(
      'render',
      'Render the apps and the Flux app of apps into the output folder. Apps whose inputs did not change since they were ' +
        'rendered there, and whose files there are unchanged, are kept as they are, not rendered again; when nothing changed ' +
        '(config, templates/, homelab) and the folder is as that render left it, nothing is rendered at all (a memo in ' +
        '~/.cache/homelab or $HOMELAB_CACHE_DIR; HOMELAB_CACHE=0 turns it off). DEBUG=homelab says what the memo decided and ' +
        'how long each step took',
    )
    .option('--out <dir>', 'Output folder (the manifest repository content)', { default: 'manifests' })
    .option('--only <ids>', 'Render only these apps (comma-separated ids); other apps are left as they are')
    .option('--check', 'Write nothing; exit 3 if the output folder differs from a fresh render')
    .option('--watch', 'Render again on every change of the config, templates/ or crds/; Ctrl-C to stop')
    .example('homelab render')
    .example('homelab render --only whoami,homepage')
    .example('homelab render --check')
    .example('homelab render --watch')
    .action(async (options: import('./commands/render.js').RenderOptions) => (await import('./commands/render.js')).renderCommand(options))

  cli
    .command(
      'validate',
      'Render in memory and check every object offline: built-in kinds against the Kubernetes API schemas, custom kinds ' +
        '(Flux too) against their CRD in crds/ beside the config, the same object rendered twice, Secrets not encrypted with SOPS, ' +
        'bootstrap apps that homelab bootstrap refuses',
    )
    .option('--strict', 'A kind with no schema (no CRD in crds/) is an error, not a warning')
    .option('--format <format>', 'text (one finding per line) or json (an array of findings, a config that does not load as one "input" finding)', { default: 'text' })
    .example('homelab validate')
    .example('homelab validate --strict --format json')
    .action(async (options: import('./commands/validate.js').ValidateCommandOptions) => (await import('./commands/validate.js')).validateCommand(options))

  cli
    .command('crds <action>', 'crds pull: write the CRDs of the flux on PATH (flux install --export) into crds/flux.yaml beside the config')
    .option('--from-cluster', 'Take every CRD of the current kubectl context instead, into crds/cluster.yaml')
    .example('homelab crds pull')
    .example('homelab crds pull --from-cluster')
    .action(async (_action: string, options: import('./commands/crds.js').CrdsCommandOptions) => (await import('./commands/crds.js')).crdsCommand(options))

  cli
    .command('diff', 'Show what a render would change in the output folder or the manifest repository; writes nothing')
    .option('--out <dir>', 'Compare with this output folder (default: manifests)')
    .option('--repo [url]', 'Compare with a shallow clone of the manifest repository (a URL or a path; default: flux.repository)')
    .example('homelab diff')
    .example('homelab diff --repo')
    .example('homelab diff --repo ../homelab-manifests')
    .action(async (options: import('./commands/diff.js').DiffOptions) => (await import('./commands/diff.js')).diffCommand(options))

  cli
    .command('graph', "Print the apps' dependency graph (edges from dependency to dependent)")
    .option('--format <format>', 'text, mermaid (renders on GitHub) or dot (Graphviz)', { default: 'text' })
    .example('homelab graph')
    .example('homelab graph --format dot | dot -Tsvg > graph.svg')
    .action(async (options: import('./commands/graph.js').GraphOptions) => (await import('./commands/graph.js')).graphCommand(options))

  cli
    .command(
      'publish',
      'Render and push apps/ to the manifest repository Flux watches (the CI job). Clones the branch, syncs apps/ as render does ' +
        '(everything else, e.g. flux/flux-system, is left alone), commits only when something changed, pushes without force ' +
        '(up to 3 tries when other pushes land first). HTTPS auth: the token in HOMELAB_GIT_TOKEN; SSH: your keys',
    )
    .option('--repo <url>', 'Manifest repository: https://…, ssh://… or a local path (default: flux.repository)')
    .option('--branch <branch>', 'Branch to push to; it must exist (default: flux.branch)')
    .option('--message <text>', "Commit message (default: this repository's HEAD subject and Source: <sha>)")
    .option('--dry-run', 'Clone and show the files that would change; commit and push nothing')
    .option('--allow-empty', 'Publish even with no app for Flux to reconcile (Flux then prunes every app)')
    .example('HOMELAB_GIT_TOKEN=… homelab publish')
    .example('homelab publish --dry-run')
    .example('homelab publish --repo ../homelab-manifests --branch main --message "Try the new ingress"')
    .action(async (options: import('./commands/publish.js').PublishCommandOptions) => (await import('./commands/publish.js')).publishCommand(options))

  cli
    .command('bootstrap', 'Put Flux on the current kubectl context and point it at the apps')
    .usage(
      [
        'bootstrap [--dry-run]',
        '',
        'Steps, each shown as ► name, then ✔ with its time or ✖ with the reason; a failure stops there (exit 1):',
        '  1. render and validate in memory (an error stops before the cluster is touched)',
        '  2. preflight, read-only: flux and kubectl on PATH, the kubectl context (every later kubectl and',
        '     flux call is pinned to it with --context), flux check --pre, the flux-system GitRepository',
        '     (same repository and branch: Flux is kept; another: stop), and the provider token when',
        '     flux bootstrap has to run',
        '  3. kubectl apply --server-side -f - for each bootstrap: true app, in dependency order',
        '  4. flux bootstrap <provider>, unless Flux already syncs the repository',
        '  5. kubectl apply --server-side -f - of apps/flux-bootstrap: Flux reconciles apps/flux from then on',
        '',
        'Tokens: GITHUB_TOKEN, GITLAB_TOKEN, GITEA_TOKEN, BITBUCKET_TOKEN or GIT_PASSWORD (git over https),',
        'handed to flux through its environment only. Safe to run again: it continues where it stopped.',
      ].join('\n'),
    )
    .option('--dry-run', 'Print the plan (every command, secrets as ***, and the YAML it would apply); run nothing')
    .example('GITHUB_TOKEN=… homelab bootstrap')
    .example('homelab bootstrap --dry-run')
    .action(async (options: import('./commands/bootstrap.js').BootstrapCommandOptions) => (await import('./commands/bootstrap.js')).bootstrapCommand(options))

  return cli
}

/** The words a command's argument can be (`crds <action>`): a missing or unknown one is a usage error that lists them. */
const ARGUMENT_CHOICES: Record<string, readonly string[]> = { crds: ['pull'] }

/** A command's arguments are there, and each is one it knows (cac's own message named no action). */
function checkArguments(command: Command, positionals: readonly Positional[]): void {
  const choices = ARGUMENT_CHOICES[command.name]
  for (const [index, argument] of command.args.entries()) {
    const text = positionals[index]?.text
    const known = choices === undefined ? '' : ` (${choices.length === 1 ? `the one ${argument.value} is` : `the ${argument.value}s are`}: ${choices.join(', ')})`
    if (text === undefined && argument.required) throw new UsageError(`${command.name} needs ${/^[aeiou]/.test(argument.value) ? 'an' : 'a'} ${argument.value}${known}`)
    if (text !== undefined && choices && !choices.includes(text)) throw new UsageError(`unknown ${command.name} ${argument.value} "${text}"${known}`)
  }
}

/** Parse argv and run the matched command; the one place errors end up. */
export async function runCli(argv: readonly string[]): Promise<void> {
  // a reader that stops early (`homelab graph | head`) is not an error
  for (const stream of [process.stdout, process.stderr]) {
    stream.on('error', (error: NodeJS.ErrnoException) => {
      if (error.code === 'EPIPE') process.exit(process.exitCode ?? 0)
      throw error
    })
  }
  // every token of the environment is known to redact() before anything runs or prints
  registerSecretsFromEnv()
  redactStreams()
  // an error that escapes every await still gets the one printer (one line, redacted), not Node's stack dump
  process.on('uncaughtException', handleError)
  process.on('unhandledRejection', handleError)
  try {
    const cli = createCli()
    const args = argv.slice(2)
    cli.parse([...argv.slice(0, 2), ...switchesAlone(cli, args)], { run: false })
    if (cli.options.help) return
    const command = cli.matchedCommand
    if (!command && cli.args[0] !== undefined) {
      const { didYouMean } = await import('../suggest.js')
      const name = String(cli.args[0])
      throw new UsageError(`unknown command "${name}"${didYouMean(name, cli.commands.map((known) => known.name))}`)
    }
    const { given, positionals, unknown } = readArgs(cli, args)
    if (unknown !== undefined) {
      const { didYouMean } = await import('../suggest.js')
      const known = optionsInPlay(cli).map(longFlag)
      throw new UsageError(`unknown option ${unknown}${command ? ` for ${command.name}` : ''}${didYouMean(unknown, known)}`)
    }
    if (!command) {
      // `homelab` alone asks what there is: the help answers it; options without a command are a mistake
      if (args.length > 0) throw new UsageError('no command given')
      cli.outputHelp()
      return
    }
    // the first positional is the command's name
    const extra = positionals[1 + command.args.length]
    if (extra) {
      if (extra.afterSwitch) throw switchError(extra.afterSwitch, extra.text)
      throw new UsageError(`unexpected argument "${extra.text}" for ${command.name}`)
    }
    checkArguments(command, positionals.slice(1))
    checkGivenOnce(given)
    useSwitches(cli, given)
    useValuesAsWritten(cli, given)
    await cli.runMatchedCommand()
  } catch (error) {
    handleError(error)
  }
}
