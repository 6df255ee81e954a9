'use strict'
/**
 * Shared code of the `flux` and `kubectl` test stand-ins (see ../README.md).
 *
 * CommonJS on purpose: the shims load it with `createRequire(<their real path>)`, which works whether
 * Node runs the extensionless shim as ESM (it sits under a `"type": "module"` package.json) or as CommonJS.
 * No dependencies except `yaml`, resolved from the project's node_modules next to this file.
 */
const fs = require('node:fs')
const path = require('node:path')

/** Environment variables whose values the shims record (and echo when told to fail, like a leaky tool). */
const SECRET_ENV_VARS = [
  'GITHUB_TOKEN',
  'GITLAB_TOKEN',
  'GITEA_TOKEN',
  'BITBUCKET_TOKEN',
  'GIT_PASSWORD',
  'GIT_USERNAME',
  'HOMELAB_GIT_TOKEN',
]

/** A usage error (bad flag, unknown command): printed in the tool's format, exit 1. */
class UsageError extends Error {}
/** Ends the run with the given exit code after the message was printed. */
class Exit extends Error {
  constructor(code) {
    super(`exit ${code}`)
    this.code = code
  }
}

let yamlModule
/** The `yaml` package of the project (resolved relative to this file, whatever the cwd). */
function yaml() {
  if (!yamlModule) {
    try {
      yamlModule = require('yaml')
    } catch (err) {
      process.stderr.write(`shim: cannot load the "yaml" package from ${__dirname}: ${err.message}\n`)
      throw new Exit(70)
    }
  }
  return yamlModule
}

// ---------------------------------------------------------------------------------------------
// stdin

/**
 * Read whatever was piped to stdin without ever hanging.
 * - a TTY is never read (`{ text: null, tty: true }`);
 * - a file or /dev/null is read synchronously;
 * - a pipe/socket is read until EOF, or until `maxMs` passes (then `closed: false`: the caller left it open).
 * @returns {Promise<{ text: string | null, closed: boolean, tty: boolean }>}
 */
function readStdin(maxMs) {
  if (process.stdin.isTTY) return Promise.resolve({ text: null, closed: false, tty: true })
  let st
  try {
    st = fs.fstatSync(0)
  } catch {
    return Promise.resolve({ text: null, closed: true, tty: false })
  }
  if (st.isFile() || st.isCharacterDevice()) {
    let text = ''
    try {
      text = fs.readFileSync(0, 'utf8')
    } catch {
      // e.g. EAGAIN on an odd device: treat as empty
    }
    return Promise.resolve({ text: text === '' ? null : text, closed: true, tty: false })
  }
  return new Promise((resolve) => {
    const chunks = []
    let done = false
    const finish = (closed) => {
      if (done) return
      done = true
      clearTimeout(timer)
      process.stdin.removeAllListeners('data')
      process.stdin.pause()
      if (!closed) process.stdin.destroy()
      const text = Buffer.concat(chunks).toString('utf8')
      resolve({ text: text === '' ? null : text, closed, tty: false })
    }
    const timer = setTimeout(() => finish(false), maxMs)
    process.stdin.on('data', (c) => chunks.push(c))
    process.stdin.on('end', () => finish(true))
    process.stdin.on('error', () => finish(true))
    process.stdin.resume()
  })
}

// ---------------------------------------------------------------------------------------------
// log and state

/** Values of the secret variables that are set. */
function secretEnv(env = process.env) {
  const out = {}
  for (const name of SECRET_ENV_VARS) if (env[name] !== undefined) out[name] = env[name]
  return out
}

/** Append one call as a JSON line to $SHIM_LOG (if set). */
function record(tool, argv, stdin, exitCode, extra = {}) {
  const file = process.env.SHIM_LOG
  if (!file) return
  const entry = {
    tool,
    argv,
    env: secretEnv(),
    stdin: stdin ? stdin.text : null,
    stdinClosed: stdin ? stdin.closed : true,
    cwd: process.cwd(),
    exitCode,
    ...extra,
  }
  fs.appendFileSync(file, JSON.stringify(entry) + '\n')
}

