/** Where in a user's file a problem sits (1-based line and column). */
export interface SourceLocation {
  file: string
  line?: number
  col?: number
}

/**
 * A mistake the user can fix: bad config, a broken template, a failed external
 * command. The CLI prints it as one line (`error: <file>:<line>:<col>: <message>`)
 * plus an optional hint, never with a stack trace.
 */
export class HomelabError extends Error {
  readonly location?: SourceLocation
  readonly hint?: string

  constructor(message: string, options: { location?: SourceLocation; hint?: string; cause?: unknown } = {}) {
    super(printable(message), options.cause === undefined ? undefined : { cause: options.cause })
    this.name = 'HomelabError'
    this.location = options.location
    this.hint = options.hint === undefined ? undefined : printable(options.hint)
  }

  /** The one-line form the CLI prints after `error: `. */
  get oneLine(): string {
    const where = escapeControl(formatLocation(this.location))
    return where ? `${where}: ${this.flatMessage}` : this.flatMessage
  }

  /** The message on one line, without the location. */
  get flatMessage(): string {
    return this.message.replace(/\s*\n\s*/g, ' ')
  }
}

/** Longest message or hint shown; longer ones (a 5000-character value quoted back) lose their middle. */
const MAX_MESSAGE = 1000

/** A message safe and short enough for a terminal line. */
function printable(text: string): string {
  const safe = escapeControl(text.replace(/\r\n?/g, '\n'))
  if (safe.length <= MAX_MESSAGE) return safe
  const tail = safe.slice(-200)
  const head = safe.slice(0, MAX_MESSAGE - 200)
  return `${head}…(${safe.length - head.length - tail.length} characters left out)…${tail}`
}

/** Control characters other than tab and newline (ESC, CR, NUL, C1, …). */
const CONTROL = /[\u0000-\u0008\u000b-\u001f\u007f-\u009f]/g

/**
 * Messages quote the user's values, and a value with ESC or CR in it would
 * drive the terminal that shows the error: write those characters as `\uXXXX`.
 */
export function escapeControl(text: string): string {
  return text.replace(CONTROL, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`)
}

export function formatLocation(location?: SourceLocation): string {
  if (!location) return ''
  let s = location.file
  if (location.line !== undefined) {
    s += `:${location.line}`
    if (location.col !== undefined) s += `:${location.col}`
  }
  return s
}

export function isHomelabError(error: unknown): error is HomelabError {
  return error instanceof HomelabError
}
