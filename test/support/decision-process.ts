import { spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const SCRIPT = fileURLToPath(new URL('./decision-server.ts', import.meta.url));

export interface DecisionProcess {
  pid: number;
  url: string;
  stop(): Promise<void>;
}

/**
 * A second Sekisho process (decision-server.ts: the real service, node + tsx) on the same
 * PostgreSQL database, pinned to `instant` or on the real clock; resolves once it listens.
 */
export async function spawnDecisionProcess(databaseUrl: string, opts: { instant?: Date; readyWithinMs?: number } = {}): Promise<DecisionProcess> {
  const args = ['--import', 'tsx', SCRIPT, databaseUrl, ...(opts.instant ? [opts.instant.toISOString()] : [])];
  const child = spawn(process.execPath, args, { cwd: ROOT, stdio: ['pipe', 'pipe', 'inherit'] });
  const stop = async () => {
    if (child.exitCode !== null || child.signalCode !== null) return;
    const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
    child.kill('SIGTERM');
    const timer = setTimeout(() => child.kill('SIGKILL'), 5000);
    await exited;
    clearTimeout(timer);
  };
  const readyWithinMs = opts.readyWithinMs ?? 100_000;
  const port = await new Promise<number>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`the decision process did not start within ${readyWithinMs / 1000} s`)), readyWithinMs);
    child.once('exit', (code, signal) => reject(new Error(`the decision process exited before it was ready (${code ?? signal})`)));
    createInterface({ input: child.stdout! }).on('line', (line) => {
      try {
        const msg = JSON.parse(line) as { ready?: boolean; port?: number };
        if (msg.ready && msg.port) {
          clearTimeout(timer);
          resolve(msg.port);
        }
      } catch {
        // not the ready line
      }
    });
  }).catch(async (err: unknown) => {
    await stop();
    throw err;
  });
  return { pid: child.pid!, url: `http://127.0.0.1:${port}`, stop };
}
