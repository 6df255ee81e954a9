import { HomelabError } from '../errors.js'
import { redact } from '../redact.js'
import { ExitCode } from './exit-code.js'
import { red } from './output.js'

/** A usage mistake: unknown command or option (exit 2). */
export class UsageError extends Error {
  override name = 'UsageError'
}

/**
 * The one place errors are printed: a single `error:` line (plus a hint) for
 * mistakes the user can fix; bugs get one line too, and their stack only with
 * DEBUG=homelab. Everything printed passes through redact().
 */
export function handleError(error: unknown): void {
  const prefix = red('error:', process.stderr)
  const debug = /(^|,)homelab(,|$)/.test(process.env.DEBUG ?? '')
  if (error instanceof HomelabError) {
    process.stderr.write(`${prefix} ${redact(error.oneLine)}\n`)
    if (error.hint) process.stderr.write(`hint: ${redact(error.hint)}\n`)
    if (debug && error.stack) process.stderr.write(`${redact(error.stack)}\n`)
    process.exitCode ??= ExitCode.Error
    if (process.exitCode === 0) process.exitCode = ExitCode.Error
    return
  }
  const isUsage = error instanceof UsageError || (error instanceof Error && error.name === 'CACError')
  if (isUsage) {
    process.stderr.write(`${prefix} ${redact((error as Error).message)}\n`)
    process.stderr.write('hint: run homelab --help to see the commands and their options\n')
    process.exitCode = ExitCode.Usage
    return
  }
  const message = error instanceof Error ? error.message : String(error)
  process.stderr.write(`${prefix} unexpected: ${redact(message.split('\n')[0] ?? '')}\n`)
  if (debug && error instanceof Error && error.stack) process.stderr.write(`${redact(error.stack)}\n`)
  else process.stderr.write('hint: this is a bug in homelab; run again with DEBUG=homelab for details\n')
  process.exitCode = ExitCode.Error
}
