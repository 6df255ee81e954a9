/**
 * A real smart-HTTP git server for tests: a small Node `http` server on
 * 127.0.0.1 that demands HTTP Basic auth and hands every authorised request
 * to `git http-backend` (one CGI process per request, so concurrent clones
 * and pushes are independent).
 *
 *   const server = await startGitServer({ token: 's3cret' });
 *   await server.createRepo('manifests', { 'README.md': '# hi\n' });
 *   // clone server.url('manifests') with password 's3cret' (any username)
 *   await server.log('manifests');   // [{ sha, parents, subject }, …] newest first
 *   await server.close();
 *
 * Repositories are bare, live under `server.root`, accept pushes
 * (`http.receivepack true`) and refuse non-fast-forward updates and branch
 * deletions on the server side too (`receive.denyNonFastForwards`,
 * `receive.denyDeletes`), so a forced push fails instead of silently
 * rewriting history.
 *
 * Racing pushes to one branch: exactly one lands. The other is rejected
 * client-side with `! [rejected] … (fetch first)` when it read the refs after
 * the winner landed, or — when both were inside receive-pack at once — with
 * `! [remote rejected] … (failed to update ref)` plus
 * `remote: error: cannot lock ref 'refs/heads/main': is at X but expected Y`.
 * Code that retries a rejected push must accept both.
 *
 * The git processes run by the server itself (http-backend, createRepo, log …)
 * use the real git binary, a private HOME and no system config, so neither the
 * machine's git config nor a git spy on PATH affects them.
 */
import { execFile, spawn } from 'node:child_process';
import { accessSync, constants as fsConstants, readFileSync } from 'node:fs';
import { appendFile, chmod, mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { delimiter, dirname, join, posix } from 'node:path';

export interface GitServerOptions {
  /** The password every request must carry (HTTP Basic). */
  token: string;
  /** If given, the Basic username must be exactly this as well; otherwise any username is accepted. */
  username?: string;
  /** The git binary for the server side; default: the first real `git` on PATH (a git spy is skipped), else /usr/bin/git. */
  git?: string;
}

export interface GitServerRequest {
  method: string;
  /** Request target as sent: path plus query, e.g. `/repo.git/info/refs?service=git-receive-pack`. */
  path: string;
  authorized: boolean;
  /** Basic-auth username, when credentials were sent. */
  username?: string;
  /** HTTP status sent back (set once the response head is written). */
  status?: number;
}

export interface GitCommitInfo {
  sha: string;
  parents: string[];
  subject: string;
}

export interface GitServer {
  /** `http://127.0.0.1:PORT/<name>.git` — no credentials in it. */
  url(repoName: string): string;
  /** Folder holding the bare repositories (`<root>/<name>.git`). */
  root: string;
  /** Create a bare repository with one initial commit holding `files` on `branch` (also its HEAD). */
  createRepo(name: string, files?: Record<string, string>, branch?: string): Promise<void>;
  /** Commits reachable from `branch` (default: the repo's HEAD branch), newest first; [] if the branch does not exist. */
  log(name: string, branch?: string): Promise<GitCommitInfo[]>;
  /** A file's content at `ref` (default HEAD), or undefined if absent. */
  readFile(name: string, path: string, ref?: string): Promise<string | undefined>;
  /** Every file path at `ref` (default HEAD), sorted. */
  listFiles(name: string, ref?: string): Promise<string[]>;
  /** Every HTTP request received, in arrival order. */
  requests: GitServerRequest[];
  /** Stderr of http-backend processes that wrote any (for debugging failed tests). */
  backendErrors: string[];
  /** Stop listening, drop open connections, delete `root`. */
  close(): Promise<void>;
}

const SPY_MARKER = 'homelab-git-spy';

/** The first executable `git` on PATH that is not a git spy wrapper; /usr/bin/git as a fallback. */
export function findRealGit(pathVar: string = process.env.PATH ?? ''): string {
  for (const dir of pathVar.split(delimiter)) {
    if (!dir) continue;
    const candidate = join(dir, 'git');
    try {
      accessSync(candidate, fsConstants.X_OK);
    } catch {
      continue;
    }
    try {
      if (readFileSync(candidate).subarray(0, 4096).includes(SPY_MARKER)) continue;
    } catch {
      continue;
    }
    return candidate;
  }
  return '/usr/bin/git';
}

/**
 * Write an askpass helper script into `dir`: it answers git's username prompt
 * with `username` and the password prompt with the value of the environment
 * variable `tokenEnv`. The token itself never appears in the script, argv or URL.
 */
export async function writeAskpassScript(
  dir: string,
  tokenEnv = 'HOMELAB_GIT_TOKEN',
  username = 'x-access-token',
): Promise<string> {
  if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(tokenEnv)) throw new Error(`bad env var name: ${tokenEnv}`);
  if (!/^[A-Za-z0-9._@-]+$/.test(username)) throw new Error(`bad username: ${username}`);
  const file = join(dir, 'git-askpass.sh');
  const script = [
    '#!/bin/sh',
    '# git calls this with the prompt as $1: "Username for ..." or "Password for ..."',
    'case "$1" in',
    `  Username*) printf '%s\\n' '${username}' ;;`,
    `  *) printf '%s\\n' "$${tokenEnv}" ;;`,
    'esac',
    '',
  ].join('\n');
  await writeFile(file, script, { mode: 0o700 });
  await chmod(file, 0o700);
  return file;
}

