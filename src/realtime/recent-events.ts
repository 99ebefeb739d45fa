/**
 * The last events each tenant published, kept in this process so that a reconnect storm
 * replays from memory instead of reading the log once per socket.
 */
import type { DomainEvent } from '../events/types.js';

/** A bounded per-tenant window of recent events, by seq. */
export class RecentEvents {
  private readonly byTenant = new Map<string, Map<number, DomainEvent>>();

  constructor(private readonly perTenant: number) {}

  /** Remembers an event, forgetting the tenant's oldest beyond the window. */
  add(e: DomainEvent): void {
    const window = this.byTenant.get(e.tenant_id) ?? new Map<number, DomainEvent>();
    window.set(e.seq, e);
    this.byTenant.set(e.tenant_id, window);
    if (window.size > this.perTenant) {
      const oldest = window.keys().next().value;
      if (oldest !== undefined) window.delete(oldest);
    }
  }

  /** The event with this seq, if still remembered. */
  get(tenantId: string, seq: number): DomainEvent | undefined {
    return this.byTenant.get(tenantId)?.get(seq);
  }
}
