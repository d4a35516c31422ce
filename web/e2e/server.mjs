// Builds the real binary from this worktree and runs it on a fresh data
// directory and a free port, with a platform key. Used by the e2e run and
// the Lighthouse script.
import { spawn, execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { randomBytes } from 'node:crypto';

const repo = resolve(import.meta.dirname, '../..');

function freePort() {
  return new Promise((ok, fail) => {
    const srv = createServer();
    srv.once('error', fail);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address();
      srv.close(() => ok(port));
    });
  });
}

/** Starts callboard; returns { base, platformKey, dataDir, cli(args), stdout(), stop() }. Without SMTP its mail is in dataDir/mail. */
export async function startServer({ demo = false } = {}) {
  const dir = mkdtempSync(join(tmpdir(), 'callboard-e2e-'));
  const bin = join(dir, 'callboard');
  execFileSync('go', ['build', '-o', bin, './cmd/callboard'], { cwd: repo, stdio: 'inherit' });
  const port = await freePort();
  const platformKey = randomBytes(24).toString('hex');
  const base = `http://127.0.0.1:${port}`;
  // Links in mail point here (the default, localhost, is another origin for the browser).
  const args = ['serve', '--addr', `127.0.0.1:${port}`, '--data-dir', join(dir, 'data'), '--public-url', base, '--log-level', 'warn'];
  if (demo) args.push('--demo');
  const proc = spawn(bin, args, {
    env: { ...process.env, CALLBOARD_PLATFORM_KEY: platformKey, CALLBOARD_DATABASE_URL: '', CALLBOARD_SMTP_URL: '' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  proc.stdout.on('data', (b) => (out += b));
  proc.stderr.on('data', (b) => process.stderr.write(b));
  const deadline = Date.now() + 60_000;
  for (;;) {
    if (proc.exitCode !== null) throw new Error(`callboard exited (${proc.exitCode}):\n${out}`);
    try {
      if ((await fetch(`${base}/healthz`)).ok) break;
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline) throw new Error('callboard did not become healthy');
    await new Promise((r) => setTimeout(r, 100));
  }
  return {
    base,
    platformKey,
    dataDir: join(dir, 'data'),
    /** Runs a callboard command (announce, user …) on the server's data directory; returns its output. */
    cli: (cmdArgs) =>
      execFileSync(bin, cmdArgs, {
        env: { ...process.env, CALLBOARD_DATA_DIR: join(dir, 'data'), CALLBOARD_DATABASE_URL: '', CALLBOARD_SMTP_URL: '', CALLBOARD_PUBLIC_URL: base },
        encoding: 'utf8',
        stdio: ['ignore', 'pipe', 'pipe'],
      }),
    stdout: () => out,
    async stop() {
      proc.kill('SIGTERM');
      await new Promise((r) => (proc.exitCode !== null ? r() : proc.once('exit', r)));
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

export const chromiumPath = process.env.CHROME_PATH || '/usr/bin/chromium';
export const chromiumArgs = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run', '--disable-quic'];
