/**
 * The last events of each tenant this process has seen, kept so that a reconnect storm
 * replays from memory instead of reading the log once per socket.
 */
import type { DomainEvent } from '../events/types.js';

/** A bounded per-tenant window of recent events, by seq. */
export class RecentEvents {
  private readonly byTenant = new Map<string, Map<number, DomainEvent>>();

  constructor(private readonly perTenant: number) {}

  /** Remembers an event, forgetting the tenant's oldest beyond the window. */
  add(e: DomainEvent): void {
    let window = this.byTenant.get(e.tenant_id);
    if (!window) {
      window = new Map<number, DomainEvent>();
      this.byTenant.set(e.tenant_id, window);
    }
    if (window.has(e.seq)) return;
    window.set(e.seq, e);
    if (window.size > this.perTenant) {
      // Evict the smallest seq, which is not always the first inserted (gap fills arrive late).
      let oldest = Infinity;
      for (const seq of window.keys()) if (seq < oldest) oldest = seq;
      window.delete(oldest);
    }
  }

  /** Every event after `after` up to `upTo`, if all of them are remembered; otherwise null. */
  range(tenantId: string, after: number, upTo: number): DomainEvent[] | null {
    const window = this.byTenant.get(tenantId);
    const out: DomainEvent[] = [];
    for (let seq = after + 1; seq <= upTo; seq++) {
      const e = window?.get(seq);
      if (!e) return null;
      out.push(e);
    }
    return out;
  }
}
