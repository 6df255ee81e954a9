import path from 'node:path'
import { displayPath } from '../config/load-config.js'
import { HomelabError } from '../errors.js'
import { TEMP_MARK } from '../write-plan.js'
import { ExitCode } from './exit-code.js'
import { debugEnabled, red, write } from './output.js'

/** A usage mistake: an unknown command or option, a value missing, empty or given twice (exit 2). */
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
  const fileSystem = fileSystemProblem(error)
  if (fileSystem) {
    write(`${prefix} ${fileSystem.line}\n`, process.stderr)
    if (fileSystem.hint) write(`hint: ${fileSystem.hint}\n`, process.stderr)
    if (debug && error instanceof Error && error.stack) write(`${error.stack}\n`, process.stderr)
    process.exitCode = ExitCode.Error
    return
  }
  const message = error instanceof Error ? error.message : String(error)
  write(`${prefix} unexpected: ${message.split('\n')[0] ?? ''}\n`, process.stderr)
  if (debug && error instanceof Error && error.stack) write(`${error.stack}\n`, process.stderr)
  else write('hint: this is a bug in homelab; run again with DEBUG=homelab for details\n', process.stderr)
  process.exitCode = ExitCode.Error
}

/** What the file system said, in words, and what to do about it. */
const FILE_SYSTEM_ERRORS: Record<string, { says: string; hint?: string }> = {
  EACCES: { says: 'permission denied', hint: 'check the permissions of the file and the folders above it' },
  EPERM: { says: 'operation not permitted', hint: 'check the permissions of the file and the folders above it' },
  EROFS: { says: 'the file system is read-only' },
  ENOSPC: { says: 'no space left on the device' },
  EDQUOT: { says: 'the disk quota is used up' },
  ENOTDIR: { says: 'a part of this path is a file, not a folder' },
  EISDIR: { says: 'is a folder, not a file' },
  ENOENT: { says: 'no such file or folder (it went away while homelab was working?)' },
  ELOOP: { says: 'too many symbolic links in this path' },
  ENAMETOOLONG: { says: 'the path is too long' },
  EMFILE: { says: 'too many open files', hint: 'raise the limit (ulimit -n) and run again' },
  ENFILE: { says: 'too many open files on the system' },
  EBUSY: { says: 'the file or folder is busy' },
}

/**
 * A file that cannot be read or written (permissions, a full or read-only
 * disk, a file where a folder must be) is a problem of the user's machine,
 * not a bug: say which file and what the system said, in one line. A temp
 * file of an atomic write is named by the file it was writing.
 */
function fileSystemProblem(error: unknown): { line: string; hint?: string } | undefined {
  if (!(error instanceof Error)) return undefined
  const { code, path: file, syscall } = error as NodeJS.ErrnoException
  const known = code === undefined ? undefined : FILE_SYSTEM_ERRORS[code]
  if (!known || typeof file !== 'string') return undefined
  const name = path.basename(file)
  const temp = name.indexOf(TEMP_MARK)
  const shown = name.startsWith('.') && temp > 1 ? path.join(path.dirname(file), name.slice(1, temp)) : file
  return { line: `${displayPath(shown)}: ${known.says} (${code}${syscall ? ` on ${syscall}` : ''})`, hint: known.hint }
}
