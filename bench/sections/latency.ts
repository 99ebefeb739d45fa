/**
 * With AGENTS agent sockets connected: heap per idle socket, then webhooks offered at a steady
 * rate, timing each webhook's answer and its trip to the sockets. Baselines, each in its own
 * process: a bare Socket.IO server (heap per socket, and `POST /emit` -> broadcast to as many
 * sockets, timed the same way) and a no-op Koa route answering the same webhook bytes at the
 * same rate. A trip is timed on a few probe sockets spread over the connection order, until the
 * last probe has it, so a fan-out that reaches the first sockets early and the last late shows.
 */
import { randomBytes } from 'node:crypto';
import { timedPost } from '../support/api.js';
import { Arrivals, createdKey, describeStep, runStep, withServerCpu, type KeyOf, type StepResult } from '../support/arrivals.js';
import { spawnBenchProcess, waitIdle, type BenchProcess } from '../support/child.js';
import { customerMessage, newCustomer, type BenchContext } from '../support/context.js';
import { closeAll, openSockets, type FrameHandler } from '../support/sockets.js';
import { ms, offer, pct, sleep } from '../support/stats.js';
import { times } from '../support/summary.js';

const PROBES = 5;
// Untimed requests a freshly spawned baseline gets first, as the server got its warm-up.
const WARM_UP = 50;

/** Heap per socket and a steady-rate step, with `agents` sockets connected to `p`. */
async function underAgents(ctx: BenchContext, p: BenchProcess, auth: Record<string, unknown>, keyOf: KeyOf, step: (arrivals: Arrivals) => Promise<StepResult>, onFrame?: FrameHandler) {
  const { agents } = ctx.settings;
  const probes = new Map(Array.from({ length: PROBES }, (_, k) => [Math.round((k * (agents - 1)) / (PROBES - 1)), k] as const));
  const arrivals = new Arrivals(probes.size, keyOf);
  const before = await p.heapUsed();
  const sockets = await openSockets(p.url, agents, () => auth, (i) => {
    const probe = probes.get(i);
    if (probe === undefined) return undefined;
    const handler = arrivals.handler(probe);
    return (json) => {
      onFrame?.(json);
      handler(json);
    };
  });
  await sleep(1000); // let connection handlers settle before weighing
  const heapPerSocket = ((await p.heapUsed()) - before) / agents;
  const result = await withServerCpu([p], () => step(arrivals));
  closeAll(sockets);
  return { heapPerSocket, result };
}

const kib = (bytes: number) => `${(bytes / 1024).toFixed(1)} KiB`;

/** The heap, answer-latency and socket-latency rows. */
export async function measureLatencyAndHeap(ctx: BenchContext): Promise<void> {
  const { agents, latencyRate: rate, seconds, drainSeconds } = ctx.settings;
  console.log(`\nLatency at ${rate} msg/s offered for ${seconds} s, ${agents} agent sockets connected; heap per idle socket`);
  let frameBytes = 600;
  const ours = await underAgents(
    ctx,
    ctx.server,
    { token: ctx.tenant.token },
    createdKey,
    (arrivals) => runStep(arrivals, rate, seconds, drainSeconds * 1000, () => customerMessage(ctx, ctx.server.url, newCustomer())),
    (json) => {
      if (json.startsWith('["message.created"')) frameBytes = json.length;
    },
  );
  console.log(describeStep(ours.result, 'msg'));

  await waitIdle([ctx.server]); // the baselines must not share the machine with our backlog
  const env = { PATH: process.env.PATH };
  const bareProcess = await spawnBenchProcess('bare socket.io', 'bench/support/baseline-main.ts', env, ['socket-io']);
  const pad = randomBytes(Math.ceil(frameBytes / 2)).toString('hex').slice(0, frameBytes); // a broadcast as large as a message.created
  let n = 0;
  for (let i = 0; i < WARM_UP; i++) await timedPost(`${bareProcess.url}/emit`, JSON.stringify({ key: 'warm-up', pad }));
  const bare = await underAgents(
    ctx,
    bareProcess,
    {},
    (event, payload) => (event === 'm' ? String((payload as { key: string }).key) : null),
    (arrivals) =>
      runStep(arrivals, rate, seconds, drainSeconds * 1000, () => {
        const key = `b${n++}`;
        return { key, send: () => timedPost(`${bareProcess.url}/emit`, JSON.stringify({ key, pad })) };
      }),
  );
  await bareProcess.stop();
  console.log(`${describeStep(bare.result, 'broadcast')}   <- bare Socket.IO, ${frameBytes}-byte payload`);

  const noopProcess = await spawnBenchProcess('no-op koa', 'bench/support/baseline-main.ts', env, ['noop']);
  const noopAnswers: number[] = [];
  const noopPost = () => timedPost(`${noopProcess.url}/api/webhooks/meta`, customerMessage(ctx, noopProcess.url, newCustomer()).body);
  for (let i = 0; i < WARM_UP; i++) await noopPost();
  await offer(rate, seconds, async () => {
    noopAnswers.push((await noopPost()).ms);
  });
  await noopProcess.stop();
  console.log(`  no-op Koa route, same bytes at ${rate}/s: answer p50 ${ms(pct(noopAnswers, 0.5))} p99 ${ms(pct(noopAnswers, 0.99))}`);
  console.log(`  heap per idle socket: ours ${kib(ours.heapPerSocket)}, bare Socket.IO ${kib(bare.heapPerSocket)}`);

  const answerP99 = pct(ours.result.answers, 0.99);
  const noopP99 = pct(noopAnswers, 0.99);
  const tripP99 = pct(ours.result.latencies, 0.99);
  const bareP99 = pct(bare.result.latencies, 0.99);
  const allArrived = ours.result.delivered === ours.result.sent && ours.result.failed === 0;
  ctx.rows.push(
    {
      rank: 4,
      measure: `webhook answer p99 at ${rate} msg/s, ${agents} agents`,
      ours: ms(answerP99),
      baseline: `${ms(noopP99)} (no-op Koa)`,
      ratio: times(answerP99 / noopP99),
      goal: '<= 3x and <= 250 ms',
      met: answerP99 / noopP99 <= 3 && answerP99 <= 250,
    },
    {
      rank: 5,
      measure: `webhook -> socket p99 at ${rate} msg/s, ${agents} agents`,
      ours: `${ms(tripP99)} (${ours.result.delivered}/${ours.result.sent} arrived)`,
      baseline: `${ms(bareP99)} (bare Socket.IO emit)`,
      ratio: times(tripP99 / bareP99),
      goal: '<= 200 ms',
      met: allArrived && tripP99 <= 200,
    },
    {
      rank: 7,
      measure: 'heap per idle agent socket',
      ours: kib(ours.heapPerSocket),
      baseline: `${kib(bare.heapPerSocket)} (bare Socket.IO)`,
      ratio: times(ours.heapPerSocket / bare.heapPerSocket),
      goal: '<= 1.5x',
      met: ours.heapPerSocket / bare.heapPerSocket <= 1.5,
    },
  );
}
