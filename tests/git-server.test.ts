/**
 * The real-git test infrastructure for `publish`: a smart-HTTP git server
 * with Basic auth (tests/helpers/git-server.ts) and a logging git wrapper
 * (tests/helpers/git-spy.ts). Every git client command here runs through the
 * spy, with the token handed to git only through GIT_ASKPASS + an env var.
 */
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { startGitServer, writeAskpassScript, type GitServer } from './helpers/git-server.js';
import { createGitSpy, type GitSpy } from './helpers/git-spy.js';

const TOKEN = `hl-test-token-${process.pid}-${Math.random().toString(36).slice(2)}`;

interface Ctx {
  server: GitServer;
  spy: GitSpy;
  tmp: string;
  askpass: string;
}
let ctx: Ctx;
let dirCounter = 0;

interface GitResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** Environment for client git processes: spy first on PATH, private HOME, no system config, no prompts. */
function clientEnv(token: string | undefined): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {
    PATH: ctx.spy.pathWith(process.env.PATH ?? '/usr/bin:/bin'),
    HOME: join(ctx.tmp, 'home'),
    LANG: 'C',
    LC_ALL: 'C',
    GIT_CONFIG_NOSYSTEM: '1',
    GIT_TERMINAL_PROMPT: '0',
    GIT_AUTHOR_NAME: 'Test',
    GIT_AUTHOR_EMAIL: 'test@example.invalid',
    GIT_COMMITTER_NAME: 'Test',
    GIT_COMMITTER_EMAIL: 'test@example.invalid',
  };
  if (token !== undefined) {
    env.GIT_ASKPASS = ctx.askpass;
    env.HOMELAB_GIT_TOKEN = token;
  }
  return env;
}

/** Run `git` (found on PATH, i.e. the spy) and never throw. */
function git(args: string[], opts: { cwd?: string; token?: string; input?: string } = {}): Promise<GitResult> {
  return new Promise((resolve) => {
    const child = execFile(
      'git',
      args,
      { cwd: opts.cwd ?? ctx.tmp, env: clientEnv(opts.token), encoding: 'utf8', timeout: 20_000 },
      (error, stdout, stderr) => {
        const code = error ? (typeof error.code === 'number' ? error.code : 1) : 0;
        resolve({ code, stdout, stderr });
      },
    );
    child.stdin?.end(opts.input);
  });
}

async function gitOk(args: string[], opts: { cwd?: string; token?: string; input?: string } = {}): Promise<string> {
  const r = await git(args, opts);
  if (r.code !== 0) throw new Error(`git ${args.join(' ')} exited ${r.code}: ${r.stderr}`);
  return r.stdout;
}

function newDir(label: string): string {
  dirCounter += 1;
  return join(ctx.tmp, `${label}-${dirCounter}`);
}

/** Clone over HTTP with the token from the askpass helper; `-c credential.helper=` shuts out any machine helper. */
async function cloneRepo(name: string, token = TOKEN, extra: string[] = []): Promise<string> {
  const dir = newDir(name);
  await gitOk(['-c', 'credential.helper=', 'clone', '-q', ...extra, ctx.server.url(name), dir], { token });
  return dir;
}

async function commitFile(dir: string, file: string, content: string, message: string): Promise<void> {
  await writeFile(join(dir, file), content);
  await gitOk(['add', '--', file], { cwd: dir });
  await gitOk(['commit', '-q', '-m', message], { cwd: dir });
}

function push(dir: string, token = TOKEN): Promise<GitResult> {
  return git(['-c', 'credential.helper=', 'push', 'origin', 'HEAD:refs/heads/main'], { cwd: dir, token });
}

test.before(async () => {
  const tmp = await mkdtemp(join(tmpdir(), 'homelab-git-server-test-'));
  await mkdir(join(tmp, 'home'));
  const [server, spy] = await Promise.all([startGitServer({ token: TOKEN }), createGitSpy()]);
  const askpass = await writeAskpassScript(tmp, 'HOMELAB_GIT_TOKEN');
  ctx = { server, spy, tmp, askpass };
});

test.after(async () => {
  await Promise.all([ctx.server.close(), ctx.spy.cleanup()]);
  await rm(ctx.tmp, { recursive: true, force: true });
});

