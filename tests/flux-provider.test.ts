import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import type { ResolvedFlux } from '../src/config/types.js'
import { HomelabError } from '../src/errors.js'
import { TOKEN_ENV, inferProvider, ownerAndRepository, parseRepositoryUrl, planFluxTarget, repositoryKey, sameRepository } from '../src/flux-provider.js'

/** A resolved flux block with the config defaults. */
function flux(fields: Partial<ResolvedFlux> & { repository: string }): ResolvedFlux {
  return { branch: 'main', path: 'flux', personal: true, kustomization: {}, ...fields }
}

function throwsHomelab(fn: () => unknown, pattern: RegExp): HomelabError {
  try {
    fn()
  } catch (error) {
    assert.instance(error, HomelabError)
    assert.match((error as HomelabError).message, pattern)
    return error as HomelabError
  }
  assert.unreachable('expected a HomelabError')
  throw new Error('unreachable')
}

const Urls = suite('parseRepositoryUrl')

Urls('https with .git', () => {
  assert.equal(parseRepositoryUrl('https://GitHub.com/alice/manifests.git'), {
    scheme: 'https', host: 'github.com', port: undefined, user: undefined, path: 'alice/manifests',
  })
})

Urls('ssh:// with user and port', () => {
  assert.equal(parseRepositoryUrl('ssh://git@git.example.com:2222/infra/manifests'), {
    scheme: 'ssh', host: 'git.example.com', port: '2222', user: 'git', path: 'infra/manifests',
  })
})

Urls('the scp-like form', () => {
  assert.equal(parseRepositoryUrl('git@github.com:alice/manifests.git'), { scheme: 'ssh', user: 'git', host: 'github.com', path: 'alice/manifests' })
})

Urls('refuses other schemes and non-URLs, pointing at flux.repository', () => {
  const error = throwsHomelab(
    () => parseRepositoryUrl('file:///srv/git/manifests', () => ({ file: 'homelab.config.yaml', line: 4, col: 15 })),
    /scheme file/,
  )
  assert.equal(error.location, { file: 'homelab.config.yaml', line: 4, col: 15 })
  throwsHomelab(() => parseRepositoryUrl('manifests'), /is not a URL/)
  throwsHomelab(() => parseRepositoryUrl('https://github.com/'), /names no repository/)
})

const Same = suite('sameRepository')

Same('https and ssh forms of one repository are equal', () => {
  assert.ok(sameRepository('https://github.com/a/b.git', 'ssh://git@github.com/a/b'))
  assert.ok(sameRepository('https://github.com/a/b', 'git@github.com:a/b.git'))
  assert.ok(sameRepository('https://gitlab.example.com/g/sub/r.git', 'ssh://git@gitlab.example.com:2222/g/sub/r.git'))
  assert.ok(sameRepository('https://github.com/Alice/Manifests.git', 'ssh://git@github.com/alice/manifests'), 'GitHub paths ignore case')
})

Same('another owner, repository or host differs', () => {
  assert.not.ok(sameRepository('https://github.com/a/b.git', 'ssh://git@github.com/a/c'))
  assert.not.ok(sameRepository('https://github.com/a/b.git', 'ssh://git@github.com/x/b'))
  assert.not.ok(sameRepository('https://github.com/a/b.git', 'ssh://git@gitlab.com/a/b'))
  assert.not.ok(sameRepository('https://git.example.com/A/b.git', 'https://git.example.com/a/b.git'), 'self-hosted paths keep case')
  assert.not.ok(sameRepository('https://github.com/a/b.git', 'not a url'))
})

Same('Bitbucket Server: the ssh form flux stores (no scm/, lower case) is the https repository', () => {
  const https = 'https://bitbucket.example.com/scm/PROJ/manifests.git'
  assert.ok(sameRepository('ssh://git@bitbucket.example.com/proj/manifests.git', https, 'bitbucket-server'))
  assert.ok(sameRepository('ssh://git@bitbucket.example.com:7999/proj/manifests.git', https, 'bitbucket-server'))
  assert.ok(sameRepository('ssh://git@bitbucket.example.com/~alice/manifests.git', 'https://alice@bitbucket.example.com/scm/~ALICE/manifests.git', 'bitbucket-server'))
})

Same('Bitbucket Server: other projects, repositories and hosts still differ', () => {
  const https = 'https://bitbucket.example.com/scm/PROJ/manifests.git'
  assert.not.ok(sameRepository('ssh://git@bitbucket.example.com/other/manifests.git', https, 'bitbucket-server'))
  assert.not.ok(sameRepository('ssh://git@bitbucket.example.com/proj/apps.git', https, 'bitbucket-server'))
  assert.not.ok(sameRepository('ssh://git@bitbucket.other.com/proj/manifests.git', https, 'bitbucket-server'))
  // a project keyed SCM: its ssh path starts with scm/, which is not the https prefix
  assert.not.ok(sameRepository('ssh://git@bitbucket.example.com/scm/manifests.git', 'https://bitbucket.example.com/scm/manifests.git', 'bitbucket-server'))
  assert.ok(sameRepository('ssh://git@bitbucket.example.com/scm/manifests.git', 'https://bitbucket.example.com/scm/SCM/manifests.git', 'bitbucket-server'))
})

