/** The facts a reader needs to compare two runs: machine, runtime, engine versions, code measured. */
import { execFileSync } from 'node:child_process';
import os from 'node:os';
import { Redis } from 'ioredis';
import type mongoose from 'mongoose';

/** The database engine as it names itself in `buildInfo` and `hello`. */
export async function engineName(db: mongoose.mongo.Db): Promise<string> {
  const info = await db.admin().command({ buildInfo: 1 });
  const hello = await db.command({ hello: 1 });
  const topology = hello.setName ? `replica set ${String(hello.setName)}` : 'standalone';
  const engines = Array.isArray(info.storageEngines) ? ` over ${info.storageEngines.join(', ')}` : '';
  if (typeof info.secantusVersion === 'string') return `secantusd-rs ${info.secantusVersion} (reports MongoDB ${String(info.version)}${engines}, ${topology})`;
  if (info.ferretdb) return `FerretDB ${String((info.ferretdb as { version?: string }).version ?? info.version)} (${topology})`;
  return `MongoDB ${String(info.version)} (${topology})`;
}

async function redisVersion(url: string): Promise<string> {
  const redis = new Redis(url, { lazyConnect: true, maxRetriesPerRequest: 1 });
  try {
    await redis.connect();
    return /redis_version:(\S+)/.exec(await redis.info('server'))?.[1] ?? 'unknown';
  } finally {
    redis.disconnect();
  }
}

// Files whose changes do not change the code under test: the benchmark's own, and the docs.
const BENCH_FILES = /^(bench\/|jobs\/scheduler\.ts$|package(-lock)?\.json$|README\.md$)/;

/** The commit measured, and how many files outside the benchmark's own differ from it. */
function codeVersion(): string {
  const git = (...args: string[]) => execFileSync('git', args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] });
  try {
    const changed = git('status', '--porcelain', '--untracked-files=all')
      .split('\n')
      .filter(Boolean)
      .map((line) => line.slice(3));
    const server = changed.filter((path) => !BENCH_FILES.test(path)).length;
    return `commit ${git('rev-parse', '--short', 'HEAD').trim()}, ${server ? `${server} files of the server changed since (uncommitted work)` : 'server code as committed'}`;
  } catch {
    return 'not a git checkout';
  }
}

/** The header lines of a run. */
export async function machineFacts(db: mongoose.mongo.Db, redisUrl: string): Promise<string[]> {
  const cpus = os.cpus();
  return [
    `date:     ${new Date().toISOString()}`,
    `machine:  ${cpus.length} cores (${cpus[0]?.model.trim() ?? 'unknown cpu'}), ${(os.totalmem() / 2 ** 30).toFixed(0)} GiB, ${os.type()} ${os.release()}; load average ${os.loadavg()[0]?.toFixed(2)} at start`,
    `runtime:  node ${process.version}`,
    `database: ${await engineName(db)}`,
    `redis:    ${await redisVersion(redisUrl)}`,
    `code:     ${codeVersion()} in ${process.cwd()}`,
  ];
}
