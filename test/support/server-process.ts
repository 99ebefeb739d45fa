/** A second, real OmniStream server process for tests of failure and scale-out. */
import { spawn, type ChildProcess } from 'node:child_process';
import { createServer } from 'node:net';

/** A free loopback port. */
export const freePort = () =>
  new Promise<number>((resolve) => {
    const s = createServer().listen(0, '127.0.0.1', () => {
      const { port } = s.address() as { port: number };
      s.close(() => resolve(port));
    });
  });

/** A running server process. */
export interface ServerProcess {
  url: string;
  child: ChildProcess;
  kill(): void;
}

/** Starts `src/main.ts` with `env` on a free port and waits until it answers. */
export async function startServerProcess(env: Record<string, string>): Promise<ServerProcess> {
  const port = await freePort();
  const child = spawn(process.execPath, ['--import=tsx', 'src/main.ts'], {
    env: { ...process.env, NODE_ENV: 'test', ...env, PORT: String(port), HOST: '127.0.0.1' },
    stdio: 'ignore',
  });
  const url = `http://127.0.0.1:${port}`;
  for (let i = 0; i < 300; i++) {
    if (child.exitCode !== null) throw new Error(`server process exited with ${child.exitCode}`);
    try {
      await fetch(`${url}/api/health`);
      return { url, child, kill: () => child.kill('SIGKILL') };
    } catch {
      await new Promise((r) => setTimeout(r, 100));
    }
  }
  child.kill('SIGKILL');
  throw new Error('server process never answered');
}
