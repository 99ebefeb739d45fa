/** What the tenant actor keeps in memory between messages, reloaded whenever it (re)starts. */

/** The tenant actor's state. */
export interface TenantState {
  tenantId: string;
  /** The last seq this actor appended; null until read from the log (or after a failed append). */
  head: number | null;
}

/** Fresh state for a tenant actor that just took its lease. */
export const initialTenantState = (tenantId: string): TenantState => ({ tenantId, head: null });
