import type { CAC } from 'cac'
import { UsageError } from './handle-error.js'

/**
 * The command line as the user wrote it. cac (through mri) matches the
 * command and fills in defaults, but its reading of options has quirks: a
 * value that looks like a number becomes one (`--out 007` wrote into 7/), and
 * an option given twice becomes a list that a command turned into "a,b".
 * So the options in play are read here once more, from argv, as written.
 */

type CliOption = CAC['globalCommand']['options'][number]

/** Options that may be given more than once, their values merged (`--only a --only b`). */
const LIST_OPTIONS = new Set(['--only'])

/** The options of the global command and of the matched one. */
export function optionsInPlay(cli: CAC): CliOption[] {
  return [...cli.globalCommand.options, ...(cli.matchedCommand?.options ?? [])]
}

/** An option's long form as typed (`--allow-empty`), from its declaration (`--allow-empty`, `-v, --version`, `--out <dir>`). */
export function longFlag(option: CliOption): string {
  return option.rawName.split(/[\s,]+/).find((name) => name.startsWith('--')) ?? option.rawName
}

/** One option as written on the command line. */
export interface GivenOption {
  option: CliOption
  /** The value as written (after `=`, or the next argument); undefined when there is none. */
  value?: string
}

/** Every option in play that argv gives, in order. Options not in play are left to cac's check. */
export function readOptions(cli: CAC, args: readonly string[]): GivenOption[] {
  const byFlag = new Map<string, CliOption>()
  for (const option of optionsInPlay(cli)) byFlag.set(longFlag(option), option)
  const given: GivenOption[] = []
  for (let i = 0; i < args.length; i++) {
    const arg = args[i] as string
    if (arg === '--') break
    if (!arg.startsWith('--')) continue
    const equals = arg.indexOf('=')
    const option = byFlag.get(equals < 0 ? arg : arg.slice(0, equals))
    if (!option) continue
    if (equals >= 0) given.push({ option, value: arg.slice(equals + 1) })
    // as mri reads it: the next argument is the value unless it is an option itself
    else if (!option.isBoolean && i + 1 < args.length && !(args[i + 1] as string).startsWith('-')) given.push({ option, value: args[++i] })
    else given.push({ option })
  }
  return given
}

/**
 * An option that takes one value, given more than once, is a usage error:
 * which one the user meant cannot be known (cac handed over both, and
 * `--out a --out b` wrote into a,b/). List options merge their values.
 */
export function checkGivenOnce(given: readonly GivenOption[]): void {
  const seen = new Map<CliOption, GivenOption[]>()
  for (const entry of given) {
    if (entry.option.isBoolean || LIST_OPTIONS.has(longFlag(entry.option))) continue
    seen.set(entry.option, [...(seen.get(entry.option) ?? []), entry])
  }
  for (const [option, entries] of seen) {
    if (entries.length < 2) continue
    const times = entries.length === 2 ? 'twice' : `${entries.length} times`
    const values = entries.map((entry) => (entry.value === undefined ? 'without a value' : JSON.stringify(entry.value)))
    const listed = `${values.slice(0, -1).join(', ')} and ${values[values.length - 1] as string}`
    throw new UsageError(`${longFlag(option)} given ${times} (${listed}): give it once`)
  }
}

/**
 * Give options that take a value the text as written. cac's parser turns
 * anything that looks like a number into one: `--out 007` wrote into 7/,
 * `--out 1e3` into 1000/, `--branch 01` named branch 1, `--only ''` app "0".
 */
export function useValuesAsWritten(cli: CAC, given: readonly GivenOption[]): void {
  const values = new Map<CliOption, string[]>()
  for (const { option, value } of given) {
    if (!option.isBoolean && value !== undefined) values.set(option, [...(values.get(option) ?? []), value])
  }
  for (const [option, written] of values) cli.options[option.name] = written.length === 1 ? written[0] : written
}
