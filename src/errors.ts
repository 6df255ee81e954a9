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
    super(message, options.cause === undefined ? undefined : { cause: options.cause })
    this.name = 'HomelabError'
    this.location = options.location
    this.hint = options.hint
  }

  /** The one-line form the CLI prints after `error: `. */
  get oneLine(): string {
    const where = formatLocation(this.location)
    const text = this.message.replace(/\s*\n\s*/g, ' ')
    return where ? `${where}: ${text}` : text
  }
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
