/**
 * The last events of the tenants this process has seen most recently, kept so that a reconnect
 * storm replays from memory instead of reading the log once per socket. Bounded twice: a window
 * of `perTenant` events per tenant, and at most `tenants` tenants (the least recently active is
 * forgotten first), so memory stays flat however many organizations publish; a tenant
 * forgotten here replays from the log.
 */
import type { DomainEvent } from '../events/types.js';

interface Window {
  events: Map<number, DomainEvent>;
  /** No remembered seq is below this. */
  floor: number;
}

/** Bounded per-tenant windows of recent events, by seq. */
export class RecentEvents {
  // Insertion order is recency: a tenant is moved to the end on every event.
  private readonly byTenant = new Map<string, Window>();

  constructor(
    private readonly perTenant: number,
    private readonly tenants = 500,
  ) {}

  /** Remembers an event, forgetting the tenant's oldest beyond its window and the stalest tenant beyond the bound. */
  add(e: DomainEvent): void {
    let window = this.byTenant.get(e.tenant_id);
    if (window) this.byTenant.delete(e.tenant_id);
    else window = { events: new Map(), floor: e.seq };
    this.byTenant.set(e.tenant_id, window);
    if (this.byTenant.size > this.tenants) this.byTenant.delete(this.byTenant.keys().next().value as string);
    if (window.events.has(e.seq)) return;
    window.events.set(e.seq, e);
    window.floor = Math.min(window.floor, e.seq);
    if (window.events.size > this.perTenant) {
      // The smallest seq goes, which is not always the first inserted (gap fills arrive late);
      // the floor only rises, so all evictions of a window together walk each seq once.
      while (!window.events.delete(window.floor)) window.floor++;
      window.floor++;
    }
  }

  /** Every event after `after` up to `upTo`, if all of them are remembered; otherwise null. */
  range(tenantId: string, after: number, upTo: number): DomainEvent[] | null {
    const window = this.byTenant.get(tenantId);
    const out: DomainEvent[] = [];
    for (let seq = after + 1; seq <= upTo; seq++) {
      const e = window?.events.get(seq);
      if (!e) return null;
      out.push(e);
    }
    return out;
  }

  /** How many tenants are remembered. */
  get size(): number {
    return this.byTenant.size;
  }
}
