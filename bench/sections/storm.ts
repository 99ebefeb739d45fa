/**
 * Reconnect storm: STORM sockets connect and note the last seq each has seen, drop, miss
 * STORM_EVENTS webhooks' worth of events, then all reconnect at once with `since_seq`. Measured:
 * the time until every socket has its `sync.done`, and, per socket, the events after its
 * since_seq it did not get before `sync.done` (missed) or got twice (doubled). The list of events
 * each should get is what a socket that stayed connected throughout received live while they
 * were away.
 */
import { customerMessage, newCustomer, type BenchContext } from '../support/context.js';
import { closeAll, connectSocket, decoded, openSockets, RetryingSocket } from '../support/sockets.js';
import { sleep, waitUntil } from '../support/stats.js';

const seqOf = (payload: unknown) => (payload as { seq?: unknown } | null)?.seq;
const isSync = (event: string) => event.startsWith('sync.');

/** The storm row. */
export async function measureStorm(ctx: BenchContext): Promise<void> {
  const { storm: count, stormEvents } = ctx.settings;
  const { token } = ctx.tenant;
  const url = ctx.server.url;
  console.log(`\nReconnect storm: ${count} sockets resume with since_seq after missing ${stormEvents} webhooks' events`);

  // The authority: every event with a seq, received live by a socket that never drops.
  const live: number[] = [];
  let lastLiveAt = performance.now();
  let witnessReady = false;
  const witness = connectSocket(
    url,
    { token },
    decoded((event, payload) => {
      const seq = seqOf(payload);
      if (event === 'sync.done') witnessReady = true;
      else if (!isSync(event) && typeof seq === 'number') {
        live.push(seq);
        lastLiveAt = performance.now();
      }
    }),
  );
  if (!(await waitUntil(() => witnessReady, 30_000))) throw new Error('the storm witness socket never got sync.done');

  // Every socket connects and notes the last seq it has seen (the seq of its sync.done).
  const lastSeen = new Array<number>(count).fill(-1);
  let synced = 0;
  let connecting = performance.now();
  const sockets = await openSockets(url, count, () => ({ token }), (i) =>
    decoded((event, payload) => {
      const seq = seqOf(payload);
      if (event === 'sync.done') synced++;
      if (typeof seq === 'number') lastSeen[i] = Math.max(lastSeen[i] as number, seq);
    }),
  );
  await waitUntil(() => synced >= count, 30_000);
  if (lastSeen.some((seq) => seq < 0)) throw new Error('sync.done carried no seq, so a socket cannot know where to resume');
  console.log(`  ${count} sockets connected and synced in ${((performance.now() - connecting) / 1000).toFixed(1)} s (untimed), then dropped`);
  closeAll(sockets);

  // What they miss: webhooks, and every event those cause, until the log is quiet.
  const keys = new Set<string>();
  const witnessed = new Set<string>();
  const watch = connectSocket(url, { token }, decoded((event, payload) => event === 'message.created' && witnessed.add(String((payload as { data: { external_id: string } }).data.external_id))));
  const sending = performance.now();
  for (let i = 0; i < stormEvents; i++) {
    const m = customerMessage(ctx, url, newCustomer());
    keys.add(m.key);
    await m.send();
  }
  await waitUntil(() => [...keys].every((k) => witnessed.has(k)), 30_000);
  await waitUntil(() => performance.now() - lastLiveAt > 1000, 5000); // trailing events (conversation.updated...) too
  watch.close();
  console.log(`  ${witnessed.size}/${stormEvents} webhooks delivered to a connected socket in ${((performance.now() - sending) / 1000).toFixed(1)} s (untimed)`);

  // The storm: all at once; a socket whose connection is refused tries again from the last seq it got.
  const missedLive = [...live];
  const received = Array.from({ length: count }, () => [] as number[]);
  const beforeDone = new Array<number>(count).fill(-1);
  const doneAt = new Array<number>(count).fill(NaN);
  let syncRequired = 0;
  connecting = performance.now();
  const resumed = lastSeen.map(
    (since, i) =>
      new RetryingSocket(
        url,
        () => ({ token, since_seq: Math.max(since, ...(received[i] as number[])) }),
        decoded((event, payload) => {
          const seq = seqOf(payload);
          if (event === 'sync.required') syncRequired++;
          else if (event === 'sync.done' && Number.isNaN(doneAt[i])) {
            doneAt[i] = performance.now();
            beforeDone[i] = (received[i] as number[]).length;
          } else if (!isSync(event) && typeof seq === 'number') (received[i] as number[]).push(seq);
        }),
      ),
  );
  const allDone = await waitUntil(() => doneAt.every((t) => !Number.isNaN(t)), 60_000);
  const seconds = (Math.max(...doneAt.filter((t) => !Number.isNaN(t))) - connecting) / 1000;
  await sleep(500); // a doubled event may trail the sync.done
  const retried = resumed.filter((r) => r.retries > 0);
  let missed = 0;
  let doubled = 0;
  for (const [i, got] of received.entries()) {
    const since = lastSeen[i] as number;
    const replayed = new Set(got.slice(0, Math.max(0, beforeDone[i] as number)));
    doubled += got.length - new Set(got).size;
    // Missed: an event from while it was away that had not arrived by its sync.done.
    missed += missedLive.filter((seq) => seq > since && !replayed.has(seq)).length;
  }
  const caughtUp = doneAt.filter((t) => !Number.isNaN(t)).length;
  const expected = missedLive.filter((seq) => seq > (lastSeen[0] as number)).length;
  for (const r of resumed) r.close();
  witness.close();
  await sleep(200);

  console.log(`  storm: ${caughtUp}/${count} caught up after ${seconds.toFixed(2)} s; ${expected} events to replay each; missed ${missed}, doubled ${doubled}, sync.required ${syncRequired}`);
  if (retried.length) console.log(`  ${retried.length} sockets had their connection refused or reset and tried again (${retried.reduce((n, r) => n + r.retries, 0)} retries in all)`);
  ctx.rows.push({
    rank: 8,
    measure: `reconnect storm: ${count} sockets resume with since_seq`,
    ours: `${seconds.toFixed(2)} s, ${caughtUp}/${count} caught up, ${missed} missed, ${doubled} doubled (${expected} events each)`,
    baseline: '—',
    ratio: '—',
    goal: 'all <= 5 s, 0 missed, 0 doubled',
    met: allDone && seconds <= 5 && missed === 0 && doubled === 0 && syncRequired === 0,
  });
}
