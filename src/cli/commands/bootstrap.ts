import { bootstrap, describeCommand } from '../../bootstrap.js'
import type { BootstrapEvent, BootstrapPlan, PlannedCommand } from '../../bootstrap.js'
import type { GlobalOptions } from '../index.js'
import { dim, formatDuration, green, info, red, warn, write } from '../output.js'

export interface BootstrapCommandOptions extends GlobalOptions {
  dryRun?: boolean
}

/** `homelab bootstrap [--dry-run]`: Flux on the current kubectl context, pointed at the apps. */
export async function bootstrapCommand(options: BootstrapCommandOptions): Promise<void> {
  const result = await bootstrap(String(options.config), { dryRun: Boolean(options.dryRun), onEvent: printEvent })
  if (options.dryRun) {
    printPlan(result.plan)
    return
  }
  const { repository, branch } = result.plan.config.flux
  info(`${green('✔')} bootstrap finished: Flux syncs ${repository} (branch ${branch}) and reconciles apps/flux from it`)
  if (result.flux === 'bootstrapped') info(dim('  run homelab publish (or let CI do it) so that the repository holds the rendered apps'))
}

/** Flux's own look: `► step`, then `✔ step (1.2 s)` or `✖ step: reason`. */
function printEvent(event: BootstrapEvent): void {
  switch (event.type) {
    case 'start':
      info(`► ${event.step}`)
      break
    case 'note':
      info(`  ${event.message}`)
      break
    case 'output':
      info(dim(`  ${event.line}`))
      break
    case 'done':
      info(`${green('✔')} ${event.step}${event.summary ? `: ${event.summary}` : ''} ${dim(`(${formatDuration(event.ms)})`)}`)
      break
    case 'fail':
      info(`${red('✖')} ${event.step}: ${event.reason}`)
      // the whole output of the failing command, already redacted, for the person to read
      if (event.output) write(`${event.output.split('\n').map((line) => `  ${line}`).join('\n')}\n`, process.stderr)
      break
  }
}

/** Shell text for the context the first command reads; every later command is pinned to it. */
const CONTEXT_WORD = '"$CONTEXT"'

/** The dry-run plan, readable as a shell script: each command as it would run, secrets as ***, YAML as heredocs. */
function printPlan(plan: BootstrapPlan): void {
  const lines: string[] = []
  const add = (command: PlannedCommand) => {
    if (command.input === undefined) {
      lines.push(describeCommand(command, CONTEXT_WORD))
      return
    }
    const input = command.input
    let marker = 'EOF'
    while (input.split('\n').includes(marker)) marker += '_'
    lines.push(`${describeCommand(command, CONTEXT_WORD)} <<'${marker}'`, input.trimEnd(), marker)
  }
  lines.push('', '# homelab bootstrap --dry-run: nothing was run; this is what bootstrap would do.')
  lines.push('# 1. preflight (read-only): flux and kubectl on PATH, the kubectl context, flux check, the flux-system source;')
  lines.push('#    every later command runs with --context set to that context')
  lines.push(`CONTEXT=$(${describeCommand(plan.preflight.context)})`)
  add(plan.preflight.check)
  add(plan.preflight.source)
  let n = 2
  for (const app of plan.apps) {
    lines.push(`# ${n++}. apply bootstrap app ${app.id}`)
    add(app.command)
  }
  lines.push(`# ${n++}. flux bootstrap ${plan.target.provider}: only when the cluster has no flux-system GitRepository;`)
  lines.push(`#    skipped when it already syncs ${plan.config.flux.repository} (branch ${plan.config.flux.branch}), an error for any other repository`)
  add(plan.flux)
  lines.push(`# ${n}. apply apps/flux-bootstrap: Flux reconciles apps/flux from then on`)
  add(plan.sync)
  for (const line of lines) info(line)

  const tokenEnv = plan.target.tokenEnv
  if (tokenEnv && !plan.flux.secretEnv?.[tokenEnv]) {
    warn(`${tokenEnv} is not set: the real run stops in preflight, before changing anything, if flux bootstrap has to run`)
  }
}
