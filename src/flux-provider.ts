/**
 * Which `flux bootstrap <provider>` to run for the manifest repository, and
 * with which arguments and token. Pure: no processes, no environment reads.
 */
import type { FluxProvider, ResolvedFlux } from './config/types.js'
import { HomelabError } from './errors.js'
import { redact, redactUrl, urlHasPassword } from './redact.js'
import type { SourceLocation } from './errors.js'

/** A Git repository URL taken apart. `path` has no leading `/` and no `.git`. */
export interface RepositoryUrl {
  scheme: 'https' | 'http' | 'ssh'
  host: string
  port?: string
  user?: string
  path: string
}

/** The environment variable each provider's `flux bootstrap` reads its token from (flux2 cmd/flux/bootstrap_*.go). */
export const TOKEN_ENV: Readonly<Record<FluxProvider, string>> = {
  github: 'GITHUB_TOKEN',
  gitlab: 'GITLAB_TOKEN',
  gitea: 'GITEA_TOKEN',
  'bitbucket-server': 'BITBUCKET_TOKEN',
  git: 'GIT_PASSWORD',
}

/** Hosts whose provider is known without `flux.provider`. */
const KNOWN_HOSTS: Readonly<Record<string, FluxProvider>> = {
  'github.com': 'github',
  'gitlab.com': 'gitlab',
}

/** Hosts that compare repository paths without case, as their servers do. */
const CASE_INSENSITIVE_HOSTS = new Set(['github.com', 'gitlab.com'])

/** Where a config value sits, for error messages (optional: unit tests pass none). */
export type Locate = (path: ReadonlyArray<string | number>) => SourceLocation | undefined

/**
 * Parse `https://host/a/b.git`, `ssh://git@host:22/a/b` or the scp-like
 * `git@host:a/b.git`. Throws a HomelabError for anything else.
 */
export function parseRepositoryUrl(url: string, locate?: Locate): RepositoryUrl {
  const fail = (why: string) =>
    new HomelabError(`flux.repository "${redact(url)}" ${why}`, {
      location: locate?.(['flux', 'repository']),
      hint: 'use https://host/owner/repo.git or ssh://git@host/owner/repo',
    })
  // the config is committed: a password there is a leaked secret (and no message may quote it)
  if (repositoryHasPassword(url)) throw passwordError(url, locate)
  if (!url.includes('://')) {
    // the scp-like form git@host:owner/repo.git
    const scp = /^(?:([^@/\s]+)@)?([^:/\s]+):([^\s]+)$/.exec(url)
    if (!scp) throw fail('is not a URL')
    const path = cleanPath(scp[3]!)
    if (!path) throw fail('names no repository')
    return { scheme: 'ssh', user: scp[1], host: scp[2]!.toLowerCase(), path }
  }
  let parsed: URL
  try {
    parsed = new URL(url)
  } catch {
    throw fail('is not a URL')
  }
  const scheme = parsed.protocol.replace(/:$/, '')
  if (scheme !== 'https' && scheme !== 'http' && scheme !== 'ssh') throw fail(`has the scheme ${scheme}: only https and ssh repositories can be bootstrapped`)
  if (!parsed.hostname) throw fail('has no host')
  const path = cleanPath(decodeURIComponent(parsed.pathname))
  if (!path) throw fail('names no repository')
  return {
    scheme,
    host: parsed.hostname.toLowerCase(),
    port: parsed.port || undefined,
    user: parsed.username ? decodeURIComponent(parsed.username) : undefined,
    path,
  }
}

/**
 * A password in a `scheme://` URL (see urlHasPassword), or in the scp-like
 * form: a `:` before its first `@` (`user:pass@host:path`; `host:path@x`
 * too, which hiding too much beats leaking).
 */
export function repositoryHasPassword(url: string): boolean {
  return url.includes('://') ? urlHasPassword(url) : url.includes('@') && (url.split('@')[0] as string).includes(':')
}

