/**
 * `homelab bootstrap`: put Flux on the current kubectl context and point it
 * at the apps (DESIGN.md, bootstrap). One pure plan (`planBootstrap`) feeds
 * both `--dry-run` and the real run; the run reports each step through a
 * callback and never prints.
 */
import { bootstrapDependencyProblems } from './bootstrap-dependencies.js'
import { checkBootstrapKustomization } from './bootstrap-kustomization.js'
import { loadConfig } from './config/load-config.js'
import { resolveConfig } from './config/resolve-config.js'
import type { ResolvedConfig } from './config/types.js'
import { dependencyOrder } from './dependency-graph.js'
import { HomelabError } from './errors.js'
import { run, shellWord } from './exec.js'
import type { RunResult } from './exec.js'
import { FLUX_CHECK_PRE, INSTALL_HINTS, findOnPath } from './flux-cli.js'
import { FLUX_BOOTSTRAP_DIR } from './flux-objects.js'
import { planFluxTarget, sameRepository } from './flux-provider.js'
import type { FluxTarget, Locate } from './flux-provider.js'
import { KUBECTL_APPLY_STDIN, KUBECTL_CURRENT_CONTEXT, KUBECTL_GET_FLUX_SOURCE, manifestStream, parseFluxSource } from './kubectl.js'
import type { FluxSource } from './kubectl.js'
import { SECRET_ENV_VARS, redact } from './redact.js'
import { render } from './render.js'
import type { Plan } from './render.js'
import { countFindings, formatFinding } from './validate/findings.js'
import { validateRender } from './validate/validate.js'

/** One external command of the plan, exactly as it runs. */
export interface PlannedCommand {
  file: 'kubectl' | 'flux'
  args: string[]
  /** YAML piped to stdin. */
  input?: string
  /** Secret variables handed over through the environment only (name → value, undefined when unset). */
  secretEnv?: Record<string, string | undefined>
  /** Runs on the terminal so that it can ask a question (never with a secret). */
  interactive?: boolean
}

/** Everything bootstrap will do, decided before anything runs. */
export interface BootstrapPlan {
  config: ResolvedConfig
  target: FluxTarget
  /**
   * Read-only: current context, `flux check --pre`, the flux-system GitRepository.
   * Every command after `context` runs pinned to the context it reads (`pinContext`).
   */
  preflight: { context: PlannedCommand; check: PlannedCommand; source: PlannedCommand }
  /** `bootstrap: true` apps in dependency order. */
  apps: Array<{ id: string; command: PlannedCommand }>
  /** `flux bootstrap <provider>`: runs only when the cluster has no flux-system GitRepository. */
  flux: PlannedCommand
  /** `apps/flux-bootstrap` piped to kubectl: always last. */
  sync: PlannedCommand
}

/** Progress of a bootstrap, for the CLI to show. */
export type BootstrapEvent =
  | { type: 'start'; step: string }
  | { type: 'note'; step: string; message: string }
  | { type: 'output'; step: string; line: string }
  | { type: 'done'; step: string; ms: number; summary?: string }
  | { type: 'fail'; step: string; ms: number; reason: string; output?: string }

export interface BootstrapOptions {
  dryRun?: boolean
  onEvent?: (event: BootstrapEvent) => void
}

export interface BootstrapResult {
  plan: BootstrapPlan
  /** What happened to Flux: installed now, already there, or nothing (dry run). */
  flux: 'bootstrapped' | 'already-bootstrapped' | 'not-run'
}

export const STEP_RENDER = 'render and validate'
export const STEP_PREFLIGHT = 'preflight'
export const STEP_SYNC = 'apply flux-bootstrap'
export const stepApp = (id: string) => `apply ${id}`
export const stepFlux = (plan: BootstrapPlan) => `flux bootstrap ${plan.target.provider}`

const RERUN_HINT = 'fix the cause and run homelab bootstrap again: the steps that already succeeded are safe to repeat'

