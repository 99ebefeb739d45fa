/** Emits a domain event: appended with the tenant's next seq by the tenant actor, then fanned out. */
import { askTenant } from '../../actors/tenant/index.js';
import type { Audience, EventType } from './types.js';

/** Appends and publishes one event; resolves with its seq once it is durable. */
export async function emitEvent(tenantId: string, event: EventType, data: unknown, audience: Audience = { scope: 'tenant' }): Promise<number> {
  const { seq } = await askTenant(tenantId, 'events.append', { event, data, audience });
  return seq;
}