function passwordError(url: string, locate?: Locate): HomelabError {
  const shown = url.includes('://') ? redactUrl(url) : redact(url.replace(/^[^]*@/, '***@'))
  return new HomelabError(`flux.repository ${shown} contains a password`, {
    location: locate?.(['flux', 'repository']),
    hint: `remove it from the URL; bootstrap and publish read the token from the environment (${Object.values(TOKEN_ENV).join(', ')}, by provider)`,
  })
}

function cleanPath(path: string): string {
  return path.replace(/^\/+/, '').replace(/\/+$/, '').replace(/\.git$/, '')
}

/**
 * The identity of a repository: host and path, without scheme, user, port or
 * `.git`. The https and ssh forms of one repository give the same key
 * (Flux stores `ssh://git@github.com/a/b` after bootstrapping `https://github.com/a/b.git`).
 * Bitbucket Server serves https clones under `/scm/` and ssh clones without it,
 * with the project key in any case (flux stores `ssh://git@host/proj/repo.git`
 * for `https://host/scm/PROJ/repo.git`). Only for that provider, and `scm/`
 * only off an https path: elsewhere it may be a real owner (a project keyed SCM
 * is `ssh://…/scm/repo`), and other servers may tell case apart.
 */
export function repositoryKey(url: string | RepositoryUrl, provider?: FluxProvider): string {
  const parsed = typeof url === 'string' ? parseRepositoryUrl(url) : url
  let path = parsed.path
  if (provider === 'bitbucket-server') path = (parsed.scheme === 'ssh' ? path : path.replace(/^scm\//, '')).toLowerCase()
  else if (CASE_INSENSITIVE_HOSTS.has(parsed.host)) path = path.toLowerCase()
  return `${parsed.host}/${path}`
}

/**
 * Whether two URLs name the same repository of `provider` (https vs ssh forms
 * compare equal). Unparseable URLs are never equal.
 */
export function sameRepository(a: string, b: string, provider?: FluxProvider): boolean {
  try {
    return repositoryKey(a, provider) === repositoryKey(b, provider)
  } catch {
    return false
  }
}

/** Everything `flux bootstrap` needs, decided from the config alone. */
export interface FluxTarget {
  provider: FluxProvider
  url: RepositoryUrl
  /** The variable holding the token; undefined when none is needed (provider git over ssh). */
  tokenEnv?: string
  /** The arguments after `flux`, secrets never among them. */
  args: string[]
  /** flux will ask a person something (git over ssh: "give the deploy key access"). */
  interactive?: boolean
}

/**
 * The provider: `flux.provider` when set, else github.com → github and
 * gitlab.com → gitlab, else `git` for an ssh URL (flux needs no API for it).
 * An https URL on another host without `flux.provider` is an error that says to set it.
 */
export function inferProvider(flux: Pick<ResolvedFlux, 'repository' | 'provider'>, locate?: Locate): FluxProvider {
  if (flux.provider) return flux.provider
  const url = parseRepositoryUrl(flux.repository, locate)
  const known = KNOWN_HOSTS[url.host]
  if (known) return known
  if (url.scheme === 'ssh') return 'git'
  throw new HomelabError(`cannot tell the Git provider of ${url.host} from flux.repository`, {
    location: locate?.(['flux', 'repository']),
    hint: 'set flux.provider to github, gitlab, gitea, bitbucket-server or git (and flux.hostname for a self-hosted server)',
  })
}

/** Owner and repository name from the URL path: GitLab owners may be nested groups; Bitbucket Server https paths start with scm/. */
export function ownerAndRepository(provider: FluxProvider, url: RepositoryUrl, locate?: Locate): { owner: string; repository: string } {
  let segments = url.path.split('/').filter(Boolean)
  if (provider === 'bitbucket-server' && segments[0] === 'scm') segments = segments.slice(1)
  const repository = segments.pop()
  // a Bitbucket Server user's repositories live under ~user
  const owner = provider === 'bitbucket-server' ? segments.join('/').replace(/^~/, '') : segments.join('/')
  const nestedOk = provider === 'gitlab'
  if (!repository || !owner || (!nestedOk && segments.length !== 1)) {
    throw new HomelabError(`flux.repository "${url.host}/${url.path}" does not look like <host>/<owner>/<repository> for ${provider}`, {
      location: locate?.(['flux', 'repository']),
      hint: provider === 'git' ? undefined : 'or set flux.provider: git to bootstrap with a plain Git URL',
    })
  }
  return { owner, repository }
}

/**
 * The `flux bootstrap <provider>` arguments for the config. Flags are the
 * real flux 2.x ones (cmd/flux/bootstrap*.go): `--owner --repository --branch
 * --path [--personal] [--hostname]` for the hosted providers, `--url --branch
 * --path` for git. Tokens stay out: flux reads them from its environment.
 */
export function planFluxTarget(flux: ResolvedFlux, locate?: Locate): FluxTarget {
  const provider = inferProvider(flux, locate)
  const url = parseRepositoryUrl(flux.repository, locate)
  const common = [`--branch=${flux.branch}`, `--path=${flux.path}`]
  if (provider === 'git') return planPlainGit(url, common, flux, locate)

  const { owner, repository } = ownerAndRepository(provider, url, locate)
  const args = ['bootstrap', provider, `--owner=${owner}`, `--repository=${repository}`, ...common]
  if (flux.personal) args.push('--personal')
  const hostname = apiHostname(provider, url, flux.hostname)
  if (hostname) args.push(`--hostname=${hostname}`)
  // Bitbucket Server's API user defaults to "git"; a user in the URL is the one the token belongs to
  if (provider === 'bitbucket-server' && url.user && url.user !== 'git' && !flux.personal) args.push(`--username=${url.user}`)
  return { provider, url, tokenEnv: TOKEN_ENV[provider], args }
}

/**
 * `--hostname`: `flux.hostname` when set; else, for a host that is not the
 * provider's default, the URL's host. gitea and bitbucket-server always get
 * one (flux has no usable default for them).
 */
function apiHostname(provider: FluxProvider, url: RepositoryUrl, configured?: string): string | undefined {
  if (configured) return configured
  if (provider === 'github' && url.host === 'github.com') return undefined
  if (provider === 'gitlab' && url.host === 'gitlab.com') return undefined
  return url.port && url.scheme !== 'ssh' ? `${url.host}:${url.port}` : url.host
}

/**
 * Plain git. Over https flux pushes with the password in GIT_PASSWORD (read
 * from its environment; we never pass --password) and `--token-auth` makes
 * the cluster pull over https with it too, instead of a new SSH deploy key.
 * Over ssh no token is needed: flux pushes with the SSH agent, then prints a
 * new deploy key and asks someone to add it to the repository, so that
 * command runs interactive (on the terminal, with no secret in its environment).
 */
function planPlainGit(url: RepositoryUrl, common: string[], flux: ResolvedFlux, locate?: Locate): FluxTarget {
  if (url.scheme === 'http') {
    throw new HomelabError(`flux.repository "${redact(flux.repository)}" uses plain http; flux bootstrap git sends the password over it only with --allow-insecure-http`, {
      location: locate?.(['flux', 'repository']),
      hint: 'use an https:// or ssh:// URL',
    })
  }
  if (url.scheme === 'ssh') {
    // flux parses --url with net/url: the scp-like form git@host:path has to become ssh://git@host/path
    const sshUrl = flux.repository.includes('://') ? flux.repository : `ssh://${flux.repository.replace(/:\/*/, '/')}`
    return { provider: 'git', url, interactive: true, args: ['bootstrap', 'git', `--url=${sshUrl}`, ...common] }
  }
  const args = ['bootstrap', 'git', `--url=${stripUser(flux.repository)}`, ...common, '--token-auth']
  if (url.user) args.push(`--username=${url.user}`)
  return { provider: 'git', url, tokenEnv: TOKEN_ENV.git, args }
}

/** An https URL without its user info (a password there would reach argv). */
function stripUser(url: string): string {
  const parsed = new URL(url)
  parsed.username = ''
  parsed.password = ''
  return parsed.toString()
}