/** A command that exited non-zero; `output` is everything it printed, redacted. */
export class CommandFailedError extends HomelabError {
  readonly output: string
  constructor(command: PlannedCommand, result: RunResult) {
    const lines = (result.stderr || result.stdout).trim().split('\n').filter((line) => line.trim() !== '')
    const last = lines.length > 0 ? `: ${lines.slice(-2).join(' | ')}` : ''
    // the command's name without its flags (`flux bootstrap github`): the full line is in the plan (--dry-run)
    const firstFlag = command.args.findIndex((arg) => arg.startsWith('-'))
    const name = [command.file, ...(firstFlag < 0 ? command.args : command.args.slice(0, firstFlag))].join(' ')
    super(`${name} failed (exit ${result.exitCode})${last}`)
    this.output = [result.stdout, result.stderr].filter((text) => text.trim() !== '').join('\n').trimEnd()
  }
}

/**
 * Run bootstrap: render and plan in memory, then (unless dryRun) preflight,
 * bootstrap apps, `flux bootstrap` when needed, and `apps/flux-bootstrap`.
 * Stops at the first failing step with a HomelabError that names it.
 */
export async function bootstrap(configPath: string, options: BootstrapOptions = {}): Promise<BootstrapResult> {
  const env = process.env
  const emit = options.onEvent ?? (() => {})
  const step = stepRunner(emit)

  const plan = await step(STEP_RENDER, async (ctx) => {
    const loaded = await loadConfig(configPath)
    const { config, library } = await resolveConfig(loaded)
    const rendered = render(config, library)
    const result = planBootstrap(config, rendered, env, config.locateNearest)
    const report = await validateRender({ config, plan: rendered })
    const { errors, warnings } = countFindings(report.findings)
    const first = report.findings.find((finding) => finding.severity === 'error')
    if (first) {
      throw new HomelabError(`validation found ${errors === 1 ? '1 error' : `${errors} errors`}, the first: ${formatFinding(first)}`, {
        hint: 'homelab validate lists every finding; nothing was changed',
      })
    }
    if (warnings > 0) ctx.note(`${warnings === 1 ? '1 validation warning' : `${warnings} validation warnings`} (homelab validate shows them)`)
    ctx.summary = `${config.apps.length} apps, ${result.apps.length} to apply before Flux`
    return result
  })
  if (options.dryRun) return { plan, flux: 'not-run' }

  const { context, source } = await step(STEP_PREFLIGHT, (ctx) => preflight(plan, env, ctx))
  for (const app of plan.apps) {
    await step(stepApp(app.id), async (ctx) => ctx.show(await runOrFail(app.command, context)))
  }
  await step(stepFlux(plan), async (ctx) => {
    if (source) {
      ctx.summary = `skipped, the cluster already syncs ${source.url} (branch ${source.branch})`
      return
    }
    ctx.show(await runOrFail(plan.flux, context))
  })
  await step(STEP_SYNC, async (ctx) => ctx.show(await runOrFail(plan.sync, context)))
  return { plan, flux: source ? 'already-bootstrapped' : 'bootstrapped' }
}

/**
 * The plan: pure, from the resolved config and the rendered files. Checks
 * what bootstrap needs beyond render: the provider and its arguments, a
 * bootstrap app only depending on bootstrap apps, folders that
 * `kubectl apply -f -` can take, and no Kustomization setting that would make
 * Flux apply other objects than bootstrap did.
 */
