/**
 * A logging `git` wrapper for tests.
 *
 *   const spy = await createGitSpy();
 *   // run the tool under test with PATH = `${spy.binDir}:${process.env.PATH}`
 *   spy.calls();   // [['clone', '--depth', '1', …], ['commit', …], …]
 *   await spy.cleanup();
 *
 * `<binDir>/git` appends its argv (without argv[0]) as one JSON array per line
 * to `logFile`, then execs the real git with the same arguments: stdin, stdout,
 * stderr, exit status and signals are git's own. It logs argv only — not the
 * environment — so a test can assert that a secret never reaches any git
 * command line.
 *
 * The real git is resolved with `command -v git` when the spy is created,
 * skipping binDir and any other spy on PATH. The wrapper is a Perl script
 * (Perl is a dependency of git on Debian/Ubuntu and starts in a few ms); where
 * no perl exists it falls back to a Node script.
 */
import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { chmod, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { delimiter, dirname, join } from 'node:path';

export interface GitSpy {
  /** Put this first on PATH for the process under test. */
  binDir: string;
  /** One JSON array (the argv after `git`) per line, in start order. */
  logFile: string;
  /** Absolute path of the git the wrapper execs. */
  realGit: string;
  /** Every logged git invocation so far. */
  calls(): string[][];
  /** `${binDir}${delimiter}${basePath}` — convenience for building a child env. */
  pathWith(basePath?: string): string;
  /** Forget the calls logged so far. */
  reset(): Promise<void>;
  /** Delete binDir and logFile. */
  cleanup(): Promise<void>;
}

const SPY_MARKER = 'homelab-git-spy';

function sh(command: string, env: NodeJS.ProcessEnv): Promise<string> {
  return new Promise((resolvePromise, reject) => {
    execFile('/bin/sh', ['-c', command], { env }, (error, stdout) => {
      if (error) reject(error);
      else resolvePromise(stdout.trim());
    });
  });
}

function isSpy(file: string): boolean {
  try {
    return readFileSync(file).subarray(0, 4096).includes(SPY_MARKER);
  } catch {
    return false;
  }
}

/** `command -v <name>` on PATH without `exclude` and without directories whose `git` is a spy. */
async function resolveCommand(name: string, exclude: string, pathVar: string): Promise<string | undefined> {
  const dirs = pathVar
    .split(delimiter)
    .filter((d) => d && d !== exclude && !(name === 'git' && isSpy(join(d, 'git'))));
  try {
    const found = await sh(`command -v ${name}`, { PATH: dirs.join(delimiter) });
    return found.startsWith('/') ? found : undefined;
  } catch {
    return undefined;
  }
}

/** A string literal for Perl's single-quoted syntax. */
function perlQuote(s: string): string {
  return `'${s.replace(/\\/g, '\\\\').replace(/'/g, "\\'")}'`;
}

function perlWrapper(perl: string, realGit: string, logFile: string): string {
  return `#!${perl}
# ${SPY_MARKER}: log argv as a JSON line, then exec the real git.
use strict;
use warnings;
my $real = ${perlQuote(realGit)};
my $log = ${perlQuote(logFile)};
my @items;
for my $arg (@ARGV) {
  my $s = $arg;
  $s =~ s/(["\\\\])/\\\\$1/g;
  $s =~ s/([\\x00-\\x1f\\x7f])/sprintf("\\\\u%04x", ord($1))/ge;
  push @items, "\\"$s\\"";
}
if (open(my $fh, '>>', $log)) {
  syswrite($fh, '[' . join(',', @items) . "]\\n");
  close($fh);
}
exec { $real } $real, @ARGV or die "git-spy: cannot exec $real: $!\\n";
`;
}

function nodeWrapper(node: string, realGit: string, logFile: string): string {
  return `#!${node}
// ${SPY_MARKER}: log argv as a JSON line, then run the real git.
'use strict';
const { appendFileSync } = require('node:fs');
const { spawn } = require('node:child_process');
const args = process.argv.slice(2);
try { appendFileSync(${JSON.stringify(logFile)}, JSON.stringify(args) + '\\n'); } catch {}
const child = spawn(${JSON.stringify(realGit)}, args, { stdio: 'inherit' });
for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP', 'SIGQUIT']) process.on(sig, () => child.kill(sig));
child.on('error', (e) => { process.stderr.write('git-spy: ' + e.message + '\\n'); process.exit(127); });
child.on('exit', (code, signal) => {
  if (signal) { process.removeAllListeners(signal); process.kill(process.pid, signal); }
  else process.exit(code ?? 1);
});
`;
}

export interface GitSpyOptions {
  /** The git to exec; default: `command -v git` on `pathVar` (binDir and other spies skipped). */
  realGit?: string;
  /** PATH to resolve git (and perl) on; default process.env.PATH. */
  pathVar?: string;
  /** Wrapper flavour; default 'perl' when perl is found, else 'node'. */
  kind?: 'perl' | 'node';
}

export async function createGitSpy(options: GitSpyOptions = {}): Promise<GitSpy> {
  const binDir = await mkdtemp(join(tmpdir(), 'homelab-git-spy-'));
  const logFile = join(binDir, 'calls.jsonl');
  const pathVar = options.pathVar ?? process.env.PATH ?? '/usr/bin:/bin';
  const realGit = options.realGit ?? (await resolveCommand('git', binDir, pathVar)) ?? '/usr/bin/git';
  const perl =
    options.kind === 'node'
      ? undefined
      : await resolveCommand('perl', binDir, `${pathVar}${delimiter}/usr/bin${delimiter}/bin`);
  if (options.kind === 'perl' && !perl) throw new Error('createGitSpy: no perl found');
  const script = perl ? perlWrapper(perl, realGit, logFile) : nodeWrapper(process.execPath, realGit, logFile);
  const wrapper = join(binDir, 'git');
  await writeFile(logFile, '');
  await writeFile(wrapper, script, { mode: 0o755 });
  await chmod(wrapper, 0o755);

  return {
    binDir,
    logFile,
    realGit,
    calls(): string[][] {
      let text: string;
      try {
        text = readFileSync(logFile, 'utf8');
      } catch {
        return [];
      }
      return text
        .split('\n')
        .filter((line) => line.length > 0)
        .map((line) => JSON.parse(line) as string[]);
    },
    pathWith(basePath: string = process.env.PATH ?? dirname(realGit)): string {
      return `${binDir}${delimiter}${basePath}`;
    },
    async reset(): Promise<void> {
      await writeFile(logFile, '');
    },
    async cleanup(): Promise<void> {
      await rm(binDir, { recursive: true, force: true });
    },
  };
}
