import type { CAC } from 'cac'
import { UsageError } from './handle-error.js'

/**
 * The command line as the user wrote it. cac (through mri) matches the
 * command and fills in defaults, but its reading of options has quirks: a
 * value that looks like a number becomes one (`--out 007` wrote into 7/), an
 * option given twice becomes a list that a command turned into "a,b", and a
 * one-word switch's value (`--check=nope`) becomes an argument. So the options
 * in play are read here once more, from argv, as written.
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

/** An argument that is not an option, and the switch written right before it, if any (`--check nope`). */
export interface Positional {
  text: string
  afterSwitch?: string
}

export interface ReadArgs {
  given: GivenOption[]
  positionals: Positional[]
  /** The first option not in play (`--bogus`, `-x`): reading stops there, as what follows it cannot be known. */
  unknown?: string
}

/** `--dry-run is a switch: …`, for a value a switch does not take. */
export function switchError(flag: string, value: string): UsageError {
  return new UsageError(`${flag} is a switch: give it alone, or as ${flag}=true or ${flag}=false (not "${value}")`)
}

/**
 * Read argv (without node and the script) as the options in play and the
 * other arguments. A switch takes a value only after `=`, or when the next
 * argument is true or false (`--check false`), as mri reads one-word switches;
 * any other value of a switch is a usage error.
 */
export function readArgs(cli: CAC, args: readonly string[]): ReadArgs {
  const byFlag = new Map<string, CliOption>()
  for (const option of optionsInPlay(cli)) {
    for (const name of option.names) byFlag.set(name.length === 1 ? `-${name}` : longFlag(option), option)
  }
  const given: GivenOption[] = []
  const positionals: Positional[] = []
  let afterSwitch: string | undefined
  for (let i = 0; i < args.length; i++) {
    const arg = args[i] as string
    const next = args[i + 1]
    if (arg === '--') break
    if (!arg.startsWith('-') || arg === '-') {
      positionals.push({ text: arg, afterSwitch })
      afterSwitch = undefined
      continue
    }
    afterSwitch = undefined
    if (!arg.startsWith('--')) {
      // -h, -v: letters of switches, which may be grouped (-hv)
      const unknown = [...(arg.split('=')[0] as string).slice(1)].find((letter) => !byFlag.get(`-${letter}`)?.isBoolean)
      if (unknown !== undefined) return { given, positionals, unknown: `-${unknown}` }
      continue
    }
    const equals = arg.indexOf('=')
    const flag = equals < 0 ? arg : arg.slice(0, equals)
    const inline = equals < 0 ? undefined : arg.slice(equals + 1)
    const option = byFlag.get(flag)
    if (!option) {
      // --no-check is --check=false, as mri reads it
      const negated = flag.startsWith('--no-') && inline === undefined ? byFlag.get(`--${flag.slice(5)}`) : undefined
      if (!negated?.isBoolean) return { given, positionals, unknown: flag }
      given.push({ option: negated, value: 'false' })
      continue
    }
    if (option.isBoolean) {
      let value = inline
      if (value === undefined && (next === 'true' || next === 'false')) value = args[++i]
      if (value !== undefined && value !== 'true' && value !== 'false') throw switchError(flag, value)
      if (value === undefined) afterSwitch = flag
      given.push({ option, value: value ?? 'true' })
      continue
    }
    // the next argument is the value unless it is an option itself (as mri reads it)
    const value = inline ?? (next !== undefined && !next.startsWith('-') ? args[++i] : undefined)
    if (value === '') throw emptyValue(option)
    if (value === undefined && option.required) throw new UsageError(`${flag} needs a value: give ${flag} <${placeholder(option)}>`)
    given.push({ option, value })
  }
  return { given, positionals }
}

/** The name of an option's value in its declaration: `dir` of `--out <dir>`. */
function placeholder(option: CliOption): string {
  return /[<[]([^>\]]+)[>\]]/.exec(option.rawName)?.[1] ?? 'value'
}

/**
 * An empty value (`--out=`, `--out ''`) is a usage error for every option:
 * `--out ''` rendered into the current folder, and `--repo=` quietly meant
 * flux.repository, which only `--repo` alone is documented to mean.
 */
function emptyValue(option: CliOption): UsageError {
  const flag = longFlag(option)
  const give = `give ${flag} <${placeholder(option)}>`
  return new UsageError(`${flag} is empty: ${option.required ? give : `${give}, or ${flag} alone`}`)
}

/**
 * mri reads the argument after a switch with a dash in its name as the
 * switch's value (`crds --from-cluster pull` lost its action to the switch),
 * but after a one-word switch as an argument. Written as `--from-cluster=true`,
 * every switch reads as a one-word one does. Run before cac parses argv: switch
 * names are the same wherever they appear.
 */
export function switchesAlone(cli: CAC, args: readonly string[]): string[] {
  const all = [cli.globalCommand, ...cli.commands].flatMap((command) => command.options)
  const takesValue = new Set(all.filter((option) => !option.isBoolean).map(longFlag))
  const switches = new Set(all.filter((option) => option.isBoolean && !takesValue.has(longFlag(option))).map(longFlag))
  const end = args.indexOf('--')
  return args.map((arg, i) => {
    const next = args[i + 1]
    const beforeEnd = end < 0 || i < end
    return beforeEnd && switches.has(arg) && next !== undefined && !next.startsWith('-') && next !== 'true' && next !== 'false' ? `${arg}=true` : arg
  })
}

/**
 * Each switch given is true or false as its last mention says. cac hands
 * `--allow-empty=false` over as the text "false", which every command would
 * read as true: publish's refusal of an empty render would be switched off by
 * the words meant to keep it on.
 */
export function useSwitches(cli: CAC, given: readonly GivenOption[]): void {
  for (const { option, value } of given) if (option.isBoolean) cli.options[option.name] = value !== 'false'
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