function checkRepoName(name: string): void {
  if (!/^[A-Za-z0-9][A-Za-z0-9._-]*$/.test(name) || name.includes('..') || name.endsWith('.git')) {
    throw new Error(`invalid repository name: ${JSON.stringify(name)} (give it without .git)`);
  }
}

/** A revision argument for the read helpers: default HEAD, never something git would take for an option. */
function rev(ref: string | undefined): string {
  if (ref === undefined) return 'HEAD';
  if (!ref || ref.startsWith('-')) throw new Error(`invalid ref: ${JSON.stringify(ref)}`);
  return ref;
}

function parseBasicAuth(header: string | undefined): { username: string; password: string } | undefined {
  if (!header) return undefined;
  const m = /^Basic\s+([A-Za-z0-9+/=]+)\s*$/i.exec(header);
  if (!m || !m[1]) return undefined;
  const decoded = Buffer.from(m[1], 'base64').toString('utf8');
  const colon = decoded.indexOf(':');
  if (colon < 0) return undefined;
  return { username: decoded.slice(0, colon), password: decoded.slice(colon + 1) };
}

/** Find the end of the CGI header block: index of the blank line and the separator length. */
function findHeaderEnd(buf: Buffer): { index: number; length: number } | undefined {
  const crlf = buf.indexOf('\r\n\r\n');
  const lf = buf.indexOf('\n\n');
  if (crlf < 0 && lf < 0) return undefined;
  if (lf < 0 || (crlf >= 0 && crlf < lf)) return { index: crlf, length: 4 };
  return { index: lf, length: 2 };
}

