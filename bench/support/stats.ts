/** Small measuring helpers: percentiles, paced offering, waiting, number formatting. */

/** The p-quantile (0..1) of the samples, NaN when there are none. */
export function pct(samples: number[], p: number): number {
  const s = [...samples].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor(s.length * p))] ?? NaN;
}

/** Resolves after `ms` milliseconds. */
export const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/** Milliseconds with one decimal, or an em dash. */
export const ms = (n: number) => (Number.isFinite(n) ? `${n.toFixed(1)} ms` : '—');

/** A rate with a unit. */
export const perSecond = (n: number, unit: string) => (Number.isFinite(n) ? `${n >= 100 ? n.toFixed(0) : n.toFixed(1)} ${unit}/s` : '—');

/** Calls `send(n)` `rate` times a second for `seconds`, on schedule (not waiting for answers), then awaits them all. */
export async function offer(rate: number, seconds: number, send: (n: number) => Promise<void>): Promise<void> {
  const total = Math.round(rate * seconds);
  const started = performance.now();
  const inflight: Promise<void>[] = [];
  for (let n = 0; n < total; n++) {
    const wait = started + (n * 1000) / rate - performance.now();
    if (wait > 0) await sleep(wait);
    inflight.push(send(n));
  }
  await Promise.all(inflight);
}

/** Polls `done` every 10 ms until it holds or `timeoutMs` passes; answers whether it held. */
export async function waitUntil(done: () => boolean, timeoutMs: number): Promise<boolean> {
  const end = performance.now() + timeoutMs;
  while (!done()) {
    if (performance.now() > end) return false;
    await sleep(10);
  }
  return true;
}

/** Runs `workers` loops of `once` until it answers false; answers the calls that did work. */
export async function drainWith(workers: number, once: () => Promise<boolean>): Promise<number> {
  let done = 0;
  await Promise.all(
    Array.from({ length: workers }, async () => {
      while (await once()) done++;
    }),
  );
  return done;
}
