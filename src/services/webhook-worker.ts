/**
 * Processes stored webhook deliveries in this process (ARCHITECTURE invariant 6): at most
 * `concurrency` at once, oldest first. The HTTP route answers as soon as a delivery is stored
 * and hands it here; under a burst the queue absorbs it instead of one unbounded promise per
 * request. A delivery beyond `maxQueued`, or in a process that dies, is not lost: it is stored,
 * and the recovery pass takes it up at its `next_attempt_at`.
 */
import { logger } from '../logger.js';
import { flushWebhookRecords, processWebhook, type Delivery } from './inbound.js';

/** A bounded in-process queue of stored deliveries. */
export class WebhookWorker {
  private readonly queue: Delivery[] = [];
  private running = 0;
  private drainedWaiters: (() => void)[] = [];
  /** Callers of run(), by delivery id. */
  private readonly onDone = new Map<string, () => void>();
  private stopped = false;

  constructor(
    private readonly concurrency: number,
    private readonly maxQueued = 10_000,
  ) {}

  /** Queues a stored delivery; false when the queue is full (the recovery pass will take it). */
  enqueue(delivery: Delivery): boolean {
    if (this.stopped || this.queue.length >= this.maxQueued) return false;
    this.queue.push(delivery);
    this.pump();
    return true;
  }

  /** Processes a delivery now, counted against the same concurrency; resolves when done. */
  run(delivery: Delivery): Promise<void> {
    return new Promise((resolve) => {
      if (!this.enqueue(delivery)) return resolve();
      this.onDone.set(delivery.stored._id, resolve);
    });
  }

  /** Stops taking deliveries and resolves once the ones under way are done and recorded. */
  async stop(): Promise<void> {
    this.stopped = true;
    this.queue.length = 0;
    if (this.running > 0) await new Promise<void>((resolve) => this.drainedWaiters.push(resolve));
    await flushWebhookRecords();
  }

  private pump(): void {
    while (this.running < this.concurrency && this.queue.length > 0) {
      const next = this.queue.shift() as Delivery;
      const id = next.stored._id;
      this.running++;
      // The slot is free once the delivery is processed; its outcome's record lingers (inbound.ts).
      processWebhook(next)
        .then(({ recorded }) => void recorded.catch((err: unknown) => logger.error({ err, webhook: id }, 'recording a webhook outcome failed')))
        .catch((err: unknown) => logger.error({ err, webhook: id }, 'webhook processing crashed'))
        .finally(() => {
          this.running--;
          this.onDone.get(id)?.();
          this.onDone.delete(id);
          if (this.running === 0 && this.queue.length === 0) for (const w of this.drainedWaiters.splice(0)) w();
          this.pump();
        });
    }
  }
}