const DEFAULT_CONTEXT = 'homelab-test'

/** Read the fake cluster state named by $SHIM_KUBE_STATE (an empty cluster when unset or missing). */
function loadState() {
  const file = process.env.SHIM_KUBE_STATE
  let raw = {}
  if (file && fs.existsSync(file)) {
    const text = fs.readFileSync(file, 'utf8')
    if (text.trim() !== '') raw = JSON.parse(text)
  }
  const state = { ...raw }
  if (state.context === undefined) state.context = DEFAULT_CONTEXT
  if (!state.gitRepositories) state.gitRepositories = {}
  if (!Array.isArray(state.applied)) state.applied = []
  return state
}

/** Write the state back atomically (no-op without $SHIM_KUBE_STATE). */
function saveState(state) {
  const file = process.env.SHIM_KUBE_STATE
  if (!file) return
  const tmp = `${file}.${process.pid}.tmp`
  fs.writeFileSync(tmp, JSON.stringify(state, null, 2) + '\n')
  fs.renameSync(tmp, file)
}

/** Contexts the fake kubeconfig has. */
function knownContexts(state) {
  if (Array.isArray(state.contexts)) return state.contexts
  return state.context ? [state.context] : []
}

/** Whether the Flux CRDs are on the fake cluster: `fluxInstalled`, else true when a GitRepository is recorded. */
function fluxInstalled(state) {
  if (typeof state.fluxInstalled === 'boolean') return state.fluxInstalled
  return Object.keys(state.gitRepositories).length > 0
}

// ---------------------------------------------------------------------------------------------
// pflag-like parsing

const GO_TRUE = ['1', 't', 'T', 'TRUE', 'true', 'True']
const GO_FALSE = ['0', 'f', 'F', 'FALSE', 'false', 'False']
const GO_DURATION = /^[-+]?(?:0|(?:(?:\d+(?:\.\d*)?|\.\d+)(?:ns|us|µs|μs|ms|s|m|h))+)$/

/**
 * Flag definition: { name, short?, type: 'string'|'bool'|'int'|'float'|'duration'|'stringSlice'|'stringArray',
 *   default?, noOptDefVal?, check?(value) → error text | undefined, normalize?(value) → value, deprecated? }
 */
function flag(name, type, opts = {}) {
  return { name, type, ...opts }
}

function flagLabel(d) {
  return d.short ? `-${d.short}, --${d.name}` : `--${d.name}`
}

function invalid(d, raw, why) {
  return new UsageError(`invalid argument ${JSON.stringify(raw)} for ${JSON.stringify(flagLabel(d))} flag: ${why}`)
}

function assign(values, explicit, d, raw) {
  let v = raw
  switch (d.type) {
    case 'bool':
      if (GO_TRUE.includes(raw)) v = true
      else if (GO_FALSE.includes(raw)) v = false
      else throw invalid(d, raw, `strconv.ParseBool: parsing ${JSON.stringify(raw)}: invalid syntax`)
      break
    case 'int':
      if (!/^[+-]?\d+$/.test(raw)) throw invalid(d, raw, `strconv.ParseInt: parsing ${JSON.stringify(raw)}: invalid syntax`)
      v = Number(raw)
      break
    case 'float':
      if (raw.trim() === '' || Number.isNaN(Number(raw)))
        throw invalid(d, raw, `strconv.ParseFloat: parsing ${JSON.stringify(raw)}: invalid syntax`)
      v = Number(raw)
      break
    case 'duration':
      if (!GO_DURATION.test(raw)) throw invalid(d, raw, `time: invalid duration ${JSON.stringify(raw)}`)
      break
    case 'stringSlice': {
      const parts = raw === '' ? [] : raw.split(',')
      v = explicit.has(d.name) ? [...values[d.name], ...parts] : parts
      break
    }
    case 'stringArray':
      v = explicit.has(d.name) ? [...values[d.name], raw] : [raw]
      break
    default:
      break
  }
  if (d.check) {
    const why = d.check(v)
    if (why) throw invalid(d, raw, why)
  }
  if (d.normalize) v = d.normalize(v)
  values[d.name] = v
  explicit.add(d.name)
}

