import { HomelabError } from '../errors.js'
import { ExitCode } from './exit-code.js'
import { debugEnabled, red, write } from './output.js'

/** A usage mistake: unknown command or option (exit 2). */
export class UsageError extends Error {
  override name = 'UsageError'
}

/**
 * The one place errors are printed: a single `error:` line (plus a hint) for
 * mistakes the user can fix; bugs get one line too, and their stack only with
 * DEBUG=homelab. Everything is printed through output.write, which redacts.
 */
export function handleError(error: unknown): void {
  const prefix = red('error:', process.stderr)
  const debug = debugEnabled()
  if (error instanceof HomelabError) {
    write(`${prefix} ${error.oneLine}\n`, process.stderr)
    if (error.hint) write(`hint: ${error.hint}\n`, process.stderr)
    if (debug && error.stack) write(`${error.stack}\n`, process.stderr)
    process.exitCode ??= ExitCode.Error
    if (process.exitCode === 0) process.exitCode = ExitCode.Error
    return
  }
  const isUsage = error instanceof UsageError || (error instanceof Error && error.name === 'CACError')
  if (isUsage) {
    write(`${prefix} ${(error as Error).message}\n`, process.stderr)
    write('hint: run homelab --help to see the commands and their options\n', process.stderr)
    process.exitCode = ExitCode.Usage
    return
  }
  const message = error instanceof Error ? error.message : String(error)
  write(`${prefix} unexpected: ${message.split('\n')[0] ?? ''}\n`, process.stderr)
  if (debug && error instanceof Error && error.stack) write(`${error.stack}\n`, process.stderr)
  else write('hint: this is a bug in homelab; run again with DEBUG=homelab for details\n', process.stderr)
  process.exitCode = ExitCode.Error
}
