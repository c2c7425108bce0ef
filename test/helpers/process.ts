import { spawn, type ChildProcess } from 'node:child_process';

/** Sends `signal` to a child that is still running and resolves once it has exited (at once if it already had). */
export async function stopProcess(child: ChildProcess, signal: NodeJS.Signals = 'SIGTERM'): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  child.kill(signal);
  await exited;
}

/** The service (`src/server.ts`) running as a child process, and the URL it listens on. */
export interface ServerProcess {
  child: ChildProcess;
  base: string;
}

/**
 * Starts `src/server.ts` under tsx with `env` (plus PATH, and PORT 0 on 127.0.0.1 unless
 * given) and resolves once its startup log names the address it listens on; rejects with
 * the end of its output if it exits or is silent for `timeoutMs` first. Its output keeps
 * being read (the last 20 kB), so a chatty server never blocks on a full pipe. Logs at info
 * or below, or the address line is never written.
 */
export async function startServerProcess(env: Record<string, string>, opts: { name?: string; timeoutMs?: number } = {}): Promise<ServerProcess> {
  const name = opts.name ?? 'the server';
  const timeoutMs = opts.timeoutMs ?? 30_000;
  const root = new URL('../../', import.meta.url).pathname;
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/server.ts'], {
    cwd: root,
    env: { PATH: process.env.PATH ?? '', PORT: '0', HOST: '127.0.0.1', ...env },
    stdio: ['ignore', 'pipe', 'ignore'],
  });
  let out = '';
  const base = await new Promise<string>((resolve, reject) => {
    let settled = false;
    const settle = (done: () => void) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      child.off('exit', onExit);
      done();
    };
    const fail = (why: string) =>
      settle(() => {
        child.kill('SIGKILL');
        reject(new Error(`${name} ${why}: ${out.slice(-2_000)}`));
      });
    const onExit = () => fail('exited at start');
    const timer = setTimeout(() => fail(`did not listen within ${timeoutMs} ms`), timeoutMs);
    child.once('exit', onExit);
    child.stdout?.on('data', (d: Buffer) => {
      out = (out + d.toString()).slice(-20_000);
      const m = settled ? null : /"address":"(http:\/\/127\.0\.0\.1:\d+)"/.exec(out);
      if (m?.[1]) settle(() => resolve(m[1] as string));
    });
  });
  return { child, base };
}
