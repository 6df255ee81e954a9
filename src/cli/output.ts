import { redact } from '../redact.js'

/**
 * How the CLI talks to a person: plain lines, colour only on a terminal and
 * never with NO_COLOR. Everything the CLI prints goes through `write` below,
 * which passes it through redact(): secrets cannot reach the terminal or a CI
 * log, whichever command printed them.
 */

const useColor = (stream: NodeJS.WriteStream): boolean =>
  Boolean(stream.isTTY) && !('NO_COLOR' in process.env) && process.env.TERM !== 'dumb'

function paint(code: number, text: string, stream: NodeJS.WriteStream = process.stdout): string {
  return useColor(stream) ? `\u001b[${code}m${text}\u001b[0m` : text
}

export const green = (text: string) => paint(32, text)
export const red = (text: string, stream: NodeJS.WriteStream = process.stdout) => paint(31, text, stream)
export const yellow = (text: string, stream: NodeJS.WriteStream = process.stdout) => paint(33, text, stream)
export const dim = (text: string) => paint(2, text)

/** Write text as it is (plus redaction) to stdout or stderr. */
export function write(text: string, stream: NodeJS.WriteStream = process.stdout): void {
  stream.write(redact(text))
}

let streamsRedacted = false

/**
 * The backstop behind `write`: text that reaches stdout or stderr without
 * going through it (Node's own NODE_DEBUG logging, which prints the
 * environment of every child process, tokens included; the `debug` package;
 * cac's help) is redacted too. Installed once, before a command runs.
 */
export function redactStreams(): void {
  if (streamsRedacted) return
  streamsRedacted = true
  for (const stream of [process.stdout, process.stderr]) {
    const original = stream.write.bind(stream) as (chunk: unknown, ...rest: unknown[]) => boolean
    stream.write = ((chunk: unknown, ...rest: unknown[]) =>
      original(typeof chunk === 'string' ? redact(chunk) : chunk instanceof Uint8Array ? redact(Buffer.from(chunk).toString('utf8')) : chunk, ...rest)) as typeof stream.write
  }
}

/** DEBUG=homelab (or a list with homelab in it): stack traces, kept work folders, what the render memo and the code cache decided. */
export function debugEnabled(): boolean {
  return /(^|,)homelab(,|$)/.test(process.env.DEBUG ?? '')
}

/** A `debug:` line on stderr under DEBUG=homelab: what the caches decided, how long steps took, what was kept. */
export function debugNote(line: string): void {
  if (debugEnabled()) write(`debug: ${line}\n`, process.stderr)
}

/**
 * Times a command's steps for DEBUG=homelab: each call ends the step named,
 * which ran since the one before (the first: since the timer was made);
 * `line()` lists them, and the time since the process started, Node's own
 * start and loading the CLI included.
 */
export function stepTimer(): ((step: string) => void) & { line(): string } {
  const steps: string[] = []
  let last = performance.now()
  const end = (step: string) => {
    const now = performance.now()
    steps.push(`${step} ${Math.round(now - last)} ms`)
    last = now
  }
  return Object.assign(end, { line: () => `${steps.join(', ')} (${Math.round(performance.now())} ms since the process started)` })
}

export function info(line = ''): void {
  write(`${line}\n`)
}

export function warn(line: string): void {
  write(`${yellow('warning:', process.stderr)} ${line}\n`, process.stderr)
}

/** A duration for people: `45 ms`, `1.2 s`. */
export function formatDuration(ms: number): string {
  return ms < 1000 ? `${Math.round(ms)} ms` : `${(ms / 1000).toFixed(1)} s`
}

export function plural(count: number, word: string, pluralWord = `${word}s`): string {
  return `${count} ${count === 1 ? word : pluralWord}`
}
