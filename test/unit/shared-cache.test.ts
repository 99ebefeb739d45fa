/**
 * Shared caches (src/services/shared-cache.ts): per-process entries that a `forget` in any
 * process clears in every process, over the run's real Redis and the test server's subscriber.
 */
import { randomUUID } from 'node:crypto';
import { expect } from 'chai';
import { Redis } from 'ioredis';
import { sharedCache, SHARED_CACHES_CHANNEL } from '../../src/services/shared-cache.js';
import { until } from '../support/whatsapp.js';

/** A cache of its own per test, and a loader that counts its loads. */
function counted(ttlMs = 60_000) {
  const cache = sharedCache<number>(`test-${randomUUID()}`, { ttlMs });
  let loads = 0;
  return { cache, load: async () => ++loads };
}

describe('shared caches', () => {
  let other: Redis;
  before(() => {
    other = new Redis(process.env.REDIS_URL ?? '');
  });
  after(() => other.disconnect());

  it('loads a key once, however many ask at once, until it is forgotten', async () => {
    const { cache, load } = counted();
    expect(await Promise.all([cache.get('k', load), cache.get('k', load)])).to.deep.equal([1, 1]);
    expect(await cache.get('k', load)).to.equal(1);
    expect(await cache.get('other', load)).to.equal(2);
    await cache.forget('k');
    expect(await cache.get('k', load)).to.equal(3);
    expect(await cache.get('other', load)).to.equal(2);
    await cache.forget();
    expect(await cache.get('other', load)).to.equal(4);
  });

  it('forgets an entry when another process forgets it', async () => {
    const { cache, load } = counted();
    expect(await cache.get('k', load)).to.equal(1);
    // What another process's forget('k') publishes, from a connection of its own.
    await other.publish(SHARED_CACHES_CHANNEL, JSON.stringify({ cache: cache.name, key: 'k' }));
    await until(async () => (await cache.get('k', load)) === 2, 'the entry forgotten by the other process');
    // Another cache's forget leaves this one alone (the marker's, published after it, shows it arrived).
    expect(await cache.get('marker', load)).to.equal(3);
    await other.publish(SHARED_CACHES_CHANNEL, JSON.stringify({ cache: `${cache.name}-not`, key: 'k' }));
    await other.publish(SHARED_CACHES_CHANNEL, JSON.stringify({ cache: cache.name, key: 'marker' }));
    await until(async () => (await cache.get('marker', load)) === 4, 'the marker forgotten');
    expect(await cache.get('k', load)).to.equal(2);
  });

  it('loads again after the TTL, and does not remember a failed load', async () => {
    const { cache, load } = counted(100);
    expect(await cache.get('k', load)).to.equal(1);
    await until(async () => (await cache.get('k', load)) === 2, 'the entry expired');
    const failing = sharedCache<number>(`test-${randomUUID()}`, { ttlMs: 60_000 });
    let tries = 0;
    const flaky = async () => {
      tries++;
      if (tries === 1) throw new Error('the database is away');
      return tries;
    };
    await failing.get('k', flaky).then(
      () => expect.fail('the first load fails'),
      (err: Error) => expect(err.message).to.equal('the database is away'),
    );
    expect(await failing.get('k', flaky)).to.equal(2);
  });
});
