/** What the tenant actor keeps in memory between messages, reloaded whenever it (re)starts. */

/** The auto-assignment book as the tenant actor holds it (actors/tenant/assignment.ts). */
export interface AssignmentBook {
  enabled: boolean;
  /** division id (or `_none`) -> the agent who got the last conversation. */
  cursors: Map<string, string>;
  /** conversation id -> the agent holding it. */
  holderOf: Map<string, string>;
  /** agent id -> how many conversations they hold. */
  load: Map<string, number>;
  /** Waiting conversations -> their division, oldest first (a Map keeps insertion order). */
  queue: Map<string, string | null>;
  /** division id (or `_none`) -> how many of its conversations wait. */
  waiting: Map<string, number>;
  /**
   * Divisions (or `_none`) whose last look found no agent with room, and nothing has freed
   * capacity since: a new conversation there joins the queue without asking who is online.
   */
  saturated: Set<string>;
}

/** The tenant actor's state. */
export interface TenantState {
  tenantId: string;
  /** The last seq this actor appended; null until read from the log (or after a failed append). */
  head: number | null;
  /** When this actor last wrote the head hint (src/models/event.ts). */
  headRecordedAt: number;
  /** Null until an assignment message needs it. */
  assignment: AssignmentBook | null;
}

/** Fresh state for a tenant actor that just took its lease. */
export const initialTenantState = (tenantId: string): TenantState => ({ tenantId, head: null, headRecordedAt: 0, assignment: null });
