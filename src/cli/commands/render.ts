import path from 'node:path'
import { renderHomelab } from '../../index.js'
import { comparePlan, writePlan } from '../../write-plan.js'
import type { PlanChanges } from '../../write-plan.js'
import { ExitCode } from '../exit-code.js'
import type { GlobalOptions } from '../index.js'
import { dim, formatDuration, green, info, plural } from '../output.js'

export interface RenderOptions extends GlobalOptions {
  out: string
  only?: string
  check?: boolean
}

/** Split `--only a,b` (cac may hand over a number or an array). */
export function parseIdList(value: unknown): string[] | undefined {
  if (value === undefined || value === true) return undefined
  const parts = (Array.isArray(value) ? value : [value]).flatMap((v) => String(v).split(','))
  return parts.map((id) => id.trim()).filter(Boolean)
}

/** `homelab render`: write the plan into the output folder, or with --check compare only. */
export async function renderCommand(options: RenderOptions): Promise<void> {
  const started = performance.now()
  const only = parseIdList(options.only)
  const { config, plan } = await renderHomelab(String(options.config), { only })
  const outDir = path.resolve(String(options.out))
  const scope = { only: only ? new Set(only) : undefined }
  const shownOut = displayDir(outDir)
  const appCount = only ? only.length : config.apps.length

  if (options.check) {
    const changes = await comparePlan(outDir, plan, scope)
    const differing = changes.added.length + changes.changed.length + changes.removed.length
    if (differing === 0) {
      info(`${green('✔')} ${shownOut} is up to date (${plural(appCount, 'app')}, ${formatDuration(performance.now() - started)})`)
      return
    }
    printChanges(changes)
    info(`✖ ${shownOut} is out of date: ${plural(differing, 'file')} would change; run homelab render`)
    process.exitCode = ExitCode.Differences
    return
  }

  const changes = await writePlan(outDir, plan, scope)
  const written = changes.added.length + changes.changed.length
  info(
    `${green('✔')} rendered ${plural(appCount, 'app')} into ${shownOut}: ${written} written, ${changes.removed.length} removed, ` +
      `${changes.unchanged} unchanged ${dim(`(${formatDuration(performance.now() - started)})`)}`,
  )
}

function printChanges(changes: PlanChanges): void {
  for (const file of changes.added) info(`  + ${file}`)
  for (const file of changes.changed) info(`  ~ ${file}`)
  for (const file of changes.removed) info(`  - ${file}`)
}

function displayDir(dir: string): string {
  const relative = path.relative(process.cwd(), dir)
  return relative && !relative.startsWith('..') && !path.isAbsolute(relative) ? `${relative}/` : `${dir}/`
}
