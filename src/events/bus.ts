/**
 * The process's one subscription to committed domain events (`events:<tenant>`, published by
 * the tenant actor after each append: actors/tenant/events.ts). Every batch heard goes to the
 * every-process listeners (the realtime gateway) and wakes the durable listeners it concerns
 * (listener-runner.ts), which read the log themselves, so a lost publish delays them until the
 * catch-up pass but never loses an event for them.
 */
import { Redis } from 'ioredis';
import { logger } from '../logger.js';
import { appliesTo, type EveryProcessListener } from './listener.js';
import type { DurableListeners } from './listener-runner.js';
import type { DomainEvent } from './types.js';

/** The running subscription. */
export class EventBus {
  private readonly live = new Set<EveryProcessListener>();

  private constructor(
    private readonly subscriber: Redis,
    private readonly durable: DurableListeners,
  ) {}

  /** Subscribes on its own Redis connection (a subscribed connection can do nothing else). */
  static async start(redisUrl: string, durable: DurableListeners): Promise<EventBus> {
    const subscriber = new Redis(redisUrl);
    const bus = new EventBus(subscriber, durable);
    subscriber.on('pmessage', (_pattern: string, _channel: string, text: string) => bus.hear(text));
    await subscriber.psubscribe('events:*');
    return bus;
  }

  /** Adds an every-process listener; answers a function that removes it. */
  on(listener: EveryProcessListener): () => void {
    this.live.add(listener);
    return () => this.live.delete(listener);
  }

  async close(): Promise<void> {
    this.subscriber.disconnect();
  }

  private hear(text: string): void {
    let batch: DomainEvent[];
    try {
      batch = JSON.parse(text) as DomainEvent[];
    } catch (err) {
      logger.warn({ err }, 'ignoring an unreadable event publish');
      return;
    }
    const tenantId = batch[0]?.tenant_id;
    if (!tenantId) return;
    for (const listener of this.live) {
      for (const e of batch) {
        if (!appliesTo(listener, e.event)) continue;
        try {
          void Promise.resolve(listener.handle(e)).catch((err: unknown) => logger.error({ err, listener: listener.name, seq: e.seq }, 'listener failed on an event'));
        } catch (err) {
          logger.error({ err, listener: listener.name, seq: e.seq }, 'listener failed on an event');
        }
      }
    }
    this.durable.wake(tenantId, batch);
  }
}
