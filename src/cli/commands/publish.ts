import type { PublishEvent, PublishResult } from '../../publish.js'
import type { GlobalOptions } from '../index.js'
import { debugEnabled, debugNote, dim, formatDuration, green, info, plural, warn } from '../output.js'

export interface PublishCommandOptions extends GlobalOptions {
  repo?: string
  branch?: string
  message?: string
  dryRun?: boolean
  allowEmpty?: boolean
}

const took = (ms: number) => dim(`(${formatDuration(ms)})`)

/** One progress line per step, with its time; the files and removed apps after the sync. */
function printEvent(event: PublishEvent): void {
  switch (event.kind) {
    case 'rendered':
      info(`${green('✔')} render: ${plural(event.apps, 'app')}, ${plural(event.files, 'file')} ${took(event.ms)}`)
      break
    case 'uncommitted': {
      const more = event.count - event.files.length
      warn(`the render includes uncommitted changes of the source repository: ${event.files.join(', ')}${more > 0 ? ` and ${more} more` : ''}`)
      break
    }
    case 'cloned':
      info(`${green('✔')} clone ${event.repository} (branch ${event.branch}) ${took(event.ms)}`)
      break
    case 'workdir':
      debugNote(`keeping the clone in ${event.dir}`)
      break
    case 'synced': {
      const { added, changed, removed } = event.changes
      info(`${green('✔')} sync apps/: ${added.length} added, ${changed.length} changed, ${removed.length} removed ${took(event.ms)}`)
      for (const file of added) info(`  + ${file}`)
      for (const file of changed) info(`  ~ ${file}`)
      for (const file of removed) info(`  - ${file}`)
      for (const app of event.removedApps) {
        warn(app.pruned ? `Flux will prune everything of ${app.id}` : `app ${app.id} is removed (Flux did not reconcile it: nothing is pruned)`)
      }
      break
    }
    case 'committed':
      info(`${green('✔')} commit ${event.sha.slice(0, 7)} ${event.subject} ${took(event.ms)}`)
      break
    case 'pushed':
      info(`${green('✔')} push to ${event.branch} ${took(event.ms)}`)
      break
    case 'retry':
      info(`↻ the branch moved on meanwhile: fetching it and trying again (try ${event.attempt} of ${event.maxAttempts})`)
      break
  }
}

function printResult(result: PublishResult, ms: number): void {
  const where = `${result.repository} (branch ${result.branch})`
  if (result.outcome === 'dry-run') {
    const count = result.changes.added.length + result.changes.changed.length + result.changes.removed.length
    info(count === 0 ? `dry run: ${where} is up to date` : `dry run: ${plural(count, 'file')} would change in ${where}; nothing committed`)
  } else if (result.outcome === 'up-to-date') {
    info(`${green('✔')} ${where} already holds this render: nothing to commit ${took(ms)}`)
  } else {
    info(`${green('✔')} published ${plural(result.apps, 'app')} to ${where} ${took(ms)}`)
  }
}

/** `homelab publish`: render and push to the manifest repository (the CI job). */
export async function publishCommand(options: PublishCommandOptions): Promise<void> {
  const started = performance.now()
  const { publishHomelab } = await import('../../publish.js')
  const result = await publishHomelab({
    configPath: String(options.config),
    repo: options.repo === undefined ? undefined : String(options.repo),
    branch: options.branch === undefined ? undefined : String(options.branch),
    message: options.message === undefined ? undefined : String(options.message),
    dryRun: Boolean(options.dryRun),
    allowEmpty: Boolean(options.allowEmpty),
    keepWorkDir: debugEnabled(),
    onProgress: printEvent,
  })
  printResult(result, performance.now() - started)
}
