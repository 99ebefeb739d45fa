/**
 * Emits domain events: appended with the tenant's next seqs by the tenant actor, then fanned
 * out. Appends group-commit per tenant and process: while one append is on its way to the
 * tenant actor, the events emitted meanwhile wait and go together in the next one, so under
 * load a hundred concurrent changes cost a few inserts and publishes instead of a hundred.
 */
import { askTenant } from '../../actors/tenant/index.js';
import { naturalId } from '../ids.js';
import { findEventsByIds } from '../models/event.js';
import type { Audience, EventDraft, EventType } from './types.js';

/**
 * An event of the change identified by `changeKey`: the same change drafts the same id, so
 * appending it again after a crash or a retry stores nothing new.
 */
export function draftEvent(tenantId: string, changeKey: string, event: EventType, data: unknown, audience: Audience = { scope: 'tenant' }): EventDraft {
  return { id: eventIdOf(tenantId, changeKey, event), event, data, audience };
}

/** The id of the `event` that the change identified by `changeKey` causes. */
export const eventIdOf = (tenantId: string, changeKey: string, event: EventType): string => naturalId('event', tenantId, changeKey, event);

// Bounds one tenant-actor message (and one insert) under a burst.
const MAX_BATCH = 500;

interface Waiter {
  count: number;
  resolve(seqs: number[]): void;
  reject(err: unknown): void;
}

interface TenantQueue {
  drafts: EventDraft[];
  waiters: Waiter[];
  flying: boolean;
}

const queues = new Map<string, TenantQueue>();

/** Appends and publishes a change's events, in order; resolves with their seqs once durable. */
export function emitEvents(tenantId: string, drafts: EventDraft[]): Promise<number[]> {
  if (drafts.length === 0) return Promise.resolve([]);
  return new Promise<number[]>((resolve, reject) => {
    let queue = queues.get(tenantId);
    if (!queue) {
      queue = { drafts: [], waiters: [], flying: false };
      queues.set(tenantId, queue);
    }
    queue.drafts.push(...drafts);
    queue.waiters.push({ count: drafts.length, resolve, reject });
    if (!queue.flying) void fly(tenantId, queue);
  });
}

/** Appends and publishes one event; resolves with its seq once durable. */
export async function emitEvent(tenantId: string, draft: EventDraft): Promise<number> {
  const [seq] = await emitEvents(tenantId, [draft]);
  return seq ?? 0;
}

/** Appends those of a change's events that the log does not have yet (an outbox after a crash). */
export async function emitMissingEvents(tenantId: string, drafts: EventDraft[]): Promise<void> {
  const present = new Set((await findEventsByIds(tenantId, drafts.map((d) => d.id))).map((e) => e.id));
  await emitEvents(tenantId, drafts.filter((d) => !present.has(d.id)));
}

async function fly(tenantId: string, queue: TenantQueue): Promise<void> {
  queue.flying = true;
  while (queue.waiters.length > 0) {
    // Whole changes only: a change's events are never split across two appends.
    let take = 0;
    let size = 0;
    while (take < queue.waiters.length && (take === 0 || size + (queue.waiters[take]?.count ?? 0) <= MAX_BATCH)) {
      size += queue.waiters[take]?.count ?? 0;
      take++;
    }
    const waiters = queue.waiters.splice(0, take);
    const drafts = queue.drafts.splice(0, size);
    try {
      const { seqs } = await askTenant(tenantId, 'events.append', { events: drafts });
      let at = 0;
      for (const w of waiters) {
        w.resolve(seqs.slice(at, at + w.count));
        at += w.count;
      }
    } catch (err) {
      for (const w of waiters) w.reject(err);
    }
  }
  queue.flying = false;
  queues.delete(tenantId);
}