test('createRepo builds a bare repo with an initial commit; log, readFile, listFiles read it', async () => {
  await ctx.server.createRepo('seeded', { 'README.md': '# hello\n', 'flux/flux-system/gotk.yaml': 'kind: x\n' });
  const log = await ctx.server.log('seeded');
  assert.is(log.length, 1);
  assert.is(log[0]?.subject, 'initial commit');
  assert.equal(log[0]?.parents, []);
  assert.match(log[0]?.sha ?? '', /^[0-9a-f]{40}$/);
  assert.equal(await ctx.server.listFiles('seeded'), ['README.md', 'flux/flux-system/gotk.yaml']);
  assert.is(await ctx.server.readFile('seeded', 'README.md'), '# hello\n');
  assert.is(await ctx.server.readFile('seeded', 'nope.txt'), undefined);
  assert.equal(await ctx.server.log('seeded', 'no-such-branch'), []);
  assert.ok(existsSync(join(ctx.server.root, 'seeded.git', 'HEAD')));

  await ctx.server.createRepo('other-branch', {}, 'production');
  assert.is((await ctx.server.log('other-branch'))[0]?.subject, 'initial commit', 'HEAD is the given branch');
  assert.equal(await ctx.server.listFiles('other-branch', 'production'), []);
  assert.match(ctx.server.url('seeded'), /^http:\/\/127\.0\.0\.1:\d+\/seeded\.git$/);
});