/** Does `token` look like a flag (so that taking it as the previous flag's value is almost surely a bug)? */
function looksLikeFlag(token) {
  return token.length > 1 && token.startsWith('-') && !/^-\d/.test(token)
}

/**
 * Parse `tokens` (minus the indexes in `skip`, the command words) against `defs` like spf13/pflag.
 * Deviation (documented): a value flag whose next token looks like a flag is an error here, where pflag
 * would silently take `--repository` as the value of `--owner`.
 * @returns {{ values: object, explicit: Set<string>, positionals: string[], deprecations: string[] }}
 */
function parseFlags(tokens, skip, defs) {
  const longs = new Map()
  const shorts = new Map()
  const values = {}
  for (const d of defs) {
    longs.set(d.name, d)
    if (d.short) shorts.set(d.short, d)
    values[d.name] = d.default !== undefined ? d.default : d.type === 'bool' ? false : d.type.endsWith('Slice') || d.type.endsWith('Array') ? [] : ''
  }
  const explicit = new Set()
  const positionals = []
  const deprecations = []
  const takeValue = (i, label) => {
    const next = i + 1
    if (next >= tokens.length || skip.has(next)) throw new UsageError(`flag needs an argument: ${label}`)
    if (looksLikeFlag(tokens[next]))
      throw new UsageError(
        `flag needs an argument: ${label} (shim: the next argument ${JSON.stringify(tokens[next])} looks like a flag; the real tool would take it as the value)`,
      )
    return tokens[next]
  }
  const noteDeprecated = (d) => {
    if (d.deprecated) deprecations.push(`Flag --${d.name} has been deprecated, ${d.deprecated}`)
  }
  for (let i = 0; i < tokens.length; i++) {
    if (skip.has(i)) continue
    const t = tokens[i]
    if (t === '--') {
      for (let j = i + 1; j < tokens.length; j++) if (!skip.has(j)) positionals.push(tokens[j])
      break
    }
    if (t.startsWith('--')) {
      const eq = t.indexOf('=')
      const name = eq < 0 ? t.slice(2) : t.slice(2, eq)
      const d = longs.get(name)
      if (!d) throw new UsageError(`unknown flag: --${name}`)
      let raw
      if (eq >= 0) raw = t.slice(eq + 1)
      else if (d.type === 'bool') raw = 'true'
      else if (d.noOptDefVal !== undefined) raw = d.noOptDefVal
      else {
        raw = takeValue(i, `--${name}`)
        i++
      }
      assign(values, explicit, d, raw)
      noteDeprecated(d)
    } else if (t.startsWith('-') && t.length > 1) {
      let rest = t.slice(1)
      while (rest.length > 0) {
        const c = rest[0]
        const d = shorts.get(c)
        if (!d) throw new UsageError(`unknown shorthand flag: '${c}' in ${t}`)
        if (rest[1] === '=') {
          assign(values, explicit, d, rest.slice(2))
          noteDeprecated(d)
          break
        }
        if (d.type === 'bool' || d.noOptDefVal !== undefined) {
          assign(values, explicit, d, d.type === 'bool' ? 'true' : d.noOptDefVal)
          noteDeprecated(d)
          rest = rest.slice(1)
          continue
        }
        if (rest.length > 1) {
          assign(values, explicit, d, rest.slice(1))
        } else {
          assign(values, explicit, d, takeValue(i, `'${c}' in ${t}`))
          i++
        }
        noteDeprecated(d)
        break
      }
    } else {
      positionals.push(t)
    }
  }
  return { values, explicit, positionals, deprecations }
}

/**
 * Find the command a command line names, like cobra's `Find`: flags are skipped (a flag without `=` that is
 * not a bool flag known at that level is assumed to take the next token as its value), non-flag tokens walk
 * down the tree.
 * A node: { name, flags: [...local], persistent: [...], children?: {name: node}, runnable?: bool, notImplemented?: bool }
 * @returns {{ node, chain: node[], skip: Set<number>, unknown?: string }}
 */