export async function startGitServer(options: GitServerOptions): Promise<GitServer> {
  if (!options.token) throw new Error('startGitServer: token must be a non-empty string');
  const git = options.git ?? findRealGit();
  const root = await mkdtemp(join(tmpdir(), 'homelab-git-server-'));
  const reposDir = join(root, 'repos');
  const home = join(root, 'home');
  await mkdir(reposDir, { recursive: true });
  await mkdir(home, { recursive: true });

  // Environment for every git process of the server: no user/system config,
  // nothing inherited that could change git's behaviour.
  const baseEnv: NodeJS.ProcessEnv = {
    PATH: [dirname(git), '/usr/bin', '/bin'].join(delimiter),
    HOME: home,
    LANG: 'C',
    LC_ALL: 'C',
    GIT_CONFIG_NOSYSTEM: '1',
    GIT_CONFIG_GLOBAL: join(home, '.gitconfig'),
    GIT_TERMINAL_PROMPT: '0',
  };
  await writeFile(join(home, '.gitconfig'), '');

  const requests: GitServerRequest[] = [];
  const backendErrors: string[] = [];

  function run(
    args: string[],
    opts: { cwd?: string; env?: NodeJS.ProcessEnv; allowFail?: boolean; input?: Buffer } = {},
  ) {
    return new Promise<{ code: number; stdout: Buffer; stderr: string }>((resolvePromise, reject) => {
      const child = execFile(
        git,
        args,
        { cwd: opts.cwd ?? root, env: { ...baseEnv, ...opts.env }, encoding: 'buffer', maxBuffer: 64 * 1024 * 1024 },
        (error, stdout, stderr) => {
          const code = error ? (typeof error.code === 'number' ? error.code : 1) : 0;
          const result = { code, stdout, stderr: stderr.toString('utf8') };
          if (error && !opts.allowFail) {
            reject(new Error(`git ${args.join(' ')} failed (${code}): ${result.stderr.trim()}`));
          } else {
            resolvePromise(result);
          }
        },
      );
      child.stdin?.on('error', () => {});
      child.stdin?.end(opts.input);
    });
  }

  function repoPath(name: string): string {
    checkRepoName(name);
    return join(reposDir, `${name}.git`);
  }

  function handle(req: http.IncomingMessage, res: http.ServerResponse): void {
    const rawUrl = req.url ?? '/';
    const entry: GitServerRequest = { method: req.method ?? 'GET', path: rawUrl, authorized: false };
    requests.push(entry);
    res.on('finish', () => {
      entry.status = res.statusCode;
    });

    const creds = parseBasicAuth(req.headers.authorization);
    if (creds) entry.username = creds.username;
    const authorized =
      creds !== undefined &&
      creds.password === options.token &&
      (options.username === undefined || creds.username === options.username);
    if (!authorized) {
      req.resume();
      res.writeHead(401, {
        'WWW-Authenticate': 'Basic realm="git"',
        'Content-Type': 'text/plain',
      });
      res.end('Authentication required\n');
      return;
    }
    entry.authorized = true;

    let url: URL;
    try {
      url = new URL(rawUrl, 'http://127.0.0.1');
    } catch {
      res.writeHead(400).end();
      return;
    }
    let pathInfo: string;
    try {
      pathInfo = decodeURIComponent(url.pathname);
    } catch {
      res.writeHead(400).end();
      return;
    }
    if (pathInfo.split('/').includes('..')) {
      req.resume();
      res.writeHead(403).end();
      return;
    }

    const env: NodeJS.ProcessEnv = {
      ...baseEnv,
      GIT_PROJECT_ROOT: reposDir,
      GIT_HTTP_EXPORT_ALL: '1',
      REQUEST_METHOD: req.method ?? 'GET',
      PATH_INFO: pathInfo,
      QUERY_STRING: url.search.startsWith('?') ? url.search.slice(1) : url.search,
      REMOTE_USER: creds.username,
      REMOTE_ADDR: req.socket.remoteAddress ?? '127.0.0.1',
      SERVER_PROTOCOL: `HTTP/${req.httpVersion}`,
      GATEWAY_INTERFACE: 'CGI/1.1',
    };
    const contentType = req.headers['content-type'];
    if (contentType) env.CONTENT_TYPE = contentType;
    const contentLength = req.headers['content-length'];
    if (contentLength) env.CONTENT_LENGTH = contentLength;
    const contentEncoding = req.headers['content-encoding'];
    if (contentEncoding) env.HTTP_CONTENT_ENCODING = contentEncoding;
    const gitProtocol = req.headers['git-protocol'];
    if (typeof gitProtocol === 'string') env.GIT_PROTOCOL = gitProtocol;

    const child = spawn(git, ['http-backend'], { env, stdio: ['pipe', 'pipe', 'pipe'] });
    let stderr = '';
    child.stderr.setEncoding('utf8');
    child.stderr.on('data', (chunk: string) => {
      stderr += chunk;
    });

    let head: Buffer | undefined = Buffer.alloc(0);
    let failed = false;
    const fail = (status: number, message: string) => {
      if (failed) return;
      failed = true;
      backendErrors.push(`${req.method} ${rawUrl}: ${message}`);
      if (!res.headersSent) {
        res.writeHead(status, { 'Content-Type': 'text/plain' });
        res.end(`${message}\n`);
      } else {
        res.destroy();
      }
    };

    child.on('error', (err) => {
      req.unpipe(child.stdin);
      fail(500, `cannot run git http-backend: ${err.message}`);
    });
    // The client may hang up (or the backend may stop reading) early: ignore EPIPE.
    child.stdin.on('error', () => {});
    res.on('close', () => {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
    });
    req.pipe(child.stdin);

    // Stream the body, respecting backpressure from slow clients.
    const forward = (chunk: Buffer) => {
      if (chunk.length > 0 && !res.write(chunk)) {
        child.stdout.pause();
        res.once('drain', () => child.stdout.resume());
      }
    };

    child.stdout.on('data', (chunk: Buffer) => {
      if (failed) return;
      if (head === undefined) {
        forward(chunk);
        return;
      }
      head = Buffer.concat([head, chunk]);
      const end = findHeaderEnd(head);
      if (!end) {
        if (head.length > 64 * 1024) fail(502, 'CGI response header too large');
        return;
      }
      const headerText = head.subarray(0, end.index).toString('latin1');
      const body = head.subarray(end.index + end.length);
      head = undefined;
      let status = 200;
      let statusMessage: string | undefined;
      const headers: Record<string, string | string[]> = {};
      for (const line of headerText.split(/\r?\n/)) {
        if (!line) continue;
        const colon = line.indexOf(':');
        if (colon <= 0) continue;
        const key = line.slice(0, colon).trim();
        const value = line.slice(colon + 1).trim();
        if (key.toLowerCase() === 'status') {
          const m = /^(\d{3})\s*(.*)$/.exec(value);
          if (m && m[1]) {
            status = Number(m[1]);
            if (m[2]) statusMessage = m[2];
          }
          continue;
        }
        const existing = headers[key];
        if (existing === undefined) headers[key] = value;
        else headers[key] = Array.isArray(existing) ? [...existing, value] : [existing, value];
      }
      if (statusMessage) res.writeHead(status, statusMessage, headers);
      else res.writeHead(status, headers);
      forward(body);
    });

    child.on('close', (code, signal) => {
      if (stderr.trim()) backendErrors.push(`${req.method} ${rawUrl}: ${stderr.trim()}`);
      if (failed) return;
      if (head !== undefined) {
        // Never got a complete header block.
        fail(502, `git http-backend ended without a response (exit ${code ?? signal})`);
        return;
      }
      res.end();
    });
  }

  const server = http.createServer(handle);
  server.keepAliveTimeout = 1000;
  await new Promise<void>((resolveListen, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      server.off('error', reject);
      resolveListen();
    });
  });
  const port = (server.address() as AddressInfo).port;

  let closed = false;

  return {
    root: reposDir,
    requests,
    backendErrors,

    url(repoName: string): string {
      checkRepoName(repoName);
      return `http://127.0.0.1:${port}/${repoName}.git`;
    },

    async createRepo(name: string, files: Record<string, string> = {}, branch = 'main'): Promise<void> {
      const gitDir = repoPath(name);
      if (!/^[A-Za-z0-9][A-Za-z0-9._/-]*$/.test(branch) || branch.includes('..')) {
        throw new Error(`createRepo: invalid branch name ${JSON.stringify(branch)}`);
      }
      await run(['init', '--bare', '-q', `--initial-branch=${branch}`, gitDir]);
      await appendFile(
        join(gitDir, 'config'),
        '[http]\n\treceivepack = true\n[receive]\n\tdenyNonFastForwards = true\n\tdenyDeletes = true\n\tautogc = false\n[gc]\n\tauto = 0\n',
      );
      // One `git fast-import` writes the blobs, tree and initial commit.
      const parts: Buffer[] = [];
      const text = (t: string) => parts.push(Buffer.from(t, 'utf8'));
      const data = (content: string) => {
        const bytes = Buffer.from(content, 'utf8');
        text(`data ${bytes.length}\n`);
        parts.push(bytes);
        text('\n');
      };
      const when = '1704067200 +0000';
      text(`commit refs/heads/${branch}\n`);
      text(`author Seed <seed@example.invalid> ${when}\n`);
      text(`committer Seed <seed@example.invalid> ${when}\n`);
      data('initial commit\n');
      for (const [rel, content] of Object.entries(files).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))) {
        const clean = posix.normalize(rel);
        if (!clean || clean.startsWith('/') || clean.startsWith('../') || clean === '..' || /[\n\r"\\]/.test(clean)) {
          throw new Error(`createRepo: unsupported file path ${JSON.stringify(rel)}`);
        }
        text(`M 100644 inline ${clean}\n`);
        data(content);
      }
      text('done\n');
      await run(['fast-import', '--quiet', '--done'], { cwd: gitDir, env: { GIT_DIR: gitDir }, input: Buffer.concat(parts) });
    },

    async log(name: string, branch?: string): Promise<GitCommitInfo[]> {
      const r = await run(['--git-dir', repoPath(name), 'log', '--format=%H%x00%P%x00%s%x1e', rev(branch), '--'], {
        allowFail: true,
      });
      if (r.code !== 0) return []; // no such branch (or an empty repository)
      return r.stdout
        .toString('utf8')
        .split('\x1e')
        .map((rec) => rec.replace(/^\n/, ''))
        .filter((rec) => rec.length > 0)
        .map((rec) => {
          const [commit = '', parents = '', subject = ''] = rec.split('\x00');
          return { sha: commit, parents: parents ? parents.split(' ') : [], subject };
        });
    },

    async readFile(name: string, path: string, ref?: string): Promise<string | undefined> {
      const r = await run(['--git-dir', repoPath(name), 'cat-file', 'blob', `${rev(ref)}:${path}`], {
        allowFail: true,
      });
      return r.code === 0 ? r.stdout.toString('utf8') : undefined;
    },

    async listFiles(name: string, ref?: string): Promise<string[]> {
      const r = await run(['--git-dir', repoPath(name), 'ls-tree', '-r', '-z', '--name-only', rev(ref), '--'], {
        allowFail: true,
      });
      if (r.code !== 0) return [];
      return r.stdout
        .toString('utf8')
        .split('\x00')
        .filter((p) => p.length > 0)
        .sort();
    },

    async close(): Promise<void> {
      if (closed) return;
      closed = true;
      await new Promise<void>((resolveClose) => {
        server.close(() => resolveClose());
        server.closeAllConnections();
      });
      // Backends killed by the close may still be exiting: retry briefly.
      await rm(root, { recursive: true, force: true, maxRetries: 5, retryDelay: 50 });
    },
  };
}