export function planBootstrap(config: ResolvedConfig, rendered: Plan, env: NodeJS.ProcessEnv = {}, locate?: Locate): BootstrapPlan {
  const target = planFluxTarget(config.flux, locate)
  const [outside] = bootstrapDependencyProblems(config, locate)
  if (outside) throw outside
  const bootstrapApps = config.apps.filter((app) => app.bootstrap)
  const order = dependencyOrder(bootstrapApps.map((app) => ({ id: app.id, dependsOn: app.dependsOn })))
  const streams = new Map<string, string>()
  for (const app of bootstrapApps) {
    const stream = manifestStream(rendered, `apps/${app.id}`, `bootstrap app "${app.id}"`)
    checkBootstrapKustomization(app, stream, config, locate)
    streams.set(app.id, stream)
  }
  const apply = (input: string): PlannedCommand => ({ file: 'kubectl', args: [...KUBECTL_APPLY_STDIN], input })
  return {
    config,
    target,
    preflight: {
      context: { file: 'kubectl', args: [...KUBECTL_CURRENT_CONTEXT] },
      check: { file: 'flux', args: [...FLUX_CHECK_PRE] },
      source: { file: 'kubectl', args: [...KUBECTL_GET_FLUX_SOURCE] },
    },
    apps: order.map((id) => ({ id, command: apply(streams.get(id)!) })),
    flux: {
      file: 'flux',
      args: [...target.args],
      secretEnv: target.tokenEnv ? { [target.tokenEnv]: env[target.tokenEnv] || undefined } : undefined,
      interactive: target.interactive,
    },
    sync: apply(manifestStream(rendered, FLUX_BOOTSTRAP_DIR, FLUX_BOOTSTRAP_DIR)),
  }
}

/**
 * A command as a person would type it: secret variables first as `NAME=***`,
 * never their values. `contextWord` is shell text for the pinned context: the
 * dry run shows a variable there, since only the cluster's kubeconfig knows it.
 */
export function describeCommand(command: PlannedCommand, contextWord?: string): string {
  const env = Object.entries(command.secretEnv ?? {}).map(([name, value]) => `${name}=${value ? '***' : '<unset>'} `)
  const words = [shellWord(command.file), ...(contextWord === undefined ? [] : [`--context=${contextWord}`]), ...command.args.map(shellWord)]
  return env.join('') + redact(words.join(' '))
}

/**
 * The command pinned to the context preflight read, with the global
 * `--context` flag both kubectl and flux have: a `kubectl config use-context`
 * in another terminal during the run must not send the rest of it to another cluster.
 */
export function pinContext(command: PlannedCommand, context: string): PlannedCommand {
  return { ...command, args: [`--context=${context}`, ...command.args] }
}

interface StepContext {
  summary?: string
  note(message: string): void
  /** Report a successful command's output, line by line. */
  show(result: RunResult): void
}

/** Wraps each step: start and done/fail events with its time; failures become errors that name the step. */
function stepRunner(emit: (event: BootstrapEvent) => void) {
  return async function step<T>(name: string, body: (ctx: StepContext) => Promise<T>): Promise<T> {
    emit({ type: 'start', step: name })
    const started = performance.now()
    const ctx: StepContext = {
      note: (message) => emit({ type: 'note', step: name, message: redact(message) }),
      show: (result) => {
        for (const line of `${result.stdout}\n${result.stderr}`.split('\n')) if (line.trim() !== '') emit({ type: 'output', step: name, line })
      },
    }
    try {
      const value = await body(ctx)
      emit({ type: 'done', step: name, ms: performance.now() - started, summary: ctx.summary })
      return value
    } catch (error) {
      const reason = error instanceof HomelabError ? error.oneLine : error instanceof Error ? error.message : String(error)
      const output = error instanceof CommandFailedError && error.output ? error.output : undefined
      emit({ type: 'fail', step: name, ms: performance.now() - started, reason: redact(reason), output })
      if (!(error instanceof HomelabError) || name === STEP_RENDER) throw error // keep file:line:col of config errors
      throw new HomelabError(`bootstrap stopped at step "${name}": ${error.message}`, {
        location: error.location,
        hint: error.hint ?? RERUN_HINT,
        cause: error,
      })
    }
  }
}

