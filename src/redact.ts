/**
 * The one place secrets are taken out of text. Every token the process knows
 * about is registered here (from the environment at start-up, or by the code
 * that reads it); every message that leaves the process (errors, command
 * output, dry-run plans) goes through `redact`.
 */

/** Environment variables whose values are secrets wherever they appear. */
export const SECRET_ENV_VARS = [
  'HOMELAB_GIT_TOKEN',
  'GITHUB_TOKEN',
  'GITLAB_TOKEN',
  'GITEA_TOKEN',
  'BITBUCKET_TOKEN',
  'GIT_PASSWORD',
] as const

const secrets = new Set<string>()

/** Remember a secret so that `redact` hides it from now on. Short values are ignored (they would mask ordinary text). */
export function registerSecret(value: string | undefined): void {
  if (value && value.length >= 4) {
    secrets.add(value)
    // also its forms in URLs and Basic auth headers
    const encoded = encodeURIComponent(value)
    if (encoded !== value) secrets.add(encoded)
  }
}

/** Register the values of every known secret variable of `env`. */
export function registerSecretsFromEnv(env: NodeJS.ProcessEnv = process.env): void {
  for (const name of SECRET_ENV_VARS) registerSecret(env[name])
}

/** Replace every registered secret, and any credentials in URLs, with `***`. */
export function redact(text: string): string {
  let out = text
  // longest first, so a secret that contains another is hidden whole
  for (const secret of [...secrets].sort((a, b) => b.length - a.length)) {
    out = out.split(secret).join('***')
  }
  // user:password@ in URLs, and Authorization headers
  // `git@` (ssh) is a fixed user name, not a secret; any other user or user:password is hidden
  out = out.replace(/(\b[a-z][a-z0-9+.-]*:\/\/)(?!git@)[^/\s:@]+(?::[^/\s@]*)?@/gi, '$1***@')
  out = out.replace(/(authorization:\s*(?:basic|bearer)\s+)[^\s'"]+/gi, '$1***')
  return out
}

/** Forget every registered secret (tests). */
export function clearSecrets(): void {
  secrets.clear()
}