Same('scm/ and case only count for bitbucket-server', () => {
  assert.not.ok(sameRepository('ssh://git@git.example.com/proj/manifests.git', 'https://git.example.com/scm/PROJ/manifests.git'))
  assert.not.ok(sameRepository('ssh://git@git.example.com/proj/manifests.git', 'https://git.example.com/scm/PROJ/manifests.git', 'git'))
})

Same('repositoryKey drops scheme, user, port and .git', () => {
  assert.is(repositoryKey('ssh://git@git.example.com:2222/infra/manifests.git'), 'git.example.com/infra/manifests')
})

const Provider = suite('inferProvider')

Provider('github.com and gitlab.com are known; flux.provider wins', () => {
  assert.is(inferProvider({ repository: 'https://github.com/a/b.git' }), 'github')
  assert.is(inferProvider({ repository: 'git@gitlab.com:g/r.git' }), 'gitlab')
  assert.is(inferProvider({ repository: 'https://github.com/a/b.git', provider: 'git' }), 'git')
  assert.is(inferProvider({ repository: 'https://git.example.com/a/b.git', provider: 'gitea' }), 'gitea')
})

Provider('an ssh URL on an unknown host is plain git', () => {
  assert.is(inferProvider({ repository: 'ssh://git@git.example.com/a/b.git' }), 'git')
})

Provider('an https URL on an unknown host without flux.provider says to set it', () => {
  const error = throwsHomelab(() => inferProvider({ repository: 'https://git.example.com/a/b.git' }), /cannot tell the Git provider of git\.example\.com/)
  assert.match(error.hint ?? '', /set flux\.provider/)
})

const Owner = suite('ownerAndRepository')

Owner('GitLab owners may be nested groups; others are one segment', () => {
  assert.equal(ownerAndRepository('gitlab', parseRepositoryUrl('https://gitlab.com/g/sub/r.git')), { owner: 'g/sub', repository: 'r' })
  assert.equal(ownerAndRepository('github', parseRepositoryUrl('https://github.com/a/b.git')), { owner: 'a', repository: 'b' })
  throwsHomelab(() => ownerAndRepository('github', parseRepositoryUrl('https://github.com/a/b/c.git')), /owner>\/<repository> for github/)
  throwsHomelab(() => ownerAndRepository('gitea', parseRepositoryUrl('https://git.example.com/b.git')), /for gitea/)
})

Owner('Bitbucket Server: scm/ prefix and ~user', () => {
  assert.equal(ownerAndRepository('bitbucket-server', parseRepositoryUrl('https://bb.example.com/scm/infra/manifests.git')), { owner: 'infra', repository: 'manifests' })
  assert.equal(ownerAndRepository('bitbucket-server', parseRepositoryUrl('ssh://git@bb.example.com:7999/~alice/manifests.git')), { owner: 'alice', repository: 'manifests' })
})

const Args = suite('planFluxTarget: the flux bootstrap arguments')

Args('github.com, personal (the default)', () => {
  const target = planFluxTarget(flux({ repository: 'https://github.com/alice/manifests.git' }))
  assert.is(target.provider, 'github')
  assert.is(target.tokenEnv, 'GITHUB_TOKEN')
  assert.equal(target.args, ['bootstrap', 'github', '--owner=alice', '--repository=manifests', '--branch=main', '--path=flux', '--personal'])
})

Args('GitHub Enterprise via flux.hostname, an organisation, another branch and path', () => {
  const target = planFluxTarget(
    flux({ repository: 'https://github.example.com/team/manifests.git', provider: 'github', hostname: 'github.example.com', personal: false, branch: 'prod', path: 'clusters/home' }),
  )
  assert.equal(target.args, ['bootstrap', 'github', '--owner=team', '--repository=manifests', '--branch=prod', '--path=clusters/home', '--hostname=github.example.com'])
})

Args('gitlab.com with a subgroup', () => {
  const target = planFluxTarget(flux({ repository: 'https://gitlab.com/group/sub/manifests.git', personal: false }))
  assert.equal(target.args, ['bootstrap', 'gitlab', '--owner=group/sub', '--repository=manifests', '--branch=main', '--path=flux'])
  assert.is(target.tokenEnv, 'GITLAB_TOKEN')
})

Args('self-hosted GitLab: --hostname from the URL when flux.hostname is unset', () => {
  const target = planFluxTarget(flux({ repository: 'https://gitlab.example.com/alice/manifests.git', provider: 'gitlab' }))
  assert.equal(target.args.slice(-2), ['--personal', '--hostname=gitlab.example.com'])
})

