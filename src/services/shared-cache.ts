/**
 * Per-process caches that every process forgets together. A value the hot path reads often and
 * that changes rarely (which tenant owns a provider account, a tenant's SLA policies) is kept in
 * each process for at most its cache's TTL; whoever changes it calls `forget`, which drops the
 * entry here at once and, over one Redis channel, in every other process. A message that never
 * arrives (a subscriber reconnecting) leaves an entry stale for at most the TTL, and every
 * (re)connection of the subscriber drops every entry, since it may have missed some.
 *
 * One subscriber serves every cache of the process (`watchSharedCaches`, started at boot).
 */
import { Redis } from 'ioredis';
import { appContext } from '../context.js';
import { logger } from '../logger.js';

/** The Redis channel every process's forgets travel on. */
export const SHARED_CACHES_CHANNEL = 'caches:forget';

/** What travels on the channel: the cache, and the key to forget (absent: every key). */
interface ForgetMessage {
  cache: string;
  key?: string;
}

interface Entry<V> {
  at: number;
  value: Promise<V>;
}

const caches = new Map<string, SharedCache<unknown>>();

/** One named cache of loaded values, per process; build it with `sharedCache`. */
export class SharedCache<V> {
  private readonly entries = new Map<string, Entry<V>>();

  constructor(
    /** Names the cache on the channel; unique in the process. */
    readonly name: string,
    private readonly ttlMs: number,
    /** Past this many keys, the oldest entry makes room (tenants come and go). */
    private readonly maxEntries: number,
  ) {}

  /** The value of `key`, remembered for the TTL; loaded once however many ask meanwhile. A failed load is not remembered. */
  get(key: string, load: () => Promise<V>): Promise<V> {
    const hit = this.entries.get(key);
    if (hit && Date.now() - hit.at < this.ttlMs) return hit.value;
    this.entries.delete(key);
    if (this.entries.size >= this.maxEntries) this.entries.delete(this.entries.keys().next().value as string);
    const entry: Entry<V> = { at: Date.now(), value: load() };
    this.entries.set(key, entry);
    entry.value.catch(() => {
      if (this.entries.get(key) === entry) this.entries.delete(key);
    });
    return entry.value;
  }

  /** Drops `key` (absent: every key) in this process only. */
  drop(key?: string): void {
    if (key === undefined) this.entries.clear();
    else this.entries.delete(key);
  }

  /** Forgets `key` (absent: every key) here and in every other process; call it after the change is stored. */
  async forget(key?: string): Promise<void> {
    this.drop(key);
    const msg: ForgetMessage = key === undefined ? { cache: this.name } : { cache: this.name, key };
    try {
      await appContext().redis.publish(SHARED_CACHES_CHANNEL, JSON.stringify(msg));
    } catch (err) {
      logger.warn({ err, cache: this.name }, 'telling other processes to forget cached entries failed; theirs expire on their own');
    }
  }
}

/** Declares the process's cache `name` (once per name). */
export function sharedCache<V>(name: string, opts: { ttlMs: number; maxEntries?: number }): SharedCache<V> {
  if (caches.has(name)) throw new Error(`shared cache ${name} declared twice`);
  const cache = new SharedCache<V>(name, opts.ttlMs, opts.maxEntries ?? 10_000);
  caches.set(name, cache as SharedCache<unknown>);
  return cache;
}

const dropAll = () => {
  for (const cache of caches.values()) cache.drop();
};

/** Applies other processes' `forget`s to this process's caches; answers a function that stops listening. */
export async function watchSharedCaches(redisUrl: string): Promise<() => void> {
  const sub = new Redis(redisUrl);
  sub.on('message', (_channel: string, raw: string) => {
    let msg: ForgetMessage;
    try {
      msg = JSON.parse(raw) as ForgetMessage;
    } catch {
      return dropAll();
    }
    caches.get(msg.cache)?.drop(msg.key);
  });
  // Messages published while the subscriber was away are lost: forget everything on each connection.
  sub.on('ready', dropAll);
  await sub.subscribe(SHARED_CACHES_CHANNEL);
  return () => sub.disconnect();
}
