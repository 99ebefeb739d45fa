/**
 * The benchmark's processes: every server under test runs in its own OS process, so the load
 * generator (the bench script and its sockets) does not run on the server's event loop. The
 * parent spawns `node --expose-gc --import=tsx <entry>` with an IPC channel; the child starts its
 * server, reports `{ type: 'ready', url }`, and answers `heap` (heapUsed after a full GC),
 * `cpu` (process.cpuUsage) and `stop`.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';

/** What a child serves: its URL and how to stop it. */
export interface Served {
  url: string;
  close(): Promise<void>;
}

/** A spawned benchmark process. */
export interface BenchProcess {
  name: string;
  url: string;
  pid: number;
  /** V8 heap in use after a full GC, in bytes. */
  heapUsed(): Promise<number>;
  /** CPU time used so far (user + system), in milliseconds. */
  cpuMs(): Promise<number>;
  /** Asks the child to close its server and exit; kills it if it has not after 10 s. */
  stop(): Promise<void>;
}

type Request = { type: 'heap' | 'cpu'; id: number } | { type: 'stop' };
type Reply = { type: 'ready'; url: string } | { type: 'value'; id: number; value: number } | { type: 'failed'; message: string };

const repoRoot = fileURLToPath(new URL('../..', import.meta.url));

/** Spawns `entry` (a path relative to the repository root) with `env` and waits until it serves. */
export async function spawnBenchProcess(name: string, entry: string, env: NodeJS.ProcessEnv, args: string[] = [], nodeFlags: string[] = []): Promise<BenchProcess> {
  const child = spawn(process.execPath, ['--expose-gc', ...nodeFlags, '--import=tsx', entry, ...args], {
    cwd: repoRoot,
    env,
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  const url = await new Promise<string>((resolve, reject) => {
    const onMessage = (m: Reply) => {
      if (m.type === 'ready') resolve(m.url);
      if (m.type === 'failed') reject(new Error(`${name} failed to start: ${m.message}`));
    };
    child.on('message', onMessage);
    void exited.then((code) => reject(new Error(`${name} exited with code ${code} before it served`)));
  });
  let nextId = 0;
  const ask = (type: 'heap' | 'cpu') =>
    new Promise<number>((resolve, reject) => {
      const id = ++nextId;
      const onMessage = (m: Reply) => {
        if (m.type !== 'value' || m.id !== id) return;
        child.off('message', onMessage);
        resolve(m.value);
      };
      child.on('message', onMessage);
      if (!child.send({ type, id } satisfies Request)) reject(new Error(`${name}: IPC channel closed`));
    });
  return {
    name,
    url,
    pid: child.pid ?? -1,
    heapUsed: () => ask('heap'),
    cpuMs: () => ask('cpu'),
    stop: () => stopChild(child, exited),
  };
}

async function stopChild(child: ChildProcess, exited: Promise<number | null>): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  child.send({ type: 'stop' } satisfies Request);
  const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
  await exited;
  clearTimeout(timer);
}

/** The child's side: starts what `start` builds, then answers the parent until told to stop. */
export async function serveParent(start: () => Promise<Served>): Promise<void> {
  const send = (m: Reply) => process.send?.(m);
  let served: Served;
  try {
    served = await start();
  } catch (err) {
    send({ type: 'failed', message: (err as Error).stack ?? String(err) });
    process.exit(1);
  }
  process.on('message', async (m: Request) => {
    if (m.type === 'heap') {
      global.gc?.();
      send({ type: 'value', id: m.id, value: process.memoryUsage().heapUsed });
    } else if (m.type === 'cpu') {
      const { user, system } = process.cpuUsage();
      send({ type: 'value', id: m.id, value: (user + system) / 1000 });
    } else if (m.type === 'stop') {
      await served.close().catch(() => undefined);
      process.exit(0);
    }
  });
  // The parent went away (Ctrl-C, crash): do not outlive it.
  process.on('disconnect', () => process.exit(0));
  send({ type: 'ready', url: served.url });
}

/**
 * Waits until `processes` are idle (under a tenth of a core over half a second), so one measure
 * does not pay for the backlog of the one before; answers false if they were still busy after
 * `timeoutMs`.
 */
export async function waitIdle(processes: BenchProcess[], timeoutMs = 60_000): Promise<boolean> {
  const cpu = async () => (await Promise.all(processes.map((p) => p.cpuMs()))).reduce((a, b) => a + b, 0);
  const end = performance.now() + timeoutMs;
  while (performance.now() < end) {
    const before = await cpu();
    await new Promise((resolve) => setTimeout(resolve, 500));
    if ((await cpu()) - before < 50) return true;
  }
  console.log(`  (still busy after ${timeoutMs / 1000} s: ${processes.map((p) => p.name).join(', ')})`);
  return false;
}
