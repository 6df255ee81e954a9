/**
 * The one place secrets are taken out of text. Every token the process knows
 * about is registered here (from the environment at start-up, or by the code
 * that reads it); every message that leaves the process (errors, command
 * output, dry-run plans) goes through `redact`.
 */
import { inspect } from 'node:util'

/** Environment variables whose values are secrets wherever they appear. */
export const SECRET_ENV_VARS = [
  'HOMELAB_GIT_TOKEN',
  'GITHUB_TOKEN',
  'GITLAB_TOKEN',
  'GITEA_TOKEN',
  'BITBUCKET_TOKEN',
  'GIT_PASSWORD',
] as const

/** The values registered. */
const registered = new Set<string>()
/** Every text redact hides: the values and their encoded forms. */
const secrets = new Set<string>()
/** The same texts, longest first (a secret that contains another is hidden whole). */
let ordered: string[] = []

/** Shortest base64 fragment registered: shorter ones could match ordinary text. */
const MIN_BASE64 = 8

/** Remember a secret so that `redact` hides it, in every form it travels in, from now on. Short values are ignored (they would mask ordinary text). */
export function registerSecret(value: string | undefined): void {
  if (!value || value.length < 4 || registered.has(value)) return
  registered.add(value)
  secrets.add(value)
  // in URLs and form bodies, with either case of hex digits
  const encoded = encodeURIComponent(value)
  if (encoded !== value) {
    secrets.add(encoded)
    secrets.add(encoded.replace(/%[0-9A-F]{2}/g, (escape) => escape.toLowerCase()))
  }
  // in a Basic auth credential (base64 of `user:token`, whatever the user) or any other base64 text
  for (const form of base64Forms(value)) secrets.add(form)
  // in a quoted string of a log line (NODE_DEBUG prints each child's environment through util.inspect),
  // and quoted twice (JSON text holding it, quoted in such a line)
  const escaped = escapedForms(value)
  for (const form of [...escaped, ...escaped.flatMap(escapedForms)]) secrets.add(form)
  ordered = [...secrets].sort((a, b) => b.length - a.length)
}

/**
 * The base64 text that every base64 encoding of a string holding `value`
 * contains: one form per position of `value` in base64's 3-byte groups,
 * without the edge characters that also depend on the bytes around it (the
 * technique of the GitHub Actions runner's secret masker). Those edge
 * characters stay visible: at most two bytes of the value at each end.
 */
export function base64Forms(value: string): string[] {
  const bytes = Buffer.from(value, 'utf8')
  const forms: string[] = []
  for (const shift of [0, 1, 2]) {
    const encoded = Buffer.concat([Buffer.alloc(shift), bytes]).toString('base64')
    const form = encoded.slice(shift === 0 ? 0 : 4, Math.floor((shift + bytes.length) / 3) * 4)
    if (form.length >= MIN_BASE64) forms.push(form)
  }
  return forms
}

/**
 * How `value` reads inside a string quoted by JSON.stringify or util.inspect:
 * with backslashes, quotes and control characters escaped (`\\`, `\t`,
 * `\x01`, `\u0001`), the quotes around it left out. util.inspect escapes `'`
 * only when it quotes with `'`, and picks its quote from the whole string it
 * prints (`'NAME=value'`), not from the value: both spellings are forms.
 */
export function escapedForms(value: string): string[] {
  const inspected = value.split("'").map((part) => inspect(part, { maxStringLength: Infinity }).slice(1, -1))
  const forms = new Set([JSON.stringify(value).slice(1, -1), inspected.join("'"), inspected.join("\\'")])
  forms.delete(value)
  return [...forms]
}

/** Register the values of every known secret variable of `env`. */
export function registerSecretsFromEnv(env: NodeJS.ProcessEnv = process.env): void {
  for (const name of SECRET_ENV_VARS) registerSecret(env[name])
}

/**
 * `scheme://` and what follows up to the last `@` before a space, quote or
 * angle bracket: the user info, if the URL has any. With a `:` in it, all of
 * it is user and password: a password may hold `/` or `@` (`https://x:pa/ss@host`,
 * which no URL parser reads as the user meant), and where a `:` and an `@`
 * could also be a port and a path (`https://host:8443/a@b`), hiding too much
 * beats leaking.
 */
const URL_USER_INFO = /(\b[a-z][a-z0-9+.-]*:\/\/)([^\s'"<>`]*)@/gi

/** A whole URL: up to its first `://` (whatever the scheme looks like), then everything up to its last `@`. */
const URL_HEAD = /^([^]*?:\/\/)([^]*)@/

/** Whether a `scheme://` URL holds a password: a `:` anywhere between the `://` and its last `@`. */
export function urlHasPassword(url: string): boolean {
  return URL_HEAD.exec(url)?.[2]?.includes(':') ?? false
}

/** A URL for a message: when it holds a password (see urlHasPassword), everything up to its last `@` hidden; then redact(). */
export function redactUrl(url: string): string {
  return redact(urlHasPassword(url) ? url.replace(URL_HEAD, '$1***@') : url)
}

/** The user info of a URL in text, hidden (see URL_USER_INFO); ssh's fixed user `git` alone is no secret. */
function hideUserInfo(match: string, scheme: string, userInfo: string): string {
  if (userInfo.includes(':')) return `${scheme}***@`
  // no password: the user is what comes before the first `@`, unless a `/` shows that `@` is in the path
  const user = userInfo.split('@')[0] as string
  if (user === '' || user.includes('/') || user === 'git') return match
  return `${scheme}***@${match.slice(scheme.length + user.length + 1)}`
}

/** Replace every registered secret (in each of its forms), credentials in URLs and Authorization header values with `***`. */
export function redact(text: string): string {
  let out = text
  for (const secret of ordered) out = out.split(secret).join('***')
  out = out.replace(URL_USER_INFO, hideUserInfo)
  out = out.replace(/(authorization:\s*(?:basic|bearer|token)\s+)[^\s'"]+/gi, '$1***')
  return out
}

/** Forget every registered secret (tests). */
export function clearSecrets(): void {
  registered.clear()
  secrets.clear()
  ordered = []
}