/**
 * Read-only checks before anything changes: the programs, the context, `flux
 * check --pre`, and the cluster's flux-system source, so that a mismatch or a
 * missing token stops here. Returns the context every later command is pinned
 * to, and the existing source when Flux already syncs the configured
 * repository and branch.
 */
async function preflight(plan: BootstrapPlan, env: NodeJS.ProcessEnv, ctx: StepContext): Promise<{ context: string; source?: FluxSource }> {
  const missing = (['flux', 'kubectl'] as const).filter((name) => !findOnPath(name, env))
  if (missing.length > 0) {
    throw new HomelabError(`${missing.join(' and ')} not found on PATH`, { hint: missing.map((name) => INSTALL_HINTS[name]).join('; ') })
  }
  const contextResult = await runPlanned(plan.preflight.context)
  const context = contextResult.stdout.trim()
  if (contextResult.exitCode !== 0 || context === '') {
    throw new HomelabError(`kubectl has no current context${contextResult.stderr.trim() ? `: ${contextResult.stderr.trim().split('\n')[0]}` : ''}`, {
      hint: 'choose the cluster to bootstrap with kubectl config use-context <name>',
    })
  }
  ctx.note(`kubectl context: ${context} (the cluster bootstrap changes)`)
  await runOrFail(plan.preflight.check, context)

  const source = parseFluxSource(await runPlanned(pinContext(plan.preflight.source, context)))
  const { repository, branch } = plan.config.flux
  if (source) {
    // a source without a branch (a tag, a commit) was not made by flux bootstrap for this config: not ours either
    if (!sameRepository(source.url, repository, plan.target.provider) || source.branch !== branch) {
      throw new HomelabError(
        `Flux on context ${context} already syncs ${source.url} (branch ${source.branch ?? 'none'}), not ${repository} (branch ${branch}) of ${plan.config.file}`,
        { hint: 'homelab bootstrap never re-points an existing Flux: fix flux.repository/flux.branch, or switch kubectl to another context' },
      )
    }
    ctx.summary = `context ${context}; Flux already syncs ${source.url}`
    return { context, source }
  }
  const tokenEnv = plan.target.tokenEnv
  if (tokenEnv && !plan.flux.secretEnv?.[tokenEnv]) {
    throw new HomelabError(`${tokenEnv} is not set: flux bootstrap ${plan.target.provider} needs a token; nothing was changed`, {
      hint: `export ${tokenEnv}=<token> and run homelab bootstrap again (the README section "Tokens and the permissions they need" lists what it must be allowed)`,
    })
  }
  ctx.summary = `context ${context}; no Flux yet: flux bootstrap ${plan.target.provider} will run`
  return { context }
}

/**
 * Run a planned command pinned to `context`, with its stdin (closed when
 * empty). Only the command's own secret variables reach it: every other known
 * secret is taken out of the inherited environment (kubectl never sees a Git
 * token). A non-zero exit throws.
 */
async function runOrFail(command: PlannedCommand, context: string): Promise<RunResult> {
  const result = await runPlanned(pinContext(command, context))
  // named after the planned command: its subcommand, not the --context in front of it
  if (result.exitCode !== 0) throw new CommandFailedError(command, result)
  return result
}

function runPlanned(command: PlannedCommand): Promise<RunResult> {
  const env: Record<string, string | undefined> = Object.fromEntries(SECRET_ENV_VARS.map((name) => [name, undefined]))
  const secretNames: string[] = []
  for (const [name, value] of Object.entries(command.secretEnv ?? {})) {
    if (!value) continue
    env[name] = value
    secretNames.push(name)
  }
  if (command.interactive && secretNames.length > 0) throw new Error('an interactive command must not get secrets: its output is not redacted')
  // undefined values are dropped by Node when it builds the child's environment
  return run(command.file, command.args, { input: command.input ?? '', env, secretEnv: secretNames, interactive: command.interactive })
}