Args('gitea always gets --hostname', () => {
  const target = planFluxTarget(flux({ repository: 'https://git.example.com/alice/manifests.git', provider: 'gitea' }))
  assert.equal(target.args, ['bootstrap', 'gitea', '--owner=alice', '--repository=manifests', '--branch=main', '--path=flux', '--personal', '--hostname=git.example.com'])
  assert.is(target.tokenEnv, 'GITEA_TOKEN')
})

Args('bitbucket-server: project owner, hostname, the URL user as --username', () => {
  const target = planFluxTarget(
    flux({ repository: 'https://alice@bitbucket.example.com/scm/infra/manifests.git', provider: 'bitbucket-server', personal: false }),
  )
  assert.equal(target.args, [
    'bootstrap', 'bitbucket-server', '--owner=infra', '--repository=manifests', '--branch=main', '--path=flux', '--hostname=bitbucket.example.com', '--username=alice',
  ])
  assert.is(target.tokenEnv, 'BITBUCKET_TOKEN')
})

Args('git over https: --url without user info, --token-auth, GIT_PASSWORD', () => {
  const target = planFluxTarget(flux({ repository: 'https://bob@git.example.com/alice/manifests.git', provider: 'git' }))
  assert.equal(target.args, ['bootstrap', 'git', '--url=https://git.example.com/alice/manifests.git', '--branch=main', '--path=flux', '--token-auth', '--username=bob'])
  assert.is(target.tokenEnv, 'GIT_PASSWORD')
  assert.not.ok(target.interactive)
})

Args('git over ssh: no token, interactive, the scp form becomes ssh://', () => {
  const target = planFluxTarget(flux({ repository: 'git@git.example.com:alice/manifests.git' }))
  assert.equal(target.args, ['bootstrap', 'git', '--url=ssh://git@git.example.com/alice/manifests.git', '--branch=main', '--path=flux'])
  assert.is(target.tokenEnv, undefined)
  assert.ok(target.interactive)
})

Args('git over plain http is refused', () => {
  throwsHomelab(() => planFluxTarget(flux({ repository: 'http://git.example.com/a/b.git', provider: 'git' })), /plain http/)
})

Args('a password in flux.repository is refused, at its place in the config, without printing it', () => {
  const error = throwsHomelab(
    () => parseRepositoryUrl('https://user:s3cr3t-pass@git.example.com/a/b.git', () => ({ file: 'homelab.config.yaml', line: 4, col: 15 })),
    /flux\.repository https:\/\/\*\*\*@git\.example\.com\/a\/b\.git contains a password/,
  )
  assert.equal(error.location, { file: 'homelab.config.yaml', line: 4, col: 15 })
  assert.not.match(`${error.message} ${error.hint}`, /s3cr3t-pass/)
  throwsHomelab(() => planFluxTarget(flux({ repository: 'https://user:s3cr3t-pass@git.example.com/a/b.git', provider: 'git' })), /contains a password/)
  const scp = throwsHomelab(() => parseRepositoryUrl('git:s3cr3t-pass@git.example.com:a/b.git'), /flux\.repository \*\*\*@git\.example\.com:a\/b\.git contains a password/)
  assert.not.match(scp.message, /s3cr3t-pass/)
  // a password with / or @: URL parsers split it elsewhere (or fail, and the message quoted it), so all of it up to the last @ counts
  for (const [repository, shown] of [
    ['https://x:s3cr3t/pass@github.com/a/b.git', 'https://***@github.com/a/b.git'],
    ['https://x:s3cr@t-pass@github.com/a/b.git', 'https://***@github.com/a/b.git'],
    ['https://x:s3cr3t-pass/@git.example.com:8443/a/b.git', 'https://***@git.example.com:8443/a/b.git'],
    ['x:s3cr3t/pass@github.com:a/b.git', '***@github.com:a/b.git'],
    ['x:s3cr@t-pass@github.com:a/b.git', '***@github.com:a/b.git'],
  ]) {
    const error = throwsHomelab(() => parseRepositoryUrl(repository as string), /contains a password/)
    assert.ok(error.message.includes(`flux.repository ${shown} contains a password`), error.message)
    assert.not.match(error.message, /s3cr/)
  }
  // a user name alone is fine: flux bootstrap git gets it as --username
  assert.ok(planFluxTarget(flux({ repository: 'https://alice@git.example.com/a/b.git', provider: 'git' })).args.includes('--username=alice'))
})

Args('the token variable of each provider', () => {
  assert.equal(TOKEN_ENV, { github: 'GITHUB_TOKEN', gitlab: 'GITLAB_TOKEN', gitea: 'GITEA_TOKEN', 'bitbucket-server': 'BITBUCKET_TOKEN', git: 'GIT_PASSWORD' })
})

Urls.run()
Same.run()
Provider.run()
Owner.run()
Args.run()