test('an unauthenticated or wrongly authenticated request gets 401 with a Basic challenge', async () => {
  const infoRefs = `${ctx.server.url('seeded')}/info/refs?service=git-upload-pack`;
  const anon = await fetch(infoRefs);
  assert.is(anon.status, 401);
  assert.is(anon.headers.get('www-authenticate'), 'Basic realm="git"');
  await anon.arrayBuffer();

  const basic = (user: string, pass: string) => `Basic ${Buffer.from(`${user}:${pass}`).toString('base64')}`;
  const wrong = await fetch(infoRefs, { headers: { Authorization: basic('x-access-token', 'nope') } });
  assert.is(wrong.status, 401);
  await wrong.arrayBuffer();

  const ok = await fetch(infoRefs, { headers: { Authorization: basic('anyone', TOKEN) } });
  assert.is(ok.status, 200);
  assert.is(ok.headers.get('content-type'), 'application/x-git-upload-pack-advertisement');
  assert.match(await ok.text(), /# service=git-upload-pack/);

  const last = ctx.server.requests.at(-1);
  assert.equal(
    { method: last?.method, path: last?.path, authorized: last?.authorized },
    { method: 'GET', path: '/seeded.git/info/refs?service=git-upload-pack', authorized: true },
  );
});

test('with options.username, the username must match as well', async () => {
  const strict = await startGitServer({ token: TOKEN, username: 'ci-bot' });
  try {
    const basic = (user: string) => `Basic ${Buffer.from(`${user}:${TOKEN}`).toString('base64')}`;
    const infoRefs = `${strict.url('absent')}/info/refs?service=git-upload-pack`;
    const other = await fetch(infoRefs, { headers: { Authorization: basic('someone') } });
    assert.is(other.status, 401);
    await other.arrayBuffer();
    const right = await fetch(infoRefs, { headers: { Authorization: basic('ci-bot') } });
    assert.is(right.status, 404, 'authorised, and http-backend reports the missing repository');
    await right.arrayBuffer();
    assert.equal(
      strict.requests.map((r) => [r.authorized, r.username, r.status]),
      [
        [false, 'someone', 401],
        [true, 'ci-bot', 404],
      ],
    );
  } finally {
    await strict.close();
  }
});

test('clone with the right token (from GIT_ASKPASS, never in the URL) works', async () => {
  await ctx.server.createRepo('clone-ok', { 'apps/a/x.yaml': 'x: 1\n' });
  const before = ctx.server.requests.length;
  const dir = await cloneRepo('clone-ok', TOKEN, ['--depth', '1', '--branch', 'main']);
  assert.is(await readFile(join(dir, 'apps/a/x.yaml'), 'utf8'), 'x: 1\n');

  const reqs = ctx.server.requests.slice(before);
  assert.ok(reqs[0] && !reqs[0].authorized && reqs[0].status === 401, 'first request is challenged');
  assert.ok(
    reqs.some((r) => r.authorized && r.method === 'POST' && r.path === '/clone-ok.git/git-upload-pack'),
    'an authorised upload-pack POST followed',
  );
  const config = await readFile(join(dir, '.git', 'config'), 'utf8');
  assert.not.match(config, TOKEN);
  assert.match(config, `url = ${ctx.server.url('clone-ok')}`);
  assert.is((await gitOk(['rev-parse', '--is-shallow-repository'], { cwd: dir })).trim(), 'true');
});

test('clone with a wrong token, or none, fails fast with an authentication error', async () => {
  await ctx.server.createRepo('clone-bad', { 'a.txt': 'a' });
  const before = ctx.server.requests.length;

  const wrongDir = newDir('wrong');
  const wrong = await git(['-c', 'credential.helper=', 'clone', ctx.server.url('clone-bad'), wrongDir], {
    token: 'not-the-token',
  });
  assert.is.not(wrong.code, 0);
  assert.match(wrong.stderr, /Authentication failed|401/);
  assert.not.ok(existsSync(wrongDir), 'no half-cloned folder is left behind');

  const noneDir = newDir('none');
  const none = await git(['-c', 'credential.helper=', 'clone', ctx.server.url('clone-bad'), noneDir]);
  assert.is.not(none.code, 0);
  assert.match(none.stderr, /terminal prompts disabled|Authentication failed|401/);

  assert.ok(
    ctx.server.requests.slice(before).every((r) => !r.authorized && r.status === 401),
    'nothing was served without the token',
  );
});

test('push a commit: the server log shows it on main', async () => {
  await ctx.server.createRepo('push-ok', { 'README.md': 'r\n' });
  const [initial] = await ctx.server.log('push-ok');
  const dir = await cloneRepo('push-ok', TOKEN, ['--depth', '1', '--branch', 'main']);
  await commitFile(dir, 'apps.yaml', 'apps: []\n', 'publish: render abc123');

  const r = await push(dir);
  assert.is(r.code, 0, r.stderr);

  const [log, content, files] = await Promise.all([
    ctx.server.log('push-ok', 'main'),
    ctx.server.readFile('push-ok', 'apps.yaml'),
    ctx.server.listFiles('push-ok'),
  ]);
  assert.is(log.length, 2);
  assert.equal(log[0]?.parents, [initial?.sha ?? '']);
  assert.is(log[0]?.subject, 'publish: render abc123');
  assert.is(content, 'apps: []\n');
  assert.equal(files, ['README.md', 'apps.yaml']);
  assert.ok(
    ctx.server.requests.some((q) => q.authorized && q.method === 'POST' && q.path === '/push-ok.git/git-receive-pack'),
  );

  // The server refuses a forced rewrite of history too.
  await gitOk(['commit', '-q', '--amend', '-m', 'rewritten'], { cwd: dir });
  const forced = await git(['-c', 'credential.helper=', 'push', '--force', 'origin', 'HEAD:refs/heads/main'], {
    cwd: dir,
    token: TOKEN,
  });
  assert.is.not(forced.code, 0);
  assert.match(forced.stderr, /non-fast-forward/);
  assert.is((await ctx.server.log('push-ok'))[0]?.sha, log[0]?.sha);
});

test('two concurrent pushes: one wins, the other is rejected; pushing again says "fetch first"', async () => {
  await ctx.server.createRepo('race', { 'README.md': 'r\n' });
  const [a, b] = await Promise.all([cloneRepo('race'), cloneRepo('race')]);
  if (!a || !b) throw new Error('clone failed');
  await Promise.all([commitFile(a, 'a.yaml', 'a\n', 'publisher a'), commitFile(b, 'b.yaml', 'b\n', 'publisher b')]);

  // Both publishers saw the same remote head: exactly one update can land.
  const results = await Promise.all([push(a), push(b)]);
  const winners = results.filter((r) => r.code === 0);
  const losers = results.filter((r) => r.code !== 0);
  assert.is(winners.length, 1, results.map((r) => r.stderr).join('\n---\n'));
  assert.is(losers.length, 1);
  // A loser that asked after the winner landed is told "(fetch first)"; one that raced the
  // winner inside receive-pack gets "[remote rejected] … (failed to update ref)" / "cannot lock ref".
  assert.match(
    losers[0]?.stderr ?? '',
    /\[rejected\][^\n]*\((fetch first|non-fast-forward)\)|\[remote rejected\][^\n]*\(failed to update ref\)|cannot lock ref/,
  );
  const [loserDir, winner] = results[0]?.code === 0 ? [b, 'publisher a'] : [a, 'publisher b'];

  // Whatever the race looked like, a plain retry is now a non-fast-forward: "fetch first".
  const again = await push(loserDir);
  assert.is.not(again.code, 0);
  assert.match(again.stderr, /\[rejected\][^\n]*\(fetch first\)/);

  // (Recovering — fetch, redo the commit on FETCH_HEAD, push — is publish's job and is tested there.)
  assert.equal(
    (await ctx.server.log('race')).map((c) => c.subject),
    [winner, 'initial commit'],
  );
});

test('concurrent pushes to different branches are all served', async () => {
  await ctx.server.createRepo('branches');
  const dirs = await Promise.all([cloneRepo('branches'), cloneRepo('branches')]);
  const results = await Promise.all(
    dirs.map(async (dir, i) => {
      await commitFile(dir, `f${i}.txt`, `${i}\n`, `commit ${i}`);
      return git(['-c', 'credential.helper=', 'push', 'origin', `HEAD:refs/heads/branch-${i}`], { cwd: dir, token: TOKEN });
    }),
  );
  for (const r of results) assert.is(r.code, 0, r.stderr);
  const logs = await Promise.all([ctx.server.log('branches', 'branch-0'), ctx.server.log('branches', 'branch-1')]);
  assert.equal(
    logs.map((l) => l[0]?.subject),
    ['commit 0', 'commit 1'],
  );
  assert.equal(ctx.server.backendErrors, []);
});

test('the git spy logs the argv of every git process and passes stdin, output and exit code through', async () => {
  const before = ctx.spy.calls().length;
  await ctx.server.createRepo('spied', { 'a.txt': 'a\n' });
  const dir = await cloneRepo('spied', TOKEN, ['--depth', '1']);
  const message = 'multi-line\n\nmessage with "quotes", \\ and \ttab, é';
  await gitOk(['commit', '-q', '--allow-empty', '-m', message], { cwd: dir });

  // stdin and stdout pass through; a failing git keeps its exit code and stderr.
  const hashed = await git(['hash-object', '--stdin'], { cwd: dir, input: 'hello\n' });
  assert.is(hashed.stdout.trim(), 'ce013625030ba8dba906f756967f9e9ca394464a');
  const missing = await git(['rev-parse', '--verify', '-q', 'refs/heads/does-not-exist'], { cwd: dir });
  assert.is(missing.code, 1);
  const fatal = await git(['-C', join(ctx.tmp, 'no-such-dir'), 'status']);
  assert.is(fatal.code, 128);
  assert.match(fatal.stderr, /cannot change to/);

  const calls = ctx.spy.calls().slice(before);
  assert.equal(calls, [
    ['-c', 'credential.helper=', 'clone', '-q', '--depth', '1', ctx.server.url('spied'), dir],
    ['commit', '-q', '--allow-empty', '-m', message],
    ['hash-object', '--stdin'],
    ['rev-parse', '--verify', '-q', 'refs/heads/does-not-exist'],
    ['-C', join(ctx.tmp, 'no-such-dir'), 'status'],
  ]);
});

test('across the whole suite the token never reached a git command line, a URL or the spy log', async () => {
  const calls = ctx.spy.calls();
  assert.ok(calls.some((argv) => argv.includes('push')), 'the suite did push through the spy');
  assert.ok(calls.some((argv) => argv.includes('clone')), 'the suite did clone through the spy');
  for (const argv of calls) {
    assert.ok(!argv.some((arg) => arg.includes(TOKEN)), `token in argv: ${JSON.stringify(argv)}`);
  }
  assert.not.match(await readFile(ctx.spy.logFile, 'utf8'), TOKEN);
  for (const r of ctx.server.requests) assert.not.match(r.path, TOKEN);
});

test.run();
