/**
 * Emits domain events: appended with the tenant's next seqs by the tenant actor, then fanned
 * out. Appends group-commit per tenant and process (src/group-commit.ts): while one append is
 * on its way to the tenant actor, the events emitted meanwhile go together in the next one.
 */
import { askTenant } from '../../actors/tenant/index.js';
import { GroupCommit } from '../group-commit.js';
import { naturalId } from '../ids.js';
import { findEventsByIds } from '../models/event.js';
import type { Audience, EventDraft, EventType } from './types.js';

/**
 * An event of the change identified by `changeKey`: the same change drafts the same id, so
 * appending it again after a crash or a retry stores nothing new. Every event names its
 * audience (src/realtime/visibility.ts decides from it), so none goes to everyone by default.
 */
export function draftEvent(tenantId: string, changeKey: string, event: EventType, data: unknown, audience: Audience): EventDraft {
  return { id: eventIdOf(tenantId, changeKey, event), event, data, audience };
}

/** The id of the `event` that the change identified by `changeKey` causes. */
export const eventIdOf = (tenantId: string, changeKey: string, event: EventType): string => naturalId('event', tenantId, changeKey, event);

// One tenant-actor message (one insert, one publish) per batch of a tenant's events.
const appends = new GroupCommit<EventDraft, number>(async (tenantId, events) => (await askTenant(tenantId, 'events.append', { events })).seqs);

/** Appends and publishes a change's events, in order; resolves with their seqs once durable. */
export function emitEvents(tenantId: string, drafts: EventDraft[]): Promise<number[]> {
  return appends.add(tenantId, drafts);
}

/** Appends and publishes one event; resolves with its seq once durable. */
export async function emitEvent(tenantId: string, draft: EventDraft): Promise<number> {
  const [seq] = await emitEvents(tenantId, [draft]);
  return seq ?? 0;
}

/**
 * Appends those of a change's events that the log does not have yet (an outbox after a crash);
 * `fresh` drafts, known to be new (their change was claimed just now), go in the same append
 * without the look-up.
 */
export async function emitMissingEvents(tenantId: string, drafts: EventDraft[], fresh: EventDraft[] = []): Promise<void> {
  const present = new Set((await findEventsByIds(tenantId, drafts.map((d) => d.id))).map((e) => e.id));
  await emitEvents(tenantId, [...fresh, ...drafts.filter((d) => !present.has(d.id))]);
}