function findCommand(root, tokens) {
  const chain = [root]
  const skip = new Set()
  let node = root
  const visible = () => chain.flatMap((n, idx) => [...(n.persistent || []), ...(idx === chain.length - 1 ? n.flags || [] : [])])
  for (let i = 0; i < tokens.length; i++) {
    const t = tokens[i]
    if (t === '--') break
    if (t.startsWith('-') && t.length > 1) {
      if (t.includes('=')) continue
      const defs = visible()
      const d = t.startsWith('--')
        ? defs.find((f) => f.name === t.slice(2))
        : t.length === 2
          ? defs.find((f) => f.short === t[1])
          : { type: 'bool' } // -abc: a cluster, value (if any) attached
      if (d && (d.type === 'bool' || d.noOptDefVal !== undefined)) continue
      i++ // the flag's value
      continue
    }
    if (!node.children) break
    const child = node.children[t]
    if (!child) return { node, chain, skip, unknown: t }
    skip.add(i)
    chain.push(child)
    node = child
  }
  return { node, chain, skip }
}

/** All flags a command accepts: persistent flags of its ancestors and itself, plus its own. */
function flagsOf(chain) {
  const out = []
  chain.forEach((n, idx) => {
    out.push(...(n.persistent || []))
    if (idx === chain.length - 1) out.push(...(n.flags || []))
  })
  return out
}

// ---------------------------------------------------------------------------------------------
// YAML helpers

/** Split a YAML stream into plain objects; throws `{ yamlError }` on a syntax error. */
function parseYamlStream(text) {
  const Y = yaml()
  const docs = Y.parseAllDocuments(text)
  const out = []
  for (const doc of docs) {
    if (doc.errors && doc.errors.length > 0) {
      const e = doc.errors[0]
      const line = e.linePos && e.linePos[0] ? e.linePos[0].line : 1
      const err = new Error(`yaml: line ${line}: ${e.message.split('\n')[0].replace(/:$/, '')}`)
      err.yamlError = true
      throw err
    }
    out.push(doc.toJS({ maxAliasCount: 100 }))
  }
  return out
}

/** Read every `.yaml`/`.yml`/`.json` file of a directory (sorted) as one list of documents. */
function readYamlDir(dir) {
  const files = fs
    .readdirSync(dir)
    .filter((f) => /\.(ya?ml|json)$/i.test(f))
    .sort()
  const docs = []
  for (const f of files) {
    for (const d of parseYamlStream(fs.readFileSync(path.join(dir, f), 'utf8'))) if (d != null) docs.push(d)
  }
  return docs
}

/** Print the result of an async main and end the process with its exit code, after recording the call. */
async function run(tool, main) {
  const argv = process.argv.slice(2)
  const ctx = { stdin: null }
  let code = 0
  try {
    code = (await main(argv, ctx)) ?? 0
  } catch (err) {
    if (err instanceof Exit) code = err.code
    else {
      process.stderr.write(`shim ${tool}: internal error: ${err && err.stack ? err.stack : err}\n`)
      code = 70
    }
  }
  try {
    // Record what was piped even when the command did not read it (a short look: never blocks a test).
    if (!ctx.stdin) ctx.stdin = await readStdin(Number(process.env.SHIM_STDIN_PEEK_MS || 100))
    record(tool, argv, ctx.stdin, code)
  } catch (err) {
    process.stderr.write(`shim ${tool}: cannot write SHIM_LOG: ${err.message}\n`)
    code = 70
  }
  process.exitCode = code
}

module.exports = {
  SECRET_ENV_VARS,
  UsageError,
  Exit,
  yaml,
  readStdin,
  secretEnv,
  record,
  loadState,
  saveState,
  knownContexts,
  fluxInstalled,
  flag,
  parseFlags,
  findCommand,
  flagsOf,
  parseYamlStream,
  readYamlDir,
  run,
  DEFAULT_CONTEXT,
}
