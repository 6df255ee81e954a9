import { HomelabError } from '../../errors.js'
import { renderHomelab } from '../../index.js'
import type { RenderedHomelab } from '../../index.js'
import { countFindings, formatFinding, sourceFinding } from '../../validate/findings.js'
import { validateRender } from '../../validate/validate.js'
import type { ValidationReport } from '../../validate/validate.js'
import { ExitCode } from '../exit-code.js'
import { UsageError } from '../handle-error.js'
import type { GlobalOptions } from '../index.js'
import { dim, formatDuration, green, info, plural, red, yellow } from '../output.js'

export interface ValidateCommandOptions extends GlobalOptions {
  strict?: boolean
  format?: string
}

const FORMATS = ['text', 'json'] as const

/**
 * `homelab validate`: render in memory (config and template errors surface
 * here), then check every rendered object offline. One finding per line and a
 * summary, or the findings as a JSON array; exit 1 when any is an error.
 */
export async function validateCommand(options: ValidateCommandOptions): Promise<void> {
  const format = String(options.format ?? 'text')
  if (!(FORMATS as readonly string[]).includes(format)) throw new UsageError(`--format must be text or json, not "${format}"`)
  const started = performance.now()
  let rendered: RenderedHomelab
  let report: ValidationReport
  try {
    rendered = await renderHomelab(String(options.config))
    report = await validateRender(rendered, { strict: Boolean(options.strict) })
  } catch (error) {
    // a program reading the JSON gets the error as a finding too; the error line still goes to stderr
    if (format === 'json' && error instanceof HomelabError) info(JSON.stringify([sourceFinding(error, 'input')], null, 2))
    throw error
  }
  const { errors, warnings } = countFindings(report.findings)
  if (errors > 0) process.exitCode = ExitCode.Error

  if (format === 'json') {
    info(JSON.stringify(report.findings, null, 2))
    return
  }
  for (const finding of report.findings) {
    const line = formatFinding(finding)
    info(finding.severity === 'error' ? line : yellow(line))
  }
  const checked = `${plural(report.documents, 'object')} of ${plural(rendered.config.apps.length, 'app')}`
  const took = dim(`(${formatDuration(performance.now() - started)})`)
  const warned = warnings > 0 ? `, ${plural(warnings, 'warning')}` : ''
  if (errors > 0) info(`${red('✖')} ${plural(errors, 'error')}${warned} in ${checked} ${took}`)
  else info(`${green('✔')} ${checked} valid${warned ? ` (${plural(warnings, 'warning')})` : ''} ${took}`)
  for (const hint of report.hints) info(`hint: ${hint}`)
}
