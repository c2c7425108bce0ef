import { spawn } from 'node:child_process';
import { describe, expect, it } from 'vitest';

const root = new URL('../../', import.meta.url).pathname;

/** Runs the real server entry with a given environment (no inherited service variables). */
function runServer(env: Record<string, string>, timeoutMs = 15_000): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', 'src/server.ts'], {
      cwd: root,
      env: { PATH: process.env.PATH ?? '', ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`server did not exit within ${timeoutMs} ms; stderr: ${stderr}`));
    }, timeoutMs);
    child.on('exit', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}

describe('server process', () => {
  it('when several environment values are bad, then it exits non-zero with one error listing all of them', async () => {
    const r = await runServer({ PORT: 'http', MARKET_SOURCE: 'nyse', LOG_LEVEL: 'chatty', SYMBOLS: 'btc/usdt' });
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('invalid configuration (4 problems)');
    for (const name of ['PORT', 'MARKET_SOURCE', 'LOG_LEVEL', 'SYMBOLS']) expect(r.stderr).toContain(name);
    expect(r.stderr).not.toMatch(/at .*\.ts:\d+/); // a message, not a stack trace
  });

  it('when REDIS_URL points at nothing, then it fails at boot with a clear message and no password', async () => {
    const r = await runServer({ REDIS_URL: 'redis://user:s3cret-pass@127.0.0.1:1', LOG_LEVEL: 'silent' });
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('cannot connect to Redis');
    expect(r.stderr + r.stdout).not.toContain('s3cret-pass');
  });
});
