import { readFileSync } from 'node:fs'
import { cac } from 'cac'
import { ExitCode } from './exit-code.js'
import { UsageError, handleError } from './handle-error.js'

/** Options every command takes. */
export interface GlobalOptions {
  config: string
}

const packageJson = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string }
export const VERSION = packageJson.version

/** `--version` / `-v` anywhere before `--`: answered without building the CLI, so it stays as fast as node. */
function wantsVersion(args: readonly string[]): boolean {
  for (const arg of args) {
    if (arg === '--') return false
    if (arg === '--version' || arg === '-v') return true
  }
  return false
}

/** Build the command-line interface. Each command loads its code only when it runs, so --help stays fast. */
export function createCli() {
  const cli = cac('homelab')
  cli.option('--config <file>', 'The homelab config; templates/ is read from beside it', { default: 'homelab.config.yaml' })
  cli.option('-v, --version', 'Print the version')
  cli.help()

  cli
    .command('render', 'Render the apps and the Flux app of apps into the output folder')
    .option('--out <dir>', 'Output folder (the manifest repository content)', { default: 'manifests' })
    .option('--only <ids>', 'Render only these apps (comma-separated ids); other apps are left as they are')
    .option('--check', 'Write nothing; exit 3 if the output folder differs from a fresh render')
    .example('homelab render')
    .example('homelab render --only whoami,homepage')
    .example('homelab render --check')
    .action(async (options: import('./commands/render.js').RenderOptions) => (await import('./commands/render.js')).renderCommand(options))

  return cli
}

/** The entry point of the `homelab` binary. */
export async function main(argv: readonly string[]): Promise<void> {
  const args = argv.slice(2)
  if (wantsVersion(args)) {
    process.stdout.write(`homelab ${VERSION}\n`)
    return
  }
  try {
    const cli = createCli()
    cli.parse([...argv], { run: false })
    if (cli.options.help) return
    if (!cli.matchedCommand) {
      if (cli.args[0] !== undefined) {
        const { didYouMean } = await import('../suggest.js')
        const name = String(cli.args[0])
        throw new UsageError(`unknown command "${name}"${didYouMean(name, cli.commands.map((command) => command.name))}`)
      }
      cli.outputHelp()
      process.exitCode = ExitCode.Usage
      return
    }
    if (cli.args.length > cli.matchedCommand.args.length) {
      throw new UsageError(`unexpected argument "${String(cli.args[cli.matchedCommand.args.length])}" for ${cli.matchedCommand.name}`)
    }
    await cli.runMatchedCommand()
  } catch (error) {
    handleError(error)
  }
}
